"""The JSON store's state and write discipline: the store lock, the journal and its folding.

The bottom layer of :class:`~prompt_sessions.storage.json_backend.JsonBackend` (DESIGN section 4,
"Many processes, one store"): every write runs inside :meth:`JsonStoreBase._writing`, which holds
the store-wide lock, refuses a newer catalog, and schedules folding the journal into ``index.json``
once writes pause.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from ..errors import ReadOnlyStore, StorageError
from ..ids import validate_id
from ..models import FORMAT_VERSION, SessionSummary
from . import catalog, catalog_layout, files, in_step
from .catalog import Change, Current, FileStamp, View
from .json_write_hold import WriteHold
from .kept_file import KeptFile
from .locking import StoreLock

if TYPE_CHECKING:
    from .in_step import FolderKey, InStep
    from .search_cache import SearchCache

FOLD_AFTER_LINES = 2000
IDLE_FOLD_SECONDS = 2.0
# Every store not yet closed, so an exit folds the journals a script forgot to close.
open_backends: weakref.WeakSet[JsonStoreBase] = weakref.WeakSet()


class FileState(msgspec.Struct):
    """What this process last knew of a session file, valid while (ino, size, mtime) match."""

    ino: int
    size: int
    mtime_ns: int
    summary: SessionSummary
    version: int = FORMAT_VERSION  # a newer one than ours makes the file read-only here


class JsonStoreBase:
    """Paths, the lock, the journal and the fold thread of one JSON store folder."""

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
        self.lock = StoreLock(self.dir / ".lock", timeout=lock_timeout, keep_open=True)
        self.fold_after_lines = fold_after_lines
        self.idle_fold_seconds = idle_fold_seconds
        self._mutex = threading.RLock()
        self._view = View()
        self._files: dict[str, FileState] = {}
        self._problems: dict[str, str] = {}
        self._swept = False
        self._dirty = False
        self._rebuilt = False  # the catalog was unreadable: the next fold writes it whole
        self._choices_lost_told = False  # the warning that current choices are lost, once
        self._index_read: tuple[FileStamp, bytes] | None = None  # see _index_bytes
        self._journal_missed = False  # a change did not reach the journal
        self._folder_thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._last_write = 0.0
        self._closed = False
        self._folding = False
        self._journal_writes = 0
        self._unreadable: dict[str, str] = {}  # files we may not open, as of the last scan
        # Catalog entries (and their files' stamps) read by id while the catalog is not loaded.
        self._peeked: dict[str, tuple[SessionSummary, FileStamp | None]] = {}
        self._newer: dict[str, str] = {}  # sessions a newer version wrote, as of the last scan
        self._version_key: tuple[int, int, int] | None = None
        self._catalog_version: int | None = None
        self._catalog_folder: int | None = None
        self._write_depth = 0
        self._folder_at_entry: int | None = None
        self._folder_ok = False
        self._folder_looked = False
        self._journal_fd: int | None = None  # the journal, open while a write holds the lock
        self._journal_size = 0  # its size as this write knows it (a new line goes there)
        # The journal and the last session file written in place stay open between writes
        # (``kept_file``): an append then opens and closes nothing.
        self._kept_journal = KeptFile()
        self._kept_session = KeptFile()
        self._journal_name = str(self.journal_path)
        self._dir_name = str(self.dir)
        # What the last append left, for the next one to the same session (``in_step``), and
        # the modification time of the last file this process wrote in place there.
        self._in_step: InStep | None = None
        self._write_clock_ns: int | None = None
        self._step_start: tuple[FolderKey | None, int | None] | None = None
        self._index_name = str(self.index_path)  # a str: no Path converted per write
        self._tightened = False
        # The search index is a cache beside the store (DESIGN section 12). Made on first use,
        # so commands that never search do not import sqlite3.
        self._search_cache: SearchCache | None = None
        self._search_cache_file = self.root / "cache" / "search.sqlite3"
        self._no_search_cache_until = 0.0  # monotonic time until which no cache is assumed
        self._wrote = False  # this backend changed the store (so a failed fold is worth a word)
        open_backends.add(self)

    def path_for(self, session_id: str) -> Path:
        return self.dir / f"{validate_id(session_id)}.json"

    def _writing(self, *, in_place: bool = False) -> WriteHold:
        """``with`` it: hold the store lock for a write; create the folders; sweep leftovers
        once (:class:`WriteHold`).

        ``in_place``: the write changes existing session files only (an append); see
        :meth:`_begin_write`.
        """
        return WriteHold(self, in_place)

    def _after_crash(self) -> None:
        """Another process ended with the store open (``holder_mark``), perhaps between a
        write to a session file and its journal line: the catalog may not explain the folder.
        Until the next fold checks every file, the folder's time is moved off its stamp, so
        every ``list`` checks the files too (DESIGN sections 3 and 4)."""
        self._journal_missed = True  # the next fold checks every file
        with suppress(OSError):
            os.utime(self.dir)

    def _begin_write(self, in_place: bool) -> None:
        """Ready the store for a write under the lock: make it private and sweep a crash's
        temp files (once per process), open the journal, and note whether the folder is as the
        catalog left it (DESIGN section 10): only then may this write's own changes to it be
        pinned (:meth:`_pin_folder`).

        An ``in_place`` write with the journal already there adds and removes no name in
        ``sessions/``, so the folder's time, pinned or not, stays as it is and is not looked
        at: three stats fewer per append.
        """
        self._in_step = None  # this write may change what it vouches for
        # An in-place write reads the folder's key first, and the time of this process's last
        # write before it: its commit may leave an ``in_step`` record (``_commit_in_place``).
        self._step_start = (
            (in_step.folder_key(self._dir_name), self._write_clock_ns) if in_place else None
        )
        if in_place and self._swept and self._tightened and self._open_journal(create=False):
            self._folder_ok = False  # nothing of this write's to pin, unless it renames a file
            self._folder_looked = False  # in after all (:meth:`_before_rename_in`)
            return
        if not in_place:
            # This write may replace, move or remove the session file kept open: let it go now
            # rather than hold a removed file's data on disk until the next append.
            self._kept_session.close()
        self._look_at_folder()
        if not self._tightened:
            self._tighten_store()
        if not self._swept:
            self._sweep_temp_files()
            self._swept = True
        self._open_journal(create=True)

    def _look_at_folder(self) -> None:
        """Note whether ``sessions/`` is as the catalog left it, before this write changes it."""
        self._folder_at_entry = self._folder_mtime()
        stamp = self._folder_stamp()
        self._folder_ok = stamp is not None and self._folder_at_entry == stamp
        self._folder_looked = True

    def _before_rename_in(self) -> None:
        """Called by an in-place write that must rewrite its file whole after all (a file not in
        this program's layout): the folder is looked at before the rename moves its time, so a
        folder as the catalog left it is pinned back after the write."""
        if not self._folder_looked:
            self._look_at_folder()

    def _lock_folders(self) -> None:
        """Take the store lock, creating the folders first if missing.

        While the lock keeps its file open and that file is still in place (checked on each
        acquire), it vouches for the folders around it: two stats fewer per append (DESIGN
        section 10).
        """
        if self.lock.acquire_kept():
            return
        files.ensure_dir(self.root)
        files.ensure_dir(self.dir)
        self.lock.acquire()

    def _index_bytes(self, st: os.stat_result) -> bytes:
        """index.json's bytes (``st``: its stat, taken just before), or those read before in
        this process while its stamp is still theirs: a write command's look-ups and its fold
        read the catalog once (``rename`` looks up an id, then its new name, then folds), and
        ``catalog_lookup`` works out its facts of them once. Raises OSError."""
        stamp = catalog.stamp_of(st)
        kept = self._index_read
        if kept is not None and kept[0] == stamp:
            return kept[1]
        data = files.read_bytes(self.index_path)
        self._index_read = (stamp, data)
        return data

    def _folder_mtime(self) -> int | None:
        try:
            return os.stat(self.dir).st_mtime_ns
        except OSError:
            return None

    def _folder_as_pinned(self) -> bool:
        """Whether ``sessions/`` still has the modification time the catalog records: then every
        name in it was put there by a write that finished (see :meth:`_pin_folder`)."""
        stamp = self._folder_stamp()
        return stamp is not None and self._folder_mtime() == stamp

    def _folder_stamp(self) -> int | None:
        """The catalog's ``folder_mtime_ns`` (read with its version, one stat while index.json
        is unchanged)."""
        self._newer_catalog()
        return self._catalog_folder

    def _pin_folder(self) -> None:
        """Set the modification time of ``sessions/`` back to the catalog's stamp after this
        program's own changes to it, all of them in the catalog. A ``list`` that finds the
        folder with that time trusts the catalog without listing the folder; any file another
        program adds, removes or renames there moves the time on, since the stamp is in the
        past (DESIGN section 10). Under the store lock; a folder whose time cannot be set only
        makes lists check every file."""
        stamp = self._folder_stamp()
        if stamp is None:
            return
        with suppress(OSError):
            st = os.stat(self.dir)
            if st.st_mtime_ns != stamp:
                os.utime(self.dir, ns=(st.st_atime_ns, stamp))

    def _new_folder_stamp(self) -> int:
        """A stamp for a catalog that has none: a moment before the folder's last change, a
        time no later change can give it."""
        return (self._folder_at_entry or time.time_ns()) - 1

    def _open_journal(self, *, create: bool) -> bool:
        """Open the journal for this write's changes (:meth:`_record` writes to it); with
        ``create``, make it first if missing. Whether it is open.

        Made before the write starts, so that a write cut short (kill -9) before its change
        reached the journal, such as an append made in place, still leaves the journal behind,
        and the next open checks every session file against the catalog (a ``list`` checks
        only the folder's listing; DESIGN section 10). The descriptor kept from the last write
        is used again while the journal's path still names its file (``kept_file``).
        """
        kept = self._kept_journal
        self._journal_fd = None
        st = kept.reuse(self._journal_name)
        if st is None:
            with suppress(OSError):  # the write itself reports a folder it cannot write
                if create:
                    fd = files.open_append(self.journal_path)
                else:
                    fd = files.open_existing_append(self.journal_path)
                try:
                    st = os.fstat(fd)
                except OSError:
                    os.close(fd)
                    raise
                kept.keep(self._journal_name, fd, st)
        if st is not None:
            self._journal_fd = kept.fd
            self._journal_size = st.st_size
        return self._journal_fd is not None

    def _close_journal(self) -> None:
        """The write is over: the journal is kept open for the next one (``kept_file``)."""
        self._journal_fd = None
        self._kept_journal.done()

    def _close_kept_files(self) -> None:
        self._journal_fd = None
        self._kept_journal.close()
        self._kept_session.close()

    def _let_kept_files_go(self) -> None:
        """Close the kept files unless a write of this thread is still using them (a fold
        started from inside one)."""
        with self._mutex:
            if self._write_depth == 0:
                self._close_kept_files()

    def _wrote_catalog(self, folder: int) -> None:
        """Note the version and folder stamp of the index.json this process just wrote under
        the lock, so that the checks after it need not open it again (two opens and reads of a
        file just replaced, slow while the disk takes the new one; DESIGN section 10)."""
        try:
            st = os.stat(self.index_path, follow_symlinks=False)
        except OSError:
            return
        self._version_key = (st.st_ino, st.st_mtime_ns, st.st_size)
        self._catalog_version, self._catalog_folder = FORMAT_VERSION, folder

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
            st = os.stat(self._index_name, follow_symlinks=False)
            key: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        if key != self._version_key:
            self._version_key = key
            self._catalog_version = catalog.peek_version(self.index_path) if key else None
            self._catalog_folder = catalog_layout.peek_folder(self.index_path) if key else None
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

    def _may_write(self) -> bool:
        return os.access(self.dir, os.W_OK) and self._newer_catalog() is None

    def _sync_dir(self, folder: Path) -> None:
        try:
            files.fsync_dir(folder)
        except OSError as exc:
            raise files.describe(exc, "sync folder", folder) from exc

    def _drop_journal(self) -> None:
        """Remove the folded journal durably; a failure leaves it to be folded again (harmless)."""
        self._journal_fd = None  # a change recorded after this starts a new journal
        self._kept_journal.close()
        try:
            os.unlink(self.journal_path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise files.describe(exc, "remove", self.journal_path) from exc
        self._sync_dir(self.dir)

    def _record(self, change: Change) -> None:
        """Add one change to the journal (under the lock) and to our view."""
        data = catalog.encode_change(change)
        try:
            fd = self._journal_fd
            if fd is not None:  # opened as the write began
                self._write_journal_line(fd, data)
            else:
                fd = files.open_append(self.journal_path)
                try:
                    files.write_all(fd, catalog.line_start(fd) + data)
                finally:
                    os.close(fd)
        except OSError as exc:
            # The catalog misses a change: lists must look at the files, and the fold must
            # check them (the journal on disk cannot be spliced in alone).
            self._folder_ok = False
            self._journal_missed = True
            if isinstance(change, Current):
                # The current session per PO lives only in the catalog: losing the write
                # silently would report a switch that never happened.
                raise files.describe(exc, "write", self.journal_path) from exc
            # For the rest the catalog is a cache whose entries carry the (size, mtime) of the
            # file they were made from: a reader finds the entry stale and reads the file. The
            # catalog is kept, with the current-session choices only it holds.
        self._journal_writes += 1
        self._peeked.clear()  # the catalog changed since they were read
        if self._view.loaded:
            self._view.apply(change)

    def _write_journal_line(self, fd: int, data: bytes) -> None:
        """Append ``data`` (one encoded change) to the journal open as ``fd``.

        A journal that ends where this process's last whole line ended needs no look at its
        last byte (``catalog.line_start``): every writer holds the store lock.

        Raises:
            OSError: the write failed; the journal is closed, so the next write opens it again.
        """
        kept, size = self._kept_journal, self._journal_size
        line = data if size == 0 or size == kept.end else catalog.line_start(fd, size) + data
        kept.end = None  # not known while the line is not whole
        try:
            files.write_all(fd, line)
        except OSError:
            self._journal_fd = None
            kept.close()
            raise
        self._journal_size = kept.end = size + len(line)

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

    def _stop_fold_thread(self) -> None:
        """Stop the idle-fold thread and wait for a fold it is in, as close begins. The thread
        is a daemon, stopped wherever it is when the program ends: a fold it began after close
        (another process's journal line appeared) would leave its temp file behind."""
        self._closed = True  # the thread's loop ends, and no new thread starts
        self._wake.set()
        thread = self._folder_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

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

    if TYPE_CHECKING:  # defined by the backend, the top layer

        def flush(self) -> None: ...

        def close(self) -> None: ...
