"""The catalog: ``index.json`` plus, while a process writes, an ``index.journal`` of changes.

``index.json`` is a cache of the session files. Rewriting it for every append would cost
O(sessions), so writers add one line per change to ``index.journal`` (O_APPEND, under the store
lock) and fold the journal into ``index.json`` when they close, go idle or the journal grows.
Every journal line carries the full new state of an entry, so replaying one twice is harmless and
a torn last line (a crash) is simply skipped.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import msgspec

from ..ids import all_valid_ids, is_valid_id
from ..models import FORMAT_VERSION, SessionSummary
from . import files

# (size, mtime_ns, inode) of a session file when its entry was made. Catalogs written before
# the inode was kept hold (size, mtime_ns): such a stamp never matches, so its file is read again.
FileStamp = tuple[int, ...]


def stamp_of(st: os.stat_result) -> FileStamp:
    """The stamp of a session file from its ``stat``."""
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class Damaged(msgspec.Struct, omit_defaults=True):
    error: str
    stamp: FileStamp | None = None


class CatalogFile(msgspec.Struct, kw_only=True):
    format_version: int = FORMAT_VERSION
    sessions: list[SessionSummary] = msgspec.field(default_factory=list)
    current: dict[str, str] = msgspec.field(default_factory=dict)
    files: dict[str, FileStamp] = msgspec.field(default_factory=dict)
    damaged: dict[str, Damaged] = msgspec.field(default_factory=dict)
    # The modification time ``sessions/`` keeps at rest while the catalog explains every file
    # in it (``JsonStoreBase._pin_folder``); None in a catalog that never had one.
    folder_mtime_ns: int | None = None


class Put(msgspec.Struct, tag="put", tag_field="op"):
    s: SessionSummary
    f: FileStamp | None = None


class Drop(msgspec.Struct, tag="del", tag_field="op"):
    id: str


class Current(msgspec.Struct, tag="cur", tag_field="op"):
    po: str
    id: str | None


class Bad(msgspec.Struct, tag="bad", tag_field="op"):
    id: str
    error: str
    f: FileStamp | None = None


Change = Put | Drop | Current | Bad

_catalog_decoder = msgspec.json.Decoder(CatalogFile)
_change_decoder = msgspec.json.Decoder(Change)
_encoder = msgspec.json.Encoder()


class CatalogUnreadable(Exception):
    def __init__(self, message: str, version: int | None = None) -> None:
        super().__init__(message)
        self.version = version  # the format_version it claims, when that much could be read


_VERSION_RE = re.compile(rb'\s*\{\s*"format_version"\s*:\s*([0-9]{1,9})\s*[,}]')
_raw_decoder = msgspec.json.Decoder()


def version_of(data: bytes) -> int | None:
    """The ``format_version`` a catalog's bytes claim, even when the rest cannot be decoded:
    from its first bytes when it starts the way we write it, else from a plain decode."""
    m = _VERSION_RE.match(data[:64])
    if m:
        return int(m.group(1))
    try:
        doc = _raw_decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    version = doc.get("format_version") if isinstance(doc, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def peek_version(index_path: Path) -> int | None:
    """The catalog's ``format_version`` without decoding the whole catalog; None if it has none
    or cannot be read (a writer then rebuilds it as usual)."""
    try:
        fd = os.open(index_path, os.O_RDONLY | os.O_NONBLOCK | files.NOFOLLOW | files.CLOEXEC)
    except OSError:
        return None
    try:
        head = os.pread(fd, 64, 0)
        if _VERSION_RE.match(head):
            return version_of(head)
        return version_of(files.read_fd(fd))
    except OSError:
        return None
    finally:
        os.close(fd)


def apply_current(current: dict[str, str], change: Change) -> None:
    """Apply one change to the current session per PO (PO name -> session id), in place: a
    ``Current`` chooses or clears one, a ``Drop`` clears every choice of the dropped session;
    other changes leave it alone. The one rule for the catalog, its splice and its lookup."""
    if isinstance(change, Current):
        if change.id is None:
            current.pop(change.po, None)
        else:
            current[change.po] = change.id
    elif isinstance(change, Drop):
        for po in [po for po, sid in current.items() if sid == change.id]:
            del current[po]


class View:
    """An in-memory catalog, kept in step with the files on disk incrementally."""

    def __init__(self) -> None:
        self.sessions: dict[str, SessionSummary] = {}
        self.stamps: dict[str, FileStamp] = {}
        self.current: dict[str, str] = {}
        self.damaged: dict[str, Damaged] = {}
        self.version = FORMAT_VERSION
        self.folder: int | None = None  # the catalog's folder_mtime_ns
        self.index_key: tuple[int, int, int] | None = None
        self.journal_ino: int | None = None
        self.journal_offset = 0
        self.journal_lines = 0
        self.loaded = False

    def apply(self, change: Change) -> None:
        if isinstance(change, Put):
            sid = change.s.id
            self.sessions[sid] = change.s
            self.damaged.pop(sid, None)
            if change.f is not None:
                self.stamps[sid] = change.f
            else:
                self.stamps.pop(sid, None)
        elif isinstance(change, Drop):
            self.sessions.pop(change.id, None)
            self.stamps.pop(change.id, None)
            self.damaged.pop(change.id, None)
            apply_current(self.current, change)
        elif isinstance(change, Current):
            apply_current(self.current, change)
        else:  # Bad
            self.sessions.pop(change.id, None)
            self.damaged[change.id] = Damaged(error=change.error, stamp=change.f)
            # Like a put: an entry without the stamp of the file it judged is checked again.
            if change.f is not None:
                self.stamps[change.id] = change.f
            else:
                self.stamps.pop(change.id, None)


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def refresh(view: View, index_path: Path, journal_path: Path) -> None:
    """Bring ``view`` up to date with index.json and the journal, reading only what changed.

    Raises CatalogUnreadable when index.json exists but cannot be decoded (the caller rebuilds).
    """
    for _ in range(5):
        key = _stat_key(index_path)
        if key != view.index_key or not view.loaded:
            _load_index(view, index_path, key)
        _read_journal(view, journal_path)
        # A fold between reading the index and the journal would hide changes: check and retry.
        if _stat_key(index_path) == view.index_key:
            return


def _load_index(view: View, index_path: Path, key: tuple[int, int, int] | None) -> None:
    fresh = View()
    if key is not None:
        try:
            data = files.read_bytes(index_path)
            catalog = _catalog_decoder.decode(data)
        except FileNotFoundError:
            key = None
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            raise CatalogUnreadable(str(exc), version_of(data)) from exc
        except (OSError, RecursionError, MemoryError) as exc:
            raise CatalogUnreadable(str(exc)) from exc
        else:
            if not _ids_valid(catalog):
                # Ids from the catalog become file names: one that is not a UUID is hostile or
                # damaged, and the whole catalog is rebuilt from the session files instead.
                raise CatalogUnreadable("the catalog holds an entry whose id is not a session id")
            fresh.version = catalog.format_version
            fresh.folder = catalog.folder_mtime_ns
            fresh.sessions = {s.id: s for s in catalog.sessions}
            fresh.stamps = dict(catalog.files)
            # A damaged file's stamp is kept with its entry; without it every reader would
            # judge the file again and write the same verdict to the journal.
            fresh.stamps.update((sid, d.stamp) for sid, d in catalog.damaged.items() if d.stamp)
            fresh.current = dict(catalog.current)
            fresh.damaged = dict(catalog.damaged)
    view.__dict__.update(fresh.__dict__)
    view.index_key = key
    view.loaded = True


def _ids_valid(catalog: CatalogFile) -> bool:
    return (
        all_valid_ids([s.id for s in catalog.sessions])
        and all_valid_ids(list(catalog.current.values()))
        and all_valid_ids(list(catalog.files))
        and all_valid_ids(list(catalog.damaged))
    )


def _change_valid(change: Change) -> bool:
    if isinstance(change, Put):
        return is_valid_id(change.s.id)
    return change.id is None or is_valid_id(change.id)


def decode_changes(data: bytes) -> list[Change]:
    """The journal lines in ``data`` that can be trusted, in order: a torn or damaged line, or
    one naming an id that is not a session id, is skipped as :func:`refresh` skips it."""
    end = data.rfind(b"\n") + 1  # a line without its newline is still being written or torn
    changes = []
    for line in data[:end].splitlines():
        try:
            change = _change_decoder.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
            continue
        if _change_valid(change):
            changes.append(change)
    return changes


def _read_journal(view: View, journal_path: Path) -> None:
    try:
        fd = os.open(journal_path, os.O_RDONLY | os.O_NONBLOCK | files.NOFOLLOW | files.CLOEXEC)
    except FileNotFoundError:
        view.journal_ino = None
        view.journal_offset = 0
        view.journal_lines = 0
        return
    except OSError as exc:
        # A journal we cannot read (an I/O error, a planted symlink) cannot be trusted either.
        raise CatalogUnreadable(str(exc)) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # a named pipe would block every reader: no journal
            raise CatalogUnreadable(f"{journal_path} is not a regular file")
        if st.st_ino != view.journal_ino or st.st_size < view.journal_offset:
            view.journal_ino = st.st_ino
            view.journal_offset = 0
            view.journal_lines = 0
        if st.st_size == view.journal_offset:
            return
        data = os.pread(fd, st.st_size - view.journal_offset, view.journal_offset)
    except OSError as exc:
        raise CatalogUnreadable(str(exc)) from exc
    finally:
        os.close(fd)
    end = data.rfind(b"\n") + 1  # a line without its newline is still being written or torn
    for line in data[:end].splitlines():
        try:
            change = _change_decoder.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
            continue  # a torn or damaged line; every line carries a full state, so skip it
        if _change_valid(change):
            view.apply(change)
        view.journal_lines += 1
    view.journal_offset += end


def line_start(fd: int, size: int | None = None) -> bytes:
    """What to write before a new journal line so that it starts on a line of its own.

    A process killed mid-write leaves a last line without its newline; a line appended right
    after it would join it and be skipped with it, losing an acknowledged change. ``fd`` is the
    journal, open for reading and appending, under the store lock; ``size`` its size in bytes
    when known (else it is looked up).
    """
    if size is None:
        size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        return b"\n"  # ends the torn line; the reader skips it as it skips any torn line
    return b""


def encode_change(change: Change) -> bytes:
    return _encoder.encode(change) + b"\n"


def encode_catalog(view: View) -> bytes:
    """The view as ``index.json``, in the canonical layout of :mod:`.catalog_layout`."""
    from .catalog_layout import encode  # that module builds on this one's types

    return encode(view.sessions.values(), view.current, view.stamps, view.damaged, view.folder)
