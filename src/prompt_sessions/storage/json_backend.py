"""The default backend: one ``<uuid>.json`` per session plus the ``index.json`` catalog.

Promises (DESIGN section 4): session files are the truth; every write is durable before it
returns; one store-wide lock serialises writers across processes; readers take no lock and retry
under it only when they catch a file mid-write; damage stays with the one session it hit.
"""

from __future__ import annotations

import atexit
import errno
import os
import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import msgspec

from ..errors import (
    CorruptSession,
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
from . import catalog, files, session_codec
from .base import HealthReport
from .catalog import Bad, Change, Current, Drop, Put, View
from .locking import StoreLock

FOLD_AFTER_LINES = 2000
IDLE_FOLD_SECONDS = 2.0
_open_backends: weakref.WeakSet[JsonBackend] = weakref.WeakSet()


class _FileState(msgspec.Struct):
    """What this process last knew of a session file, valid while (ino, size, mtime) match."""

    ino: int
    size: int
    mtime_ns: int
    summary: SessionSummary


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
        self._wrote = False  # this backend changed the store (so a failed fold is worth a word)
        _open_backends.add(self)

    # ------------------------------------------------------------------ paths and locking

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
        if self._view.loaded and self._view.version > FORMAT_VERSION:
            raise ReadOnlyStore(
                f"{self.index_path} has format_version {self._view.version}, newer than this "
                f"program ({FORMAT_VERSION}); the store is read-only. Upgrade prompt-sessions."
            )

    def _sweep_temp_files(self) -> None:
        try:
            names = os.listdir(self.dir)
        except OSError:
            return  # housekeeping only: a later open sweeps what this one could not
        for name in names:
            if name.startswith(".") and name.endswith(files.TEMP_SUFFIX):
                try:
                    os.unlink(self.dir / name)
                except OSError:
                    pass

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
            try:
                self.flush()
            except Exception:
                pass  # a background fold that fails is retried at close or next open
            if self._last_write < started:
                return

    # ------------------------------------------------------------------ catalog view

    def _fresh_view(self) -> View:
        """The catalog as index.json + journal say, rebuilt from files if it cannot be read."""
        try:
            catalog.refresh(self._view, self.index_path, self.journal_path)
        except catalog.CatalogUnreadable:
            current = self._view.current
            self._view = self._rebuild_view()
            # The per-PO current session lives only in the catalog: keep what we knew of it.
            self._view.current = {
                po: sid for po, sid in current.items() if sid in self._view.sessions
            }
            self._dirty = True  # so the next flush writes the rebuilt catalog over the bad one
        return self._view

    def _rebuild_view(self) -> View:
        view = View()
        view.loaded = True
        for sid in self._ids_on_disk():
            self._scan_into(view, sid)
        return view

    def _scan_into(self, view: View, sid: str) -> None:
        try:
            state = self._load_state(sid)
        except CorruptSession as exc:
            view.apply(Bad(id=sid, error=exc.reason, f=self._stamp(sid)))
        except SessionNotFound:
            view.apply(Drop(id=sid))
        else:
            view.apply(Put(s=state.summary, f=(state.size, state.mtime_ns)))

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
        """Make the view agree with the folder: add files it misses, drop entries whose file is gone."""
        view = self._fresh_view()
        on_disk = self._ids_on_disk()
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
            sid for sid in scanned if sid not in scratch.sessions and sid not in scratch.damaged
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
        return os.access(self.dir, os.W_OK) and not (
            self._view.loaded and self._view.version > FORMAT_VERSION
        )

    # ------------------------------------------------------------------ reading sessions

    def _read_file(self, sid: str) -> tuple[bytes, os.stat_result]:
        path = self.dir / f"{sid}.json"
        try:
            fd = os.open(
                path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
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
            data = os.pread(fd, st.st_size, 0) if st.st_size else b""
            return data, st
        except OSError as exc:
            raise files.describe(exc, "read", path) from exc
        finally:
            os.close(fd)

    def _load(self, sid: str) -> tuple[Session, os.stat_result]:
        """Read and decode; a file caught mid-write is read again under the lock, then repaired."""
        data, st = self._read_file(sid)
        try:
            return session_codec.decode_session(data, sid, allow_torn=False), st
        except CorruptSession:
            pass
        with self._mutex:
            try:
                self.lock.acquire()
            except StorageError:
                return session_codec.decode_session(data, sid), st  # raises the first problem again
            try:
                data, st = self._read_file(sid)
                try:
                    return session_codec.decode_session(data, sid, allow_torn=False), st
                except CorruptSession as exc:
                    repaired = self._repair_tail(sid, data)
                    if repaired is None:
                        raise exc from None
                    return repaired, self._stat_file(sid)
            finally:
                self.lock.release()

    def _repair_tail(self, sid: str, data: bytes) -> Session | None:
        session = session_codec.repair_torn_tail(data, sid)
        if session is None or not self._may_write():
            return session  # a read-only store still reads the file as it was before the cut
        # Reading never needs the write (a full disk): the next write rewrites the file whole.
        with suppress(StorageError):
            files.atomic_write(self.dir / f"{sid}.json", session_codec.encode_session(session))
        return session

    def _load_state(self, sid: str) -> _FileState:
        session, st = self._load(sid)
        state = _FileState(st.st_ino, st.st_size, st.st_mtime_ns, summarize(session))
        self._files[sid] = state
        return state

    # ------------------------------------------------------------------ public API

    def list(self) -> list[SessionSummary]:
        with self._mutex:
            view = self._reconcile()
            self._problems = {sid: d.error for sid, d in view.damaged.items()}
            return sorted(view.sessions.values(), key=lambda s: s.updated_at, reverse=True)

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

    def create(self, session: Session) -> SessionSummary:
        sid = validate_id(session.id)
        data = session_codec.encode_session(session)
        with self._writing():
            path = self.dir / f"{sid}.json"
            if os.path.lexists(path):
                raise StorageError(f"session {sid} already exists")
            files.atomic_write(path, data)
            return self._after_write(sid, summarize(session))

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
        if found is None or state.size != st.st_size:
            # Not our layout (hand-edited or older): rewrite it canonically, then append.
            session, _ = self._load(sid)
            session.history.append(message)
            session.updated_at = message.created_at
            files.atomic_write(self.dir / f"{sid}.json", session_codec.encode_session(session))
            return self._after_write(sid, summarize(session))
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
        with self._writing():
            session, _ = self._load(sid)
            for key, value in fields.items():
                if key in ("id", "history", "format_version", "created_at"):
                    raise StorageError(f"field {key!r} cannot be changed")
                setattr(session, key, value)
            files.atomic_write(self.dir / f"{sid}.json", session_codec.encode_session(session))
            self._after_write(sid, summarize(session))
            return session

    def delete(self, session_id: str) -> None:
        sid = validate_id(session_id)
        path = self.dir / f"{sid}.json"
        with self._writing():
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
            try:
                return self._check(report, repair)
            finally:
                self._folding = False

    def _check(self, report: HealthReport, repair: bool) -> HealthReport:
        if not self._may_write():
            view = self._rebuild_view()
            self._report(report, view)
            self._view = view
            return report
        with self._writing():
            self._sweep_temp_files()
            # Scan under the lock, so what is moved aside is damaged now, not a moment ago.
            current = self._current_or_empty()
            view = self._rebuild_view()
            self._report(report, view)
            if repair and view.damaged:
                self._move_aside(view, report)
            view.current = {po: sid for po, sid in current.items() if sid in view.sessions}
            files.atomic_write(self.index_path, catalog.encode_catalog(view))
            self._drop_journal()
            self._view = View()
        report.fixed.append("catalog rebuilt from session files")
        self._dirty = False
        return report

    def _report(self, report: HealthReport, view: View) -> None:
        report.sessions = len(view.sessions)
        report.damaged = {sid: d.error for sid, d in view.damaged.items()}

    def _current_or_empty(self) -> dict[str, str]:
        try:
            catalog.refresh(self._view, self.index_path, self.journal_path)
        except catalog.CatalogUnreadable:
            pass
        return dict(self._view.current)

    def _move_aside(self, view: View, report: HealthReport) -> None:
        aside = self.dir / "damaged"
        files.ensure_dir(aside)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for sid in sorted(view.damaged):
            source = self.dir / f"{sid}.json"
            target = aside / f"{sid}.{stamp}.json"
            try:
                os.replace(source, target)
            except OSError as exc:
                raise files.describe(exc, "move aside", source) from exc
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
            _open_backends.discard(self)


@atexit.register
def _flush_open_backends() -> None:
    """A script that forgets close() still leaves the folder whole at rest."""
    for backend in list(_open_backends):
        try:
            backend.close()
        except Exception:
            pass
