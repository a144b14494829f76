"""The default backend: one ``<uuid>.json`` per session plus the ``index.json`` catalog.

Promises (DESIGN section 4): session files are the truth; every write is durable before it
returns; one store-wide lock serialises writers across processes; readers take no lock and retry
under it only when they catch a file mid-write; damage stays with the one session it hit.
"""

from __future__ import annotations

import atexit
import builtins
import errno
import os
import stat
import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import (
    CorruptSession,
    NewerSession,
    ReadOnlyStore,
    SessionNotFound,
    StorageError,
    StorageWarning,
)
from ..ids import SESSION_NAMES_RE, validate_id
from ..models import (
    FORMAT_VERSION,
    Message,
    Session,
    SessionSummary,
    summarize,
    summary_after_append,
)
from ..search import SearchHit
from ..search_query import Query
from . import catalog, files, session_codec
from .base import HealthReport, check_private
from .catalog import Bad, Change, Current, Drop, Put, View
from .locking import StoreLock

if TYPE_CHECKING:
    from .search_cache import Progress, SearchCache

FOLD_AFTER_LINES = 2000
IDLE_FOLD_SECONDS = 2.0
_open_backends: weakref.WeakSet[JsonBackend] = weakref.WeakSet()


class _FileState(msgspec.Struct):
    """What this process last knew of a session file, valid while (ino, size, mtime) match."""

    ino: int
    size: int
    mtime_ns: int
    summary: SessionSummary
    version: int = FORMAT_VERSION  # a newer one than ours makes the file read-only here


