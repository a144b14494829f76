"""The JSON store's catalog view: ``index.json`` plus the journal, checked against the folder.

A session file missing from the catalog, changed since its entry, or an entry whose file is gone
is stale (DESIGN section 3) and is re-scanned; the repairs are recorded when this process may write.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Collection
from contextlib import suppress
from typing import TYPE_CHECKING

from ..errors import (
    CorruptSession,
    NewerSession,
    SessionNotFound,
    StorageError,
    StorageWarning,
)
from ..ids import SESSION_NAMES_RE
from ..models import FORMAT_VERSION, Session, SessionSummary, summarize
from . import catalog, catalog_layout, catalog_lookup, files, in_step, session_codec
from .catalog import Bad, Change, Drop, Put, View
from .json_reading import JsonReading, lost_more_than_a_write
from .json_store_base import FileState


class JsonCatalogView(JsonReading):
    """Keep the in-memory catalog in agreement with the session files."""

    if TYPE_CHECKING:  # defined by the public layer, JsonBackend

        def get(self, session_id: str) -> Session: ...

    def _fresh_view(self) -> View:
        """The catalog as index.json + journal say, rebuilt from files if it cannot be read."""
        try:
            catalog.refresh(self._view, self.index_path, self.journal_path)
        except catalog.CatalogUnreadable as exc:
            # The per-PO current session lives only in the catalog: keep what we knew of it,
            # else what the unreadable catalog still says of it.
            current = self._view.current or self._current_left(exc)
            self._view = self._rebuild_view()
            self._view.current = {
                po: sid for po, sid in current.items() if sid in self._view.sessions
            }
            if exc.version is not None and exc.version > FORMAT_VERSION:
                # A newer program's catalog in a shape we cannot read: use the session files
                # in memory, and never write over it.
                self._view.version = exc.version
            else:
                self._dirty = True  # so the next flush writes the rebuilt catalog over the bad one
                self._rebuilt = True
        return self._view

    def _current_left(self, exc: catalog.CatalogUnreadable) -> dict[str, str]:
        """The per-PO current sessions an unreadable index.json still holds in its canonical
        place (one damaged entry leaves them readable). When none can be read, a
        :class:`StorageWarning` says that the choices are lost: the rebuilt catalog makes each
        PO's most recent session its current one (DESIGN section 5)."""
        with suppress(OSError):
            found = catalog_lookup.current_of(files.read_bytes(self.index_path), [])
            if found is not None:
                return found
        if not self._choices_lost_told and (exc.version is None or exc.version <= FORMAT_VERSION):
            self._choices_lost_told = True  # every look finds it so until the fold rewrites it
            warnings.warn(
                StorageWarning(
                    f"the catalog {self.index_path} could not be read ({exc}); it is rebuilt "
                    "from the session files, and each PO's current session is now its most "
                    "recent one"
                ),
                stacklevel=2,
            )
        return {}

    def _spliced_catalog(self, folder: int) -> list[bytes | memoryview] | None:
        """index.json with the journal's changes spliced in (``catalog_layout``), read and
        written as bytes: a fold costs a copy of the catalog, not a decode and an encode of
        every entry (DESIGN section 10). None when the catalog is not in the canonical layout,
        is missing, or was found unreadable here: the caller folds the decoded view. Under the
        store lock."""
        if self._rebuilt:
            return None
        try:
            data = self._index_bytes(os.stat(self.index_path, follow_symlinks=False))
            journal = files.read_bytes(self.journal_path)
        except OSError:
            return None
        return catalog_layout.splice_parts(data, catalog.decode_changes(journal), folder)

    def _current_from_bytes(self) -> dict[str, str] | None:
        """The per-PO current sessions as index.json and the journal say, read without loading
        the catalog (``catalog_lookup.current_of``; DESIGN section 10). None when they cannot
        tell: index.json missing or in another layout, or folded while it was read."""
        read = self._catalog_and_changes()
        return None if read is None else catalog_lookup.current_of(*read)

    def _catalog_and_changes(self) -> tuple[bytes, list[Change]] | None:
        """index.json's bytes and the journal's changes as of one moment; None when either
        cannot be read, or when a fold replaced index.json meanwhile (its changes then are in
        it, and replaying the journal read before over it would undo later ones)."""
        try:
            before = os.stat(self.index_path, follow_symlinks=False)
            data = self._index_bytes(before)
            try:
                journal = files.read_bytes(self.journal_path)
            except FileNotFoundError:
                journal = b""
            after = os.stat(self.index_path, follow_symlinks=False)
        except OSError:
            return None
        if catalog.stamp_of(before) != catalog.stamp_of(after):
            return None
        return data, catalog.decode_changes(journal)

    def _rebuild_view(self) -> View:
        view = View()
        view.loaded = True
        self._unreadable = {}
        self._newer = {}
        for sid in self._ids_on_disk():
            self._scan_into(view, sid)
        return view

    def _changed_behind(self, session_id: str) -> None:
        """A session file was changed by someone else (a hand edit, a crashed writer): its
        summary may read the same while its messages do not. Stores with caches over the
        messages forget theirs here."""

    def _scan_into(self, view: View, sid: str) -> None:
        """Judge one session file into ``view``. Whatever is wrong with it stays with it: a
        file we may not open is noted in ``_unreadable`` (its content is unknown, so it is
        neither listed nor recorded as damaged), and every other session is still scanned."""
        self._newer.pop(sid, None)
        try:
            state = self._load_state(sid)
        except CorruptSession as exc:
            if isinstance(exc, NewerSession):
                self._newer[sid] = exc.reason
            view.apply(Bad(id=sid, error=exc.reason, f=self._stamp(sid)))
        except SessionNotFound:
            view.apply(Drop(id=sid))
        except StorageError as exc:
            self._unreadable[sid] = exc.message
        else:
            view.apply(Put(s=state.summary, f=(state.size, state.mtime_ns, state.ino)))
            if state.version > FORMAT_VERSION:
                self._newer[sid] = (
                    f"format_version {state.version} is newer than this program "
                    f"({FORMAT_VERSION}); it is read-only here"
                )

    def _stamp(self, sid: str) -> catalog.FileStamp | None:
        try:
            st = os.stat(f"{self._dir_name}/{sid}.json", follow_symlinks=False)
        except OSError:
            return None
        return catalog.stamp_of(st)

    def _changed_files(self, view: View, known: Collection[str]) -> list[str]:
        """The sessions among ``known`` whose file's stamp is not the one ``view`` records (or
        that cannot be looked up): a stat each, the whole cost of a recheck that finds nothing,
        so the loop is kept to the stat (DESIGN section 10)."""
        prefix, stamps, changed = self._dir_name + "/", view.stamps, []
        for sid in known:
            try:
                st = os.stat(prefix + sid + ".json", follow_symlinks=False)
                # catalog.stamp_of's tuple, built in place: the call would cost a tenth of the stat
                stamp: catalog.FileStamp | None = (st.st_size, st.st_mtime_ns, st.st_ino)
            except OSError:
                stamp = None
            if stamps.get(sid) != stamp:
                changed.append(sid)
        return changed

    def _ids_on_disk(self) -> set[str]:
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return set()
        except OSError as exc:
            raise files.describe(exc, "read folder", self.dir) from exc
        joined = "\n".join(names) + "\n"
        if f"{files.TEMP_SUFFIX}\n" in joined:
            # A crash's temp file (or a write's in progress): swept under the lock before this
            # process pins the folder again, since an open that finds it pinned lists nothing.
            self._swept = False
        return set(SESSION_NAMES_RE.findall(joined))

    def _reconcile(self) -> View:
        """Make the view agree with the folder: add files it misses, drop entries whose file is
        gone, read again files replaced since their entry.

        The cheap check, one stat (DESIGN section 10): ``sessions/`` still has the modification
        time the catalog records (``JsonStoreBase._pin_folder``), so no file was added, removed
        or replaced by a rename since the catalog last explained the folder. Otherwise every
        entry is compared with its file. A file rewritten in place (the folder's time does not
        move) is found by ``doctor``, when it is read (:meth:`_notice_read`) and by a
        :meth:`recheck` naming it (the TUI's file watcher).
        """
        seen = self._folder_mtime()  # before the catalog: a change after it is seen next time
        view = self._fresh_view()
        if seen is not None and seen == view.folder:
            self._unreadable = {}
            return view
        return self._full_check(view, seen)

    def _full_check(self, view: View, seen: int | None = None) -> View:
        """Compare every entry's stamp with its file's, and scan what differs. ``seen`` is the
        folder's modification time before the check: when it is still the same under the lock
        once the catalog is corrected, the catalog explains the folder again and the folder is
        pinned to its stamp (when this process may write)."""
        on_disk = self._ids_on_disk()
        self._unreadable = {}
        missing = on_disk - view.sessions.keys() - view.damaged.keys()
        gone = (view.sessions.keys() | view.damaged.keys()) - on_disk
        # A file changed since its entry (a hand edit, a write by a crashed process, new damage)
        # is stale too: compare every entry's recorded (size, mtime, inode) with the file's.
        known = (view.sessions.keys() | view.damaged.keys()) & on_disk
        changed = self._changed_files(view, known)
        if not (missing or gone or changed):
            if view.folder is not None and seen is not None and not self._unreadable:
                self._persist_or_apply([], seen)
            return self._view
        scratch = View()
        scratch.loaded = True
        scanned = sorted(missing | set(changed))
        for sid in scanned:
            self._scan_into(scratch, sid)
        # A file deleted since the listing is gone too, though the listing still named it.
        vanished = {
            sid
            for sid in scanned
            if sid not in scratch.sessions
            and sid not in scratch.damaged
            and sid not in self._unreadable
        }
        changes: list[Change] = [Drop(id=sid) for sid in sorted(gone | vanished)]
        changes += [Put(s=s, f=scratch.stamps.get(s.id)) for s in scratch.sessions.values()]
        for sid in changed:
            if sid in scratch.sessions:
                self._changed_behind(sid)
        changes += [Bad(id=sid, error=d.error, f=d.stamp) for sid, d in scratch.damaged.items()]
        self._persist_or_apply(changes, None if self._unreadable else seen)
        return self._view

    def _persist_or_apply(self, changes: list[Change], seen: int | None = None) -> None:
        """Record repairs to the catalog if we may write; otherwise just use them in memory.
        ``seen``: the folder's modification time when the files were checked (see
        :meth:`_full_check`)."""
        if self._may_write():
            try:
                with self._writing():
                    if seen is not None and self._folder_at_entry == seen:
                        self._folder_ok = True  # nothing changed in the folder meanwhile
                    for change in changes:
                        self._record(change)
                return
            except StorageError:
                pass
        for change in changes:
            self._view.apply(change)

    def recheck(self, session_ids: Collection[str] | None = None) -> None:
        """Look again at sessions another program may have changed in place, which moves no
        folder time (``SupportsRecheck``; DESIGN section 3, "Stale"): a file whose stamp
        differs from its catalog entry is read whole, which corrects the entry
        (:meth:`_notice_read`). A stat per session when nothing changed. ``None``: every
        file, damaged ones and ones added or removed too (:meth:`_full_check`)."""
        with self._mutex:
            if session_ids is None:
                # As a list whose folder moved: the folder's time read before the catalog, so
                # a check that finds the folder unchanged pins it, and the next list is cheap.
                seen = self._folder_mtime()
                view = self._fresh_view()
                if seen is not None and seen == view.folder:
                    # Pinned: the names are the catalog's (``_reconcile``), so no listing of
                    # the folder; a file whose stamp moved sends it to the full check.
                    known = view.sessions.keys() | view.damaged.keys()
                    if not self._changed_files(view, known):
                        self._unreadable = {}
                        return
                self._full_check(view, seen)
                return
            view = self._fresh_view()
            folder = os.fspath(self.dir)  # a str: no Path built per session (10,000 of them)
            for sid in session_ids:
                if sid not in view.sessions:  # catalog ids are valid ids: nothing else passes
                    continue  # a new file moves the folder's time: the next list finds it
                try:
                    stamp = catalog.stamp_of(os.stat(f"{folder}/{sid}.json", follow_symlinks=False))
                except OSError:
                    continue  # gone: the next list drops it
                if view.stamps.get(sid) != stamp:
                    self._changed_behind(sid)  # its summary may read the same, its words not
                    with suppress(StorageError):  # damaged: the next list or doctor says so
                        self.get(sid)

    def _notice_read(self, sid: str, session: Session, st: os.stat_result) -> None:
        """A session file just read whole that differs from its catalog entry (edited in place
        by another program, say) makes the entry stale (DESIGN section 3): correct it, in the
        catalog if this process may write, else in memory. Only while this process holds the
        catalog or found the entry by id: loading it for one read would cost O(sessions)."""
        peeked = None if self._view.loaded else self._peeked.get(sid)
        if not self._view.loaded and (peeked is None or peeked[1] == catalog.stamp_of(st)):
            return  # unknown, or as the catalog's entry found by id says: nothing to correct
        with self._mutex:
            view = self._fresh_view()
            stamp = catalog.stamp_of(st)
            if sid in view.sessions and view.stamps.get(sid) == stamp:
                return
            change = Put(s=summarize(session), f=stamp)
            if self._may_write():
                try:
                    with self._writing():
                        # Changed again since it was read: the next reader judges it.
                        if self._stamp(sid) == stamp:
                            self._record(change)
                    return
                except StorageError:
                    pass
            view.apply(change)

    def _not_a_cut_write(self, sid: str, session: Session, st: os.stat_result) -> str | None:
        """Why the whole messages of session ``sid`` found before its damage are not what a
        cut-short write leaves; None if they may be. Judged by what this process knew of the
        session, else by the catalog: its entry's message count, or its record of this very
        file (same stamp) as damaged. The catalog is loaded if it must be (a cut file is rare)
        but never rebuilt here: a rebuild reads every file, this one included."""
        state = self._files.get(sid)
        if state is not None:
            return lost_more_than_a_write(session, state.summary.message_count)
        peeked = None if self._view.loaded else self._peeked.get(sid)
        if peeked is not None:
            return lost_more_than_a_write(session, peeked[0].message_count)
        try:
            catalog.refresh(self._view, self.index_path, self.journal_path)
        except catalog.CatalogUnreadable:
            return None
        entry, damaged = self._view.sessions.get(sid), self._view.damaged.get(sid)
        if damaged is not None and damaged.stamp == catalog.stamp_of(st):
            return damaged.error  # judged damaged before, and unchanged since
        return None if entry is None else lost_more_than_a_write(session, entry.message_count)

    def _state_from_catalog(self, sid: str, st: os.stat_result) -> FileState | None:
        # An entry found by id (``known_by_id_prefix``) spares loading the whole catalog.
        peeked = None if self._view.loaded else self._peeked.get(sid)
        entry: SessionSummary | None
        if peeked is not None:
            entry, stamp = peeked
        else:
            view = self._fresh_view()
            entry, stamp = view.sessions.get(sid), view.stamps.get(sid)
        if entry is not None and stamp == catalog.stamp_of(st):
            return FileState(st.st_ino, st.st_size, st.st_mtime_ns, entry)
        return None

    def _session_file(self, sid: str) -> tuple[int, os.stat_result]:
        """Session ``sid``'s file open for an in-place write (under the store lock, which the
        caller holds): its descriptor and stat. The descriptor stays open for the next write
        (``kept_file``); the caller calls ``self._kept_session.done()`` when the write is over.

        Raises:
            SessionNotFound: there is no such file.
            CorruptSession: the name is not a regular file (a named pipe, say).
            StorageError: the file cannot be opened (named, with the reason).
        """
        path = f"{self.dir}/{sid}.json"  # a str: no Path built per append
        kept = self._kept_session
        st = kept.reuse(path)
        fd = kept.fd
        if st is not None and fd is not None:
            return fd, st
        try:
            fd = files.open_rw(path)
        except FileNotFoundError:
            raise SessionNotFound(sid) from None
        except OSError as exc:
            raise files.describe(exc, "open", self.dir / f"{sid}.json") from exc
        try:
            st = os.fstat(fd)
        except OSError as exc:
            os.close(fd)
            raise files.describe(exc, "open", self.dir / f"{sid}.json") from exc
        if not stat.S_ISREG(st.st_mode):
            # A named pipe put in its place opens for reading and writing but cannot be read
            # at an offset: reported as damage, as a read reports it, and left where it is.
            os.close(fd)
            raise CorruptSession(sid, f"{self.dir / f'{sid}.json'} is not a regular file")
        kept.keep(path, fd, st)
        return fd, st

    def _commit_in_place(
        self,
        sid: str,
        fd: int,
        st: os.stat_result,
        at: int,
        payload: bytes,
        old: bytes,
        *,
        cut: bool,
        before: SessionSummary,
        after: SessionSummary,
    ) -> None:
        """Write ``payload`` at byte ``at`` of session ``sid``'s file (open as ``fd``, ``st`` its
        stat before; with ``cut``, the file is cut there first), record the session's new
        summary ``after`` in the journal, then fsync (DESIGN section 4, promise 2).

        The journal line goes before the fsync, while system calls are cheap (right after a wait
        on the disk each costs about twice as much; DESIGN section 10), with the file's stamp as
        written. If the write or the fsync fails, ``old`` (the bytes that stood from ``at`` to
        the end) is put back and a second line restores ``before``.

        Raises:
            StorageError: the write or the fsync failed; the file holds its old bytes (or, when
                even the undo failed, a torn tail the next read repairs).
        """
        recorded = False
        try:
            if cut:
                os.ftruncate(fd, at)
            files.write_all(fd, payload, at)
            new_st = os.fstat(fd)
            self._record(Put(s=after, f=catalog.stamp_of(new_st)))
            recorded = True
            os.fsync(fd)
        except OSError as exc:
            self._files.pop(sid, None)
            files.put_back(fd, old, at, st.st_size)
            if recorded:
                self._unrecord(fd, before)
            action = "rewrite" if cut else "append to"
            raise files.describe(exc, action, self.dir / f"{sid}.json") from exc
        self._wrote = True
        self._files[sid] = FileState(new_st.st_ino, new_st.st_size, new_st.st_mtime_ns, after)
        start = self._step_start
        if start is not None and self.lock.held_kept and self._journal_fd is not None:
            # The lock's path and the journal's were looked up as this write began (or vouched
            # for): the next append to this session may skip the lookups (``in_step``).
            self._in_step = in_step.after_append(sid, start[0], start[1], new_st)
        self._write_clock_ns = new_st.st_mtime_ns

    def _unrecord(self, fd: int, summary: SessionSummary) -> None:
        """Take back the journal line of an in-place write that failed after it: the session is
        as ``summary`` says again, at the stamp its file (open as ``fd``) now has."""
        try:
            stamp = catalog.stamp_of(os.fstat(fd))
        except OSError:
            # The catalog cannot be put right: lists must look at the files and the fold must
            # check them all (as when a change misses the journal).
            self._folder_ok = False
            self._journal_missed = True
            return
        self._record(Put(s=summary, f=stamp))

    def _locked_state(self, sid: str, st: os.stat_result, fd: int) -> tuple[int | None, FileState]:
        """What an in-place write of session ``sid`` (open as ``fd``, stat ``st``, under the
        store lock) starts from: the format_version its head claims (None when the head is not
        in our layout) and what is known of it. Refuses a newer version's file (DESIGN section
        4, "Versioned") and makes a restored file private again."""
        version = session_codec.head_version(os.pread(fd, session_codec.HEAD_PROBE, 0))
        if version is not None and version > FORMAT_VERSION:
            raise session_codec.refuse_newer(self.dir / f"{sid}.json", version)
        if stat.S_IMODE(st.st_mode) & 0o077:
            files.tighten([self.dir / f"{sid}.json"])  # restored from git or a backup: private
        state = self._files.get(sid)
        if state is None or (state.ino, state.size, state.mtime_ns) != (
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
        ):
            state = self._state_from_catalog(sid, st) or self._load_state(sid)
        return version, state
