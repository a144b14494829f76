"""The JSON store's trash: ``.prompt_objects/trash/<id>.json`` (DESIGN sections 3 and 14).

Deleting moves the session file into the trash folder with one ``rename`` and restoring moves it
back the same way, so the bytes never change and a crash at any instant leaves the session whole
in exactly one of the two folders (DESIGN section 4, "Crash-safe" and "Nothing is deleted
automatically"). Both folders are fsynced after each move. A trashed file's mtime is set to the
moment of deletion just before the move: it is what ``trash --empty --older-than`` reads.
"""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CorruptSession, SessionNotFound, StorageError
from ..ids import validate_id
from ..models import FORMAT_VERSION, Session, summarize
from ..timeutil import iso_from_epoch, parse_iso
from . import files, session_codec
from .base import HealthReport, TrashedSession, check_deleted_at, check_private
from .catalog import Drop

if TYPE_CHECKING:
    from .json_backend import JsonBackend

TRASH_DIR = "trash"
_TRASH_NAME = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json$")


def trash_dir(store: JsonBackend) -> Path:
    return store.root / TRASH_DIR


def _regular(path: Path, sid: str) -> os.stat_result:
    """The file's stat; SessionNotFound when absent, StorageError when it is not a plain file
    (a planted symlink or FIFO is never moved)."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        raise SessionNotFound(sid) from None
    except OSError as exc:
        raise files.describe(exc, "read", path) from exc
    if not stat.S_ISREG(st.st_mode):
        raise StorageError(f"{path} is not a regular file; it was left where it is")
    return st


def _move(store: JsonBackend, source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` and make both folders durable. Runs under the store lock,
    which every writer of both folders holds, so the check that ``target`` is free still holds
    at the rename: nothing is ever replaced."""
    if os.path.lexists(target):
        raise StorageError(f"{target} exists already; nothing was moved")
    try:
        os.rename(source, target)
    except FileNotFoundError:
        raise SessionNotFound(source.name[: -len(".json")]) from None
    except OSError as exc:
        raise files.describe(exc, "move", source) from exc
    store._sync_dir(target.parent)
    store._sync_dir(source.parent)


def trash(store: JsonBackend, session_id: str) -> None:
    """Move ``sessions/<id>.json`` to ``trash/<id>.json`` (see the module docstring)."""
    sid = validate_id(session_id)
    source = store.dir / f"{sid}.json"
    folder = trash_dir(store)
    with store._writing():
        _regular(source, sid)
        version = store._stored_version(sid)
        if version is not None and version > FORMAT_VERSION:
            # A newer version's session is read-only here (DESIGN section 4, "Versioned").
            raise session_codec.refuse_newer(source, version)
        files.ensure_dir(folder)
        now = time.time()
        try:
            os.utime(source, (now, now), follow_symlinks=False)
        except OSError as exc:
            raise files.describe(exc, "delete", source) from exc
        _move(store, source, folder / f"{sid}.json")
        store._files.pop(sid, None)
        store._wrote = True
        store._record(Drop(id=sid))
        store._indexed("session_dropped", sid)


def trashed(store: JsonBackend) -> list[TrashedSession]:
    """Every readable session in the trash, most recently deleted first."""
    found = []
    for path in files.entries(trash_dir(store)):
        if not _TRASH_NAME.match(path.name):
            continue
        try:
            entry = _read_entry(path)
        except (StorageError, OSError):
            continue  # doctor reports it
        found.append(entry)
    return sorted(found, key=lambda e: e.deleted_at, reverse=True)


def _read_entry(path: Path) -> TrashedSession:
    sid = path.name[: -len(".json")]
    st = _regular(path, sid)
    data = files.read_bytes(path)
    session = session_codec.decode_session(data, sid)
    return TrashedSession(summary=summarize(session), deleted_at=iso_from_epoch(st.st_mtime))