class JsonBackend:
    name = "json"

    def __init__(
        self,
        root: Path | str,
        *,
        lock_timeout: float = 10.0,
        fold_after_lines: int = FOLD_AFTER_LINES,
        idle_fold_seconds: float | None = IDLE_FOLD_SECONDS,
    ) -> None:
        self.root = Path(root)
        self.dir = self.root / "sessions"
        self.index_path = self.dir / "index.json"
        self.journal_path = self.dir / "index.journal"
        self.lock = StoreLock(self.dir / ".lock", timeout=lock_timeout)
        self.fold_after_lines = fold_after_lines
        self.idle_fold_seconds = idle_fold_seconds
        self._mutex = threading.RLock()
        self._view = View()
        self._files: dict[str, _FileState] = {}
        self._problems: dict[str, str] = {}
        self._swept = False
        self._dirty = False
        self._folder_thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._last_write = 0.0
        self._closed = False
        self._folding = False
        self._journal_writes = 0
        self._unreadable: dict[str, str] = {}  # files we may not open, as of the last scan
        self._newer: dict[str, str] = {}  # sessions a newer version wrote, as of the last scan
        self._version_key: tuple[int, int, int] | None = None
        self._catalog_version: int | None = None
        self._tightened = False
        # The search index is a cache beside the store (DESIGN section 12). Made on first use,
        # so commands that never search do not import sqlite3.
        self._search_cache: SearchCache | None = None
        self._search_cache_file = self.root / "cache" / "search.sqlite3"
        self._wrote = False  # this backend changed the store (so a failed fold is worth a word)
        _open_backends.add(self)

    # ------------------------------------------------------------------ paths and locking

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
        if self._search_cache is None and not os.path.exists(self._search_cache_file):
            return  # no cache yet: the first search builds it
        getattr(self.search_cache, hook)(*args)

    def path_for(self, session_id: str) -> Path:
        return self.dir / f"{validate_id(session_id)}.json"

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the store lock for a write; create the folders; sweep leftovers once."""
        with self._mutex:
            self._check_writable()
            files.ensure_dir(self.root)
            files.ensure_dir(self.dir)
            self.lock.acquire()
            try:
                if not self._tightened:
                    self._tighten_store()
                if not self._swept:
                    self._sweep_temp_files()
                    self._swept = True
                yield
            finally:
                self.lock.release()
            if not self._folding:
                self._dirty = True
                self._schedule_fold()

    def _check_writable(self) -> None:
        version = self._newer_catalog()
        if version is not None:
            raise ReadOnlyStore(
                f"{self.index_path} has format_version {version}, newer than this "
                f"program ({FORMAT_VERSION}); the store is read-only. Upgrade prompt-sessions."
            )

    def _newer_catalog(self) -> int | None:
        """The catalog's format_version when a newer program wrote it, else None.

        Checked before every write, not only once the catalog is loaded: a process that only
        appends never loads it, and a newer catalog must never be folded over (DESIGN section 4,
        "Versioned"). Costs one stat while index.json is unchanged.
        """
        if self._view.loaded and self._view.version > FORMAT_VERSION:
            return self._view.version
        try:
            st = os.stat(self.index_path, follow_symlinks=False)
            key: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        if key != self._version_key:
            self._version_key = key
            self._catalog_version = catalog.peek_version(self.index_path) if key else None
        version = self._catalog_version
        return version if version is not None and version > FORMAT_VERSION else None

    def _tighten_store(self) -> None:
        """Make the folders and shared files this process writes private, once per process:
        a store restored from git or a backup comes back 0644/0755 (DESIGN section 4, "Private").
        Session files are tightened as they are written; ``doctor --repair`` does the rest."""
        files.tighten([self.root, self.dir, self.lock.path, self.index_path, self.journal_path])
        self._tightened = True

    def _sweep_temp_files(self) -> None:
        try:
            names = os.listdir(self.dir)
        except OSError:
            return  # housekeeping only: a later open sweeps what this one could not
        for name in names:
            if name.startswith(".") and name.endswith(files.TEMP_SUFFIX):
                with suppress(OSError):
                    os.unlink(self.dir / name)

    # ------------------------------------------------------------------ journal

    def _record(self, change: Change) -> None:
        """Add one change to the journal (under the lock) and to our view."""
        data = catalog.encode_change(change)
        try:
            fd = files.open_append(self.journal_path)
            try:
                files.write_all(fd, catalog.line_start(fd) + data)
            finally:
                os.close(fd)
        except OSError as exc:
            if isinstance(change, Current):
                # The current session per PO lives only in the catalog: losing the write
                # silently would report a switch that never happened.
                raise files.describe(exc, "write", self.journal_path) from exc
            # For the rest the catalog is a cache whose entries carry the (size, mtime) of the
            # file they were made from: a reader finds the entry stale and reads the file. The
            # catalog is kept, with the current-session choices only it holds.
        self._journal_writes += 1
        if self._view.loaded:
            self._view.apply(change)

    def _schedule_fold(self) -> None:
        if self._journal_writes >= self.fold_after_lines:
            with suppress(StorageError):  # the write that got us here is on disk; fold later
                self.flush()
            return
        if self.idle_fold_seconds is None or self._closed:
            return
        self._last_write = time.monotonic()
        if self._folder_thread is None or not self._folder_thread.is_alive():
            # One thread per backend folds the journal once writes pause; starting a timer per
            # append would cost more than the append itself.
            thread = threading.Thread(
                target=self._fold_when_idle, name="prompt-sessions-fold", daemon=True
            )
            self._folder_thread = thread
            thread.start()

    def _fold_when_idle(self) -> None:
        assert self.idle_fold_seconds is not None
        while not self._closed:
            wait = self._last_write + self.idle_fold_seconds - time.monotonic()
            if wait > 0:
                self._wake.wait(wait)
                continue
            started = time.monotonic()
            with suppress(Exception):  # a fold that fails is retried at close or next open
                self.flush()
            if self._last_write < started:
                return

    # ------------------------------------------------------------------ catalog view

    def _fresh_view(self) -> View:
        """The catalog as index.json + journal say, rebuilt from files if it cannot be read."""
        try:
            catalog.refresh(self._view, self.index_path, self.journal_path)
        except catalog.CatalogUnreadable as exc:
            current = self._view.current
            self._view = self._rebuild_view()
            # The per-PO current session lives only in the catalog: keep what we knew of it.
            self._view.current = {
                po: sid for po, sid in current.items() if sid in self._view.sessions
            }
            if exc.version is not None and exc.version > FORMAT_VERSION:
                # A newer program's catalog in a shape we cannot read: use the session files
                # in memory, and never write over it.
                self._view.version = exc.version
            else:
                self._dirty = True  # so the next flush writes the rebuilt catalog over the bad one
        return self._view

    def _rebuild_view(self) -> View:
        view = View()
        view.loaded = True
        self._unreadable = {}
        self._newer = {}
        for sid in self._ids_on_disk():
            self._scan_into(view, sid)
        return view

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
            view.apply(Put(s=state.summary, f=(state.size, state.mtime_ns)))
            if state.version > FORMAT_VERSION:
                self._newer[sid] = (
                    f"format_version {state.version} is newer than this program "
                    f"({FORMAT_VERSION}); it is read-only here"
                )

    def _stamp(self, sid: str) -> tuple[int, int] | None:
        try:
            st = os.stat(f"{self.dir}/{sid}.json", follow_symlinks=False)
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    def _ids_on_disk(self) -> set[str]:
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return set()
        except OSError as exc:
            raise files.describe(exc, "read folder", self.dir) from exc
        return set(SESSION_NAMES_RE.findall("\n".join(names)))

    def _reconcile(self) -> View:
        """Make the view agree with the folder: add files it misses, drop entries whose file is
        gone."""
        view = self._fresh_view()
        on_disk = self._ids_on_disk()
        self._unreadable = {}
        missing = on_disk - view.sessions.keys() - view.damaged.keys()
        gone = (view.sessions.keys() | view.damaged.keys()) - on_disk
        # A file changed since its entry (a hand edit, a write by a crashed process, new damage)
        # is stale too: compare every entry's recorded (size, mtime) with the file's.
        known = (view.sessions.keys() | view.damaged.keys()) & on_disk
        changed = [sid for sid in known if view.stamps.get(sid) != self._stamp(sid)]
        if not (missing or gone or changed):
            return view
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
        changes += [Bad(id=sid, error=d.error, f=d.stamp) for sid, d in scratch.damaged.items()]
        self._persist_or_apply(changes)
        return self._view

    def _persist_or_apply(self, changes: list[Change]) -> None:
        """Record repairs to the catalog if we may write; otherwise just use them in memory."""
        if self._may_write():
            try:
                with self._writing():
                    for change in changes:
                        self._record(change)
                return
            except StorageError:
                pass
        for change in changes:
            self._view.apply(change)

    def _may_write(self) -> bool:
        return os.access(self.dir, os.W_OK) and self._newer_catalog() is None

    # ------------------------------------------------------------------ reading sessions

    def _read_file(self, sid: str) -> tuple[bytes, os.stat_result]:
        path = self.dir / f"{sid}.json"
        try:
            # O_NONBLOCK: a FIFO planted at a session path would otherwise block every reader.
            fd = os.open(
                path,
                os.O_RDONLY
                | os.O_NONBLOCK
                | getattr(os, "O_NOFOLLOW", 0)
                | getattr(os, "O_CLOEXEC", 0),
            )
        except FileNotFoundError:
            raise SessionNotFound(sid) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                # A symlink planted at a session path is refused and reported as damage.
                raise CorruptSession(sid, files.describe(exc, "read", path).message) from exc
            # An I/O or permission error says nothing about the file's content: it must not be
            # reported (or moved aside by a repair) as a damaged session.
            raise files.describe(exc, "read", path) from exc
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise CorruptSession(sid, f"{path} is not a regular file")
            data = os.pread(fd, st.st_size, 0) if st.st_size else b""
            return data, st
        except OSError as exc:
            raise files.describe(exc, "read", path) from exc
        finally:
            os.close(fd)

    def _load(self, sid: str) -> tuple[Session, os.stat_result]:
        session, st, _ = self._load_with_bytes(sid)
        return session, st

    def _load_with_bytes(self, sid: str) -> tuple[Session, os.stat_result, bytes | None]:
        """Read and decode; a file caught mid-write is read again under the lock, then repaired.

        Also returns the bytes decoded (None after a repair rewrote them), so a rewrite can keep
        the fields this version does not know.
        """
        data, st = self._read_file(sid)
        try:
            return session_codec.decode_session(data, sid, allow_torn=False), st, data
        except CorruptSession:
            pass
        with self._mutex:
            try:
                self.lock.acquire()
            except StorageError:
                # raises the first problem again
                return session_codec.decode_session(data, sid), st, None
            try:
                data, st = self._read_file(sid)
                try:
                    return session_codec.decode_session(data, sid, allow_torn=False), st, data
                except CorruptSession as exc:
                    repaired = self._repair_tail(sid, data)
                    if repaired is None:
                        raise exc from None
                    return repaired, self._stat_file(sid), None
            finally:
                self.lock.release()

    def _repair_tail(self, sid: str, data: bytes) -> Session | None:
        try:
            session = session_codec.repair_torn_tail(data, sid)
        except (RecursionError, MemoryError):
            return None  # damage of another shape: reported as such by the caller
        if session is None or not self._may_write() or session.format_version > FORMAT_VERSION:
            # A read-only store, or a newer version's file, is read as it was before the cut
            # and never rewritten.
            return session
        # Reading never needs the write (a full disk): the next write rewrites the file whole.
        with suppress(StorageError):
            files.atomic_write(self.dir / f"{sid}.json", session_codec.encode_session(session))
        return session

    def _load_state(self, sid: str) -> _FileState:
        session, st = self._load(sid)
        state = _FileState(
            st.st_ino, st.st_size, st.st_mtime_ns, summarize(session), session.format_version
        )
        self._files[sid] = state
        return state

    # ------------------------------------------------------------------ public API

    def list(self) -> list[SessionSummary]:
        with self._mutex:
            view = self._reconcile()
            self._problems = {sid: d.error for sid, d in view.damaged.items()}
            self._problems.update(self._unreadable)
            # An entry whose file we may no longer open is kept in the catalog (it may become
            # readable again) but not listed as if it were fine.
            found = [s for s in view.sessions.values() if s.id not in self._unreadable]
            return sorted(found, key=lambda s: s.updated_at, reverse=True)

    def problems(self) -> dict[str, str]:
        return dict(self._problems)

    def get(self, session_id: str) -> Session:
        sid = validate_id(session_id)
        session, _ = self._load(sid)
        return session

    def read_raw(self, session_id: str) -> bytes:
        """The file's bytes, for cheap pre-filtering (search)."""
        data, _ = self._read_file(validate_id(session_id))
        return data

    def search(
        self, query: Query, *, limit: int, progress: Progress | None = None
    ) -> builtins.list[SearchHit]:
        """Ranked hits from the search cache, brought up to date first (DESIGN section 12)."""
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

    def _stat_file(self, sid: str) -> os.stat_result:
        path = self.dir / f"{sid}.json"
        try:
            return os.stat(path, follow_symlinks=False)
        except OSError as exc:
            raise files.describe(exc, "read", path) from exc

    def _after_write(self, sid: str, summary: SessionSummary) -> SessionSummary:
        self._wrote = True
        st = self._stat_file(sid)
        self._files[sid] = _FileState(st.st_ino, st.st_size, st.st_mtime_ns, summary)
        self._record(Put(s=summary, f=(st.st_size, st.st_mtime_ns)))
        return summary

    def append(self, session_id: str, message: Message) -> SessionSummary:
        sid = validate_id(session_id)
        path = self.dir / f"{sid}.json"
        encoded_probe = session_codec.encode_message(message)  # fail on bad content before locking
        del encoded_probe
        with self._writing():
            try:
                fd = files.open_rw(path)
            except FileNotFoundError:
                raise SessionNotFound(sid) from None
            except OSError as exc:
                raise files.describe(exc, "open", path) from exc
            try:
                return self._append_locked(sid, fd, message)
            finally:
                os.close(fd)

    def _append_locked(self, sid: str, fd: int, message: Message) -> SessionSummary:
        st = os.fstat(fd)
        path = self.dir / f"{sid}.json"
        version = session_codec.head_version(os.pread(fd, session_codec.HEAD_PROBE, 0))
        if version is not None and version > FORMAT_VERSION:
            raise session_codec.refuse_newer(path, version)
        if stat.S_IMODE(st.st_mode) & 0o077:
            files.tighten([path])  # restored from git or a backup: private from now on
        state = self._files.get(sid)
        if state is None or (state.ino, state.size, state.mtime_ns) != (
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
        ):
            state = self._state_from_catalog(sid, st) or self._load_state(sid)
        probe_at = max(0, st.st_size - session_codec.TAIL_PROBE)
        end = os.pread(fd, st.st_size - probe_at, probe_at)
        found = session_codec.find_tail(end)
        if found is None or version is None or state.size != st.st_size:
            # Not our layout (hand-edited or older; ours starts with format_version): rewrite
            # it canonically, then append.
            session, _, data = self._load_with_bytes(sid)
            if session.format_version > FORMAT_VERSION:
                raise session_codec.refuse_newer(path, session.format_version)
            unknown = session_codec.unknown_fields(data) if data else None
            session.history.append(message)
            session.updated_at = message.created_at
            files.atomic_write(path, session_codec.encode_session(session, unknown))
            summary = self._after_write(sid, summarize(session))
            self._indexed("session_written", session, summary)
            return summary
        offset = st.st_size - found.length
        old_tail = end[len(end) - found.length :]
        payload = session_codec.append_bytes(
            message, first=found.empty, updated_at=message.created_at
        )
        try:
            files.write_all(fd, payload, offset)
            os.fsync(fd)
        except OSError as exc:
            self._files.pop(sid, None)
            self._undo_append(fd, offset, old_tail, st.st_size)
            raise files.describe(exc, "append to", self.dir / f"{sid}.json") from exc
        self._wrote = True
        new_st = os.fstat(fd)
        summary = summary_after_append(state.summary, message)
        self._files[sid] = _FileState(new_st.st_ino, new_st.st_size, new_st.st_mtime_ns, summary)
        self._record(Put(s=summary, f=(new_st.st_size, new_st.st_mtime_ns)))
        self._indexed("message_appended", summary, message)
        return summary

    def _undo_append(self, fd: int, offset: int, old_tail: bytes, old_size: int) -> None:
        """Put the old tail back after a failed append, so the file is byte-identical to before."""
        try:
            files.write_all(fd, old_tail, offset)
            os.ftruncate(fd, old_size)
            os.fsync(fd)
        except OSError:
            pass  # the torn tail is repaired on the next read, keeping every whole message

    def _state_from_catalog(self, sid: str, st: os.stat_result) -> _FileState | None:
        view = self._fresh_view()
        entry = view.sessions.get(sid)
        if entry is not None and view.stamps.get(sid) == (st.st_size, st.st_mtime_ns):
            return _FileState(st.st_ino, st.st_size, st.st_mtime_ns, entry)
        return None

    def update(self, session_id: str, **fields: Any) -> Session:
        sid = validate_id(session_id)
        path = self.dir / f"{sid}.json"
        with self._writing():
            session, _, data = self._load_with_bytes(sid)
            if session.format_version > FORMAT_VERSION:
                raise session_codec.refuse_newer(path, session.format_version)
            for key, value in fields.items():
                if key in ("id", "history", "format_version", "created_at"):
                    raise StorageError(f"field {key!r} cannot be changed")
                setattr(session, key, value)
            # Fields this version does not know (a plugin's, a person's) survive the rewrite.
            unknown = session_codec.unknown_fields(data) if data else None
            files.atomic_write(path, session_codec.encode_session(session, unknown))
            summary = self._after_write(sid, summarize(session))
            self._indexed("head_written", session, summary)
            return session

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

    def _stored_version(self, sid: str) -> int | None:
        """The format_version a session file claims; None when it cannot be read (a damaged
        file can still be deleted)."""
        try:
            data, _ = self._read_file(sid)
        except StorageError:
            return None
        return session_codec.stored_version(data)

    def get_current(self, po_name: str) -> str | None:
        with self._mutex:
            sid = self._fresh_view().current.get(po_name)
            if sid is not None and not (self.dir / f"{sid}.json").exists():
                return None
            return sid

    def set_current(self, po_name: str, session_id: str | None) -> None:
        if session_id is not None:
            validate_id(session_id)
        with self._writing():
            self._fresh_view()
            self._record(Current(po=po_name, id=session_id))
            self._wrote = True

    # ------------------------------------------------------------------ folding and health

    def flush(self) -> None:
        """Fold the journal into index.json so the folder at rest is the whole truth."""
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
                    view = self._reconcile()
                    files.atomic_write(self.index_path, catalog.encode_catalog(view))
                    self._drop_journal()
            finally:
                self._folding = False
            self._dirty = False
            self._journal_writes = 0

    def open_store(self) -> None:
        """Fold a journal or sweep temp files left by a crashed process, if the lock is free."""
        if not self.dir.is_dir():
            return
        try:
            names = os.listdir(self.dir)
        except OSError:
            return
        temp_left = any(n.endswith(files.TEMP_SUFFIX) for n in names)
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
                self.flush()
            except StorageError:
                # Folding is a tidy-up (a full disk, a read-only folder): readers read the
                # journal in memory, and reading never needs to write.
                pass
            finally:
                self.lock.release()

    def check(self, repair: bool = False) -> HealthReport:
        report = HealthReport()
        with self._mutex:
            self._folding = True
            # doctor reports loose modes as it finds them; only --repair changes them.
            tightened, self._tightened = self._tightened, True
            try:
                self._check(report, repair)
            finally:
                self._folding = False
                self._tightened = tightened
        self.search_cache.check(report, repair)
        return report

    def _check(self, report: HealthReport, repair: bool) -> HealthReport:
        newer = self._newer_catalog()
        if newer is not None:
            report.newer[str(self.index_path)] = (
                f"format_version {newer} is newer than this program ({FORMAT_VERSION}); "
                "the store is read-only and was left as it is"
            )
        if not self._may_write():
            view = self._rebuild_view()
            self._report(report, view)
            if newer is not None:
                view.version = newer  # still read-only after this check
            self._view = view
            self._check_modes(report, repair)
            return report
        with self._writing():
            self._sweep_temp_files()
            # Scan under the lock, so what is moved aside is damaged now, not a moment ago.
            current = self._current_or_empty()
            view = self._rebuild_view()
            self._report(report, view)
            if repair and view.damaged:
                self._move_aside(view, report)
            # A session that could not be opened just now is still there: keep its choice.
            view.current = {
                po: sid
                for po, sid in current.items()
                if sid in view.sessions or sid in self._unreadable
            }
            rebuilt = catalog.encode_catalog(view)
            try:
                same = self.index_path.read_bytes() == rebuilt
            except OSError:
                same = False
            if not same:  # a healthy catalog is left as it is: nothing was fixed
                files.atomic_write(self.index_path, rebuilt)
                report.fixed.append("catalog rebuilt from session files")
            self._drop_journal()
            self._view = View()
        self._dirty = False
        self._check_modes(report, repair)
        return report

    def _report(self, report: HealthReport, view: View) -> None:
        report.sessions = len(view.sessions)
        report.damaged = {sid: d.error for sid, d in view.damaged.items() if sid not in self._newer}
        report.unreadable = dict(self._unreadable)
        report.newer.update(self._newer)

    def _check_modes(self, report: HealthReport, repair: bool) -> None:
        aside = self.dir / "damaged"
        paths = [self.root, self.dir, *files.entries(self.dir)]
        if aside.is_dir():
            paths += files.entries(aside)
        check_private(report, paths, repair)

    def _current_or_empty(self) -> dict[str, str]:
        with suppress(catalog.CatalogUnreadable):
            catalog.refresh(self._view, self.index_path, self.journal_path)
        return dict(self._view.current)

    def _move_aside(self, view: View, report: HealthReport) -> None:
        aside = self.dir / "damaged"
        files.ensure_dir(aside)
        files.tighten([aside])
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for sid in sorted(view.damaged):
            if sid in self._newer:
                continue  # a newer version's file is not damage: never moved
            source = self.dir / f"{sid}.json"
            target = files.unused_path(aside, f"{sid}.{stamp}", ".json")
            try:
                os.replace(source, target)
            except OSError as exc:
                raise files.describe(exc, "move aside", source) from exc
            files.tighten([target])
            report.moved.append(str(target))
            view.apply(Drop(id=sid))
        self._sync_dir(aside)
        self._sync_dir(self.dir)

    def _sync_dir(self, folder: Path) -> None:
        try:
            files.fsync_dir(folder)
        except OSError as exc:
            raise files.describe(exc, "sync folder", folder) from exc

    def _drop_journal(self) -> None:
        """Remove the folded journal durably; a failure leaves it to be folded again (harmless)."""
        try:
            os.unlink(self.journal_path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise files.describe(exc, "remove", self.journal_path) from exc
        self._sync_dir(self.dir)

    def close(self) -> None:
        """Fold the journal and stop. Never raises for a fold that fails: every write that
        returned is already on disk, and the next process to open the store folds the journal.
        A failed fold after this backend's own writes is told with a :class:`StorageWarning`."""
        if self._closed:
            return
        self._wake.set()
        try:
            self.flush()
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
            self._closed = True
            if self._search_cache is not None:
                self._search_cache.close()
            _open_backends.discard(self)


@atexit.register
def _flush_open_backends() -> None:
    """A script that forgets close() still leaves the folder whole at rest."""
    for backend in list(_open_backends):
        with suppress(Exception):
            backend.close()
