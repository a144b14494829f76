"""The default backend: one ``<uuid>.json`` per session plus the ``index.json`` catalog.

Promises (DESIGN section 4): session files are the truth; every write is durable before it
returns; one store-wide lock serialises writers across processes; readers take no lock and retry
under it only when they catch a file mid-write; damage stays with the one session it hit.

The class is built in layers, each in its own module: :mod:`.json_store_base` (lock, journal,
folding), :mod:`.json_reading` (reading and torn-tail repair), :mod:`.json_catalog_view` (the
catalog against the folder), :mod:`.json_health` (``doctor``), :mod:`.json_replace` (rewriting
the last message in place), and here the public API.
"""

from __future__ import annotations

import atexit
import builtins
import os
import time
import warnings
from collections.abc import Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from ..errors import SessionNotFound, StorageError, StorageWarning
from ..ids import validate_id
from ..models import (
    FORMAT_VERSION,
    Message,
    Session,
    SessionSummary,
    summarize,
    summary_after_append,
)
from ..text import same_text
from . import catalog, catalog_lookup, files, in_step, json_trash, rewrite, session_codec
from .base import HealthReport, TrashedSession
from .catalog import Current, Drop, Put
from .json_replace import JsonReplaceLast
from .json_store_base import FOLD_AFTER_LINES, IDLE_FOLD_SECONDS, FileState, open_backends

if TYPE_CHECKING:
    from ..search import SearchHit
    from ..search_query import Query
    from .search_cache import Progress, SearchCache

__all__ = ["FOLD_AFTER_LINES", "IDLE_FOLD_SECONDS", "JsonBackend"]

_open_backends = open_backends  # the stores this process has not closed yet
SEARCH_CACHE_LOOK_SECONDS = 1.0  # how long "no search cache" is believed (_has_search_cache)
_HEX_TYPED = frozenset("0123456789abcdefABCDEF-")