def restore(store: JsonBackend, session_id: str) -> TrashedSession:
    """Move ``trash/<id>.json`` back to ``sessions/<id>.json``, its bytes unchanged.

    Raises SessionNotFound when the trash has no such session, StorageError when a live session
    has that id or the trashed file cannot be read.
    """
    sid = validate_id(session_id)
    source = trash_dir(store) / f"{sid}.json"
    target = store.dir / f"{sid}.json"
    with store._writing():
        entry = _read_entry(source)
        if os.path.lexists(target):
            raise StorageError(f"a session with id {sid} exists already; the trashed one was kept")
        _move(store, source, target)
        session = session_codec.decode_session(files.read_bytes(target), sid)
        summary = store._after_write(sid, summarize(session))
        store._indexed("session_written", session, summary)
        return entry


def purge(store: JsonBackend, session_id: str) -> None:
    """Delete ``trash/<id>.json`` for good."""
    sid = validate_id(session_id)
    path = trash_dir(store) / f"{sid}.json"
    with store._writing():
        try:
            os.stat(path, follow_symlinks=False)
            os.unlink(path)
        except FileNotFoundError:
            raise SessionNotFound(sid) from None
        except OSError as exc:
            raise files.describe(exc, "delete", path) from exc
        store._sync_dir(path.parent)


def read_trashed(store: JsonBackend, session_id: str) -> Session:
    """The whole trashed session (``SupportsTrashCopy.read_trashed``)."""
    sid = validate_id(session_id)
    path = trash_dir(store) / f"{sid}.json"
    _regular(path, sid)
    return session_codec.decode_session(files.read_bytes(path), sid)


def put_trashed(store: JsonBackend, session: Session, deleted_at: str) -> None:
    """Write ``trash/<id>.json`` (atomically) with its mtime at ``deleted_at``
    (``SupportsTrashCopy.put_trashed``); StorageError when the trash holds its id already."""
    sid = validate_id(session.id)
    check_deleted_at(deleted_at)
    data = session_codec.encode_session(session)
    folder = trash_dir(store)
    target = folder / f"{sid}.json"
    # Half a millisecond past ``deleted_at``, so the float mtime ``trashed`` reads truncates
    # back to the same millisecond.
    ns = int(parse_iso(deleted_at).timestamp() * 1000) * 1_000_000 + 500_000
    with store._writing():
        files.ensure_dir(folder)
        if os.path.lexists(target):
            raise StorageError(f"the trash holds a session with id {sid} already; nothing written")
        files.atomic_write(target, data)
        try:
            os.utime(target, ns=(ns, ns), follow_symlinks=False)
        except OSError as exc:
            raise files.describe(exc, "write", target) from exc


def update_trashed(store: JsonBackend, session_id: str, **fields: Any) -> TrashedSession:
    """Rewrite ``trash/<id>.json`` (atomically) with ``fields`` changed, its mtime (the time
    of deletion) kept (``SupportsTrashUpdate.update_trashed``); fields this version does not
    know survive, as in ``update``."""
    sid = validate_id(session_id)
    session_codec.check_update(fields)
    path = trash_dir(store) / f"{sid}.json"
    with store._writing():
        st = _regular(path, sid)
        data = files.read_bytes(path)
        session = session_codec.decode_session(data, sid)
        files.atomic_write(path, session_codec.updated_bytes(path, session, data, fields))
        try:
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        except OSError as exc:
            raise files.describe(exc, "write", path) from exc
        return TrashedSession(summary=summarize(session), deleted_at=iso_from_epoch(st.st_mtime))


def check(store: JsonBackend, report: HealthReport, repair: bool) -> None:
    """Report trashed files that cannot be read (left where they are: the trash is already out
    of the way) and loose modes of the trash folder and its files."""
    folder = trash_dir(store)
    if not folder.is_dir():
        return
    for path in files.entries(folder):
        if not _TRASH_NAME.match(path.name):
            continue
        try:
            _read_entry(path)
        except CorruptSession as exc:
            report.damaged[f"trash/{path.name}"] = exc.reason
        except (StorageError, OSError) as exc:
            report.unreadable[f"trash/{path.name}"] = str(exc)
    check_private(report, [folder, *files.entries(folder)], repair)