class JsonBackend(JsonReplaceLast):
    """The JSON store of one environment folder (``root``), backend name ``json``."""

    name = "json"

    @property
    def search_cache(self) -> SearchCache:
        """The search index cache of this store (``storage.search_cache``)."""
        if self._search_cache is None:
            from .search_cache import SearchCache

            # Looked up at each use, so a wrapper or a test double of get() is honoured.
            self._search_cache = SearchCache(
                self.root, lambda: self.list(), lambda sid: self.get(sid)
            )
        return self._search_cache

    def _indexed(self, hook: str, *args: Any) -> None:
        """Tell the search cache about a write, when there is a cache to keep in step."""
        if self._has_search_cache():
            getattr(self.search_cache, hook)(*args)

    def _changed_behind(self, session_id: str) -> None:
        # The search cache stamps a session by its summary, which a hand edit of a message in
        # the middle leaves as it was: forget the session, the next search indexes it again.
        self._indexed("session_dropped", session_id)

    def _has_search_cache(self) -> bool:
        """Whether there is a search cache to keep in step (without one, the first search
        builds it).

        A process that has not searched looks for the file at most once a second, not on every
        append (DESIGN section 10): a cache another process makes meanwhile misses at most that
        second's writes, which its next search indexes, as it does any write it missed
        (``search_cache``).
        """
        if self._search_cache is not None:
            return True
        now = time.monotonic()
        if now < self._no_search_cache_until:
            return False
        if os.path.exists(self._search_cache_file):
            return True
        self._no_search_cache_until = now + SEARCH_CACHE_LOOK_SECONDS
        return False

    def check(self, repair: bool = False) -> HealthReport:
        """The store's health (DESIGN section 4), the search cache's included."""
        report = super().check(repair)
        json_trash.check(self, report, repair)
        self.search_cache.check(report, repair)
        return report

    def list(self) -> list[SessionSummary]:
        with self._mutex:
            view = self._reconcile()
            self._problems = {sid: d.error for sid, d in view.damaged.items()}
            self._problems.update(self._unreadable)
            # An entry whose file we may no longer open is kept in the catalog (it may become
            # readable again) but not listed as if it were fine.
            found = [s for s in view.sessions.values() if s.id not in self._unreadable]
            return sorted(found, key=lambda s: s.updated_at, reverse=True)

    def list_known(self) -> builtins.list[SessionSummary]:
        """The sessions index.json and the journal hold, without a look at any session file."""
        with self._mutex:
            view = self._fresh_view()
            return [s for s in view.sessions.values() if s.id not in self._unreadable]

    def known_by_id_prefix(self, prefix: str) -> builtins.list[SessionSummary] | None:
        """Sessions by id prefix from index.json's bytes (``catalog_lookup.entries_by_id``);
        None while this process holds the catalog (``list_known`` is cheap then), while the
        journal holds changes not folded into index.json, or when index.json cannot tell.
        The entries found and their stamps are kept in ``_peeked`` until this process writes."""
        if not prefix or not set(prefix) <= _HEX_TYPED:
            return None
        with self._mutex:
            if self._view.loaded:
                return None
            # The journal first: index.json read after it holds at least what it held then.
            try:
                journal = os.lstat(self.journal_path).st_size
            except OSError as exc:
                journal = 0 if isinstance(exc, FileNotFoundError) else 1
            if journal:
                return None
            try:
                data = self._index_bytes(os.stat(self.index_path, follow_symlinks=False))
            except OSError:
                return None
            found = catalog_lookup.entries_by_id(data, prefix.lower(), prefix)
            if found is None:
                return None
            # Kept, so that reading or writing the session found need not load the catalog.
            self._peeked.update((s.id, (s, stamp)) for s, stamp in found)
            return [s for s, _ in found if s.id not in self._unreadable]

    def known_by_name(self, name: str) -> builtins.list[SessionSummary] | None:
        """Sessions named ``name`` (the same text, NFC) from index.json's bytes
        (``catalog_lookup.entries_named``) with the journal's changes applied; None while this
        process holds the catalog (``list_known`` is cheap then), when index.json cannot tell,
        or when a fold replaced it while it was read. The entries found and their stamps are
        kept in ``_peeked`` until this process writes."""
        with self._mutex:
            if self._view.loaded:
                return None
            # Before the catalog, as ``_reconcile`` looks: a file another program added,
            # removed or replaced in ``sessions/`` is found by a ``list`` only.
            seen = self._folder_mtime()
            read = self._catalog_and_changes()
            if read is not None and (seen is None or catalog_lookup.folder_of(read[0]) != seen):
                read = None
            found = None if read is None else catalog_lookup.entries_named(read[0], name)
            if read is None or found is None:
                return None
            entries = catalog_lookup.with_changes(found, read[1], lambda s: same_text(s.name, name))
            self._peeked.update(entries)
            return [s for s, _ in entries.values() if s.id not in self._unreadable]

    def problems(self) -> dict[str, str]:
        return dict(self._problems)

    def get(self, session_id: str) -> Session:
        sid = validate_id(session_id)
        session, st = self._load(sid)
        self._notice_read(sid, session, st)
        return session

    def read_raw(self, session_id: str) -> bytes:
        """The file's bytes, for cheap pre-filtering (search)."""
        data, _ = self._read_file(validate_id(session_id))
        return data

    def search(
        self, query: Query, *, limit: int, progress: Progress | None = None
    ) -> builtins.list[SearchHit]:
        """Ranked hits from the search cache, brought up to date first (DESIGN section 12). A
        store not yet created has no hits, and gets no cache: reading it creates nothing."""
        if not self.dir.is_dir():
            return []
        return self.search_cache.search(query, limit, progress)

    def create(self, session: Session) -> SessionSummary:
        sid = validate_id(session.id)
        data = session_codec.encode_session(session)
        with self._writing():
            path = self.dir / f"{sid}.json"
            if os.path.lexists(path):
                raise StorageError(f"session {sid} already exists")
            files.atomic_write(path, data)
            summary = self._after_write(sid, summarize(session))
            self._indexed("session_written", session, summary)
            return summary

    def _after_write(self, sid: str, summary: SessionSummary) -> SessionSummary:
        self._wrote = True
        st = self._stat_file(sid)
        self._files[sid] = FileState(st.st_ino, st.st_size, st.st_mtime_ns, summary)
        self._record(Put(s=summary, f=catalog.stamp_of(st)))
        return summary

    def append(self, session_id: str, message: Message) -> SessionSummary:
        sid = validate_id(session_id)
        body = session_codec.encode_message(message)  # fail on bad content before locking
        step = self._in_step
        if step is not None and step.sid == sid:
            summary = self._append_in_step(sid, message, body)
            if summary is not None:
                return summary
        with self._writing(in_place=True):
            fd, st = self._session_file(sid)
            try:
                return self._append_locked(sid, fd, st, message, body)
            finally:
                self._kept_session.done()

    def _append_locked(
        self, sid: str, fd: int, st: os.stat_result, message: Message, body: bytes
    ) -> SessionSummary:
        version, state = self._locked_state(sid, st, fd)
        probe_at = max(0, st.st_size - session_codec.TAIL_PROBE)
        end = os.pread(fd, st.st_size - probe_at, probe_at)
        found = session_codec.find_tail(end)
        if found is None or version is None or state.size != st.st_size:
            # Not our layout (hand-edited or older; ours starts with format_version): rewrite
            # it canonically, then append.
            path = self.dir / f"{sid}.json"
            session, _, data = self._load_with_bytes(sid)
            session_codec.check_writable(path, session)
            unknown = session_codec.unknown_fields(data) if data else None
            session.history.append(message)
            session.updated_at = message.created_at
            self._before_rename_in()
            files.atomic_write(path, session_codec.encode_session(session, unknown))
            summary = self._after_write(sid, summarize(session))
            self._indexed("session_written", session, summary)
            return summary
        return self._append_at_tail(sid, fd, st, end, found, state.summary, message, body)

    def _append_at_tail(
        self,
        sid: str,
        fd: int,
        st: os.stat_result,
        end: bytes,
        found: session_codec.Tail,
        before: SessionSummary,
        message: Message,
        body: bytes,
    ) -> SessionSummary:
        """Write ``message`` (encoded as ``body``) over the tail ``found`` in ``end``, the last
        bytes of session ``sid``'s file (open as ``fd``, stat ``st``, summary ``before``)."""
        offset = st.st_size - found.length
        old_tail = end[len(end) - found.length :]
        payload = session_codec.append_bytes(body, first=found.empty, updated_at=message.created_at)
        summary = summary_after_append(before, message)
        indexing = self._has_search_cache()
        self._commit_in_place(
            sid, fd, st, offset, payload, old_tail, cut=False, before=before, after=summary
        )
        if indexing:
            self.search_cache.message_appended(summary, message)
        return summary

    def _append_in_step(self, sid: str, message: Message, body: bytes) -> SessionSummary | None:
        """``append`` to the session this process last appended to, when the store is as that
        append left it (``in_step``); None, having done nothing, when it is not (or when
        another thread or process holds the lock), and the append looks everything up."""
        with self._mutex:
            if not self.lock.acquire_unchanged():
                return None
            try:
                summary = self._append_unchanged(sid, message, body)
            finally:
                self.lock.release()
            if summary is not None and not self._folding:
                self._dirty = True
                self._schedule_fold()
            return summary

    def _append_unchanged(self, sid: str, message: Message, body: bytes) -> SessionSummary | None:
        step, self._in_step = self._in_step, None  # set again once this append is made
        journal, kept = self._kept_journal, self._kept_session
        if step is None or step.sid != sid or journal.fd is None or kept.fd is None:
            return None  # another thread's write came first, or the fold let the files go
        try:
            unchanged = in_step.folder_key(self._dir_name) == step.folder
            journal_st, st = os.fstat(journal.fd), os.fstat(kept.fd)
            state = self._files.get(sid)
            if (
                not unchanged
                or journal_st.st_size != journal.end
                or in_step.file_key(st) != step.file
                or state is None
            ):
                return None
            probe_at = max(0, st.st_size - session_codec.TAIL_PROBE)
            end = os.pread(kept.fd, st.st_size - probe_at, probe_at)
        except OSError:
            return None  # the append that looks everything up says what is wrong
        found = session_codec.find_tail(end)
        if found is None:
            return None
        self._journal_fd, self._journal_size = journal.fd, journal_st.st_size
        self._step_start = (step.folder, self._write_clock_ns)  # still vouched for
        try:
            return self._append_at_tail(sid, kept.fd, st, end, found, state.summary, message, body)
        finally:
            self._journal_fd = self._step_start = None

    def update(self, session_id: str, **fields: Any) -> Session:
        sid = validate_id(session_id)
        session_codec.check_update(fields)
        path = self.dir / f"{sid}.json"
        with self._writing():
            session, _, data = self._load_with_bytes(sid)
            files.atomic_write(path, session_codec.updated_bytes(path, session, data, fields))
            summary = self._after_write(sid, summarize(session))
            self._indexed("head_written", session, summary)
            return session

    def rewrite_history(
        self, session_id: str, keep: int, tail: Sequence[Message], *, expect: int
    ) -> Session:
        """Rewind's atomic cut (``storage.rewrite``, DESIGN section 14)."""
        return rewrite.rewrite_json(self, session_id, keep, tail, expect)

    def delete(self, session_id: str) -> None:
        sid = validate_id(session_id)
        path = self.dir / f"{sid}.json"
        with self._writing():
            version = self._stored_version(sid)
            if version is not None and version > FORMAT_VERSION:
                raise session_codec.refuse_newer(path, version)
            try:
                os.unlink(path)
            except FileNotFoundError:
                raise SessionNotFound(sid) from None
            except OSError as exc:
                raise files.describe(exc, "delete", path) from exc
            self._files.pop(sid, None)
            self._wrote = True
            self._sync_dir(self.dir)
            self._record(Drop(id=sid))
            self._indexed("session_dropped", sid)

    # The trash (DESIGN section 14), in ``json_trash``: a session file moves whole by rename.

    def trash(self, session_id: str) -> None:
        json_trash.trash(self, session_id)

    def trashed(self) -> builtins.list[TrashedSession]:
        return json_trash.trashed(self)

    def restore(self, session_id: str) -> TrashedSession:
        return json_trash.restore(self, session_id)

    def purge(self, session_id: str) -> None:
        json_trash.purge(self, session_id)

    def read_trashed(self, session_id: str) -> Session:
        return json_trash.read_trashed(self, session_id)

    def put_trashed(self, session: Session, deleted_at: str) -> None:
        json_trash.put_trashed(self, session, deleted_at)

    def update_trashed(self, session_id: str, **fields: Any) -> TrashedSession:
        return json_trash.update_trashed(self, session_id, **fields)

    def get_current(self, po_name: str) -> str | None:
        with self._mutex:
            current = None if self._view.loaded else self._current_from_bytes()
            sid = (self._fresh_view().current if current is None else current).get(po_name)
            if sid is not None and not (self.dir / f"{sid}.json").exists():
                return None
            return sid

    def set_current(self, po_name: str, session_id: str | None) -> None:
        if session_id is not None:
            validate_id(session_id)
        with self._writing():
            # Recorded without loading the catalog: readers of this process replay the journal
            # over index.json's bytes (get_current), and the fold splices the line.
            self._record(Current(po=po_name, id=session_id))
            self._wrote = True

    def flush(self) -> None:
        """Fold the journal into index.json so the folder at rest is the whole truth.

        Costs one read and one write of the catalog, never a look at every session file: every
        change this program makes is in the journal, and a file changed behind its back is
        found by the next ``list`` or ``doctor`` (DESIGN section 3, "Stale").

        Whatever the fold finds (the folder moved away, the lock held elsewhere), the files
        kept open since the last write are let go (``kept_file``): the idle fold must not leave
        a removed session's data held on disk.
        """
        try:
            self._fold(reconcile=False)
        finally:
            self._let_kept_files_go()

    def _fold(self, *, reconcile: bool) -> None:
        """Write index.json from the catalog view; with ``reconcile``, check it against every
        session file first (after a crash, whose last writes may be missing from the journal)."""
        with self._mutex:
            if not self.dir.is_dir() or not self._may_write():
                return
            pending = (
                os.path.lexists(self.journal_path)
                or not os.path.lexists(self.index_path)
                or self._dirty
            )
            if not pending:
                return
            self._folding = True
            try:
                with self._writing():
                    # A store's first catalog is made from a full look at its (few) files, so
                    # that it starts out explaining the folder; so is one after a change the
                    # journal missed (a full disk).
                    reconcile = (
                        reconcile or self._journal_missed or not os.path.lexists(self.index_path)
                    )
                    folder = self._folder_stamp() or self._new_folder_stamp()
                    data: bytes | list[bytes | memoryview] | None = (
                        None if reconcile else self._spliced_catalog(folder)
                    )
                    if data is None:
                        view = self._fresh_view()
                        if reconcile:  # every file checked under the lock: pin what it found
                            view = self._full_check(view)
                            if not self._swept:  # under the lock every temp file is a crash's
                                self._sweep_temp_files()
                                self._swept = True
                            self._folder_ok = not self._unreadable
                        view.folder = folder
                        data = catalog.encode_catalog(view)
                    files.atomic_write(self.index_path, data)
                    self._wrote_catalog(folder)
                    self._drop_journal()
                    self._rebuilt = self._journal_missed = False
            finally:
                self._folding = False
            self._dirty = False
            self._journal_writes = 0

    def open_store(self) -> None:
        """Fold a journal or sweep temp files left by a crashed process, if the lock is free."""
        if not self.dir.is_dir():
            return
        if self._folder_as_pinned():
            # No name came or went since this program's last write left the folder whole: no
            # temp file of a crashed write can be there, and the folder need not be listed (a
            # listing costs O(sessions); DESIGN section 10). Only the journal may be.
            self._swept = True
            names = ["index.journal"] if os.path.lexists(self.journal_path) else []
            temp_left = False
        else:
            try:
                names = os.listdir(self.dir)
            except OSError:
                return
            # One search of the joined names, not a call per file (20,000 in a big store).
            temp_left = f"{files.TEMP_SUFFIX}\n" in "\n".join(names) + "\n"
        if not temp_left:
            # Nothing to sweep as the store opens: this process's writes need not list the
            # folder again (a listing costs O(sessions); DESIGN section 10).
            self._swept = True
        if ("index.journal" in names or temp_left) and self._may_write():
            try:
                self.lock.acquire(timeout=0)
            except StorageError:
                return  # another process is writing; it folds its own journal
            try:
                if temp_left:
                    # Under the lock no temp file is being written: every one left is a crash's.
                    self._sweep_temp_files()
                    self._swept = True
                self._fold(reconcile=True)
            except StorageError:
                # Folding is a tidy-up (a full disk, a read-only folder): readers read the
                # journal in memory, and reading never needs to write.
                pass
            finally:
                self.lock.release()

    def _sign_off(self) -> None:
        """Mark the lock file as left by a process that closed the store whole, when this one
        marked it (``holder_mark``); a later holder then has no crash to suspect. Not after a
        change the journal missed: then the next holder should check every file."""
        if self._journal_missed or not self.lock.marked:
            return
        if not self.dir.is_dir():
            return  # the folder was moved away or removed: taking the lock would make it again
        with suppress(StorageError):
            self.lock.acquire(timeout=min(self.lock.timeout, 1.0))
            try:
                self.lock.mark_done()
            finally:
                self.lock.release()

    def close(self) -> None:
        """Fold the journal and stop. Never raises for a fold that fails: every write that
        returned is already on disk, and the next process to open the store folds the journal.
        A failed fold after this backend's own writes is told with a :class:`StorageWarning`."""
        if self._closed:
            return
        self._stop_fold_thread()
        try:
            self.flush()
            self._sign_off()
        except StorageError as exc:
            if self._wrote:
                warnings.warn(
                    StorageWarning(
                        f"the catalog could not be updated ({exc}); your changes are saved and "
                        "the catalog catches up when the store is next opened"
                    ),
                    stacklevel=2,
                )
        finally:
            if self._search_cache is not None:
                self._search_cache.close()
            self._close_kept_files()
            self.lock.close()
            _open_backends.discard(self)


@atexit.register
def _flush_open_backends() -> None:
    """A script that forgets close() still leaves the folder whole at rest."""
    for backend in list(_open_backends):
        with suppress(Exception):
            backend.close()
