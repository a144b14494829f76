"""Backups of an environment (DESIGN section 14, "Backup and prune"): a dated zip of the
sessions (live and trashed), the PO files and config.toml, and a restore that only adds.

Zip layout: ``sessions/<uuid>.json`` and ``trash/<uuid>.json`` (session files, byte for byte on
the JSON store), ``objects/<name>.md``, ``config.toml`` and ``manifest.json``. A restore adds
what the environment lacks and never replaces anything: a session, PO file or config that exists
with other content is listed as a conflict. A zip is read as hostile data (DESIGN section 4):
only the names above are accepted, member sizes are capped as they are read (not as declared),
links are refused, and any breach refuses the whole file before anything is written.
"""

from __future__ import annotations

import os
import re
import stat
import time
import zipfile
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from ..errors import (
    CorruptSession,
    ImportFormatError,
    SessionNotFound,
    StorageError,
    UsageError,
)
from ..limits import MAX_IMPORT_BYTES
from ..models import Session
from ..storage import files, session_codec
from ..storage.base import SupportsPaths, SupportsRawRead, SupportsTrash, SupportsTrashCopy
from ..text import visible
from ..timeutil import now_iso

if TYPE_CHECKING:
    from ..manager import SessionManager

BACKUP_FORMAT = 1
MAX_MEMBER_BYTES = MAX_IMPORT_BYTES  # one session file, PO file or config
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024  # everything a restore unpacks
MAX_MEMBERS = 1_000_000
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SESSION = re.compile(rf"^(sessions|trash)/({_UUID})\.json$")
_OBJECT = re.compile(r"^objects/([^/\\\x00-\x1f.][^/\\\x00-\x1f]{0,199})\.md$")
Progress = Callable[[int, int], None]


def default_name(now: float | None = None) -> str:
    """``prompt-sessions-backup-YYYYMMDD-HHMMSS.zip`` in UTC."""
    return time.strftime("prompt-sessions-backup-%Y%m%d-%H%M%S.zip", time.gmtime(now))


def _session_bytes(manager: SessionManager, session_id: str) -> bytes:
    if isinstance(manager.backend, SupportsRawRead):
        return manager.backend.read_raw(session_id)
    return session_codec.encode_session(manager.get(session_id))


def _trashed_bytes(manager: SessionManager, session_id: str) -> bytes | None:
    backend = manager.backend
    if not isinstance(backend, SupportsPaths) and isinstance(backend, SupportsTrashCopy):
        # A trash that is not files (sqlite, postgres): the session file's bytes, encoded.
        try:
            return session_codec.encode_session(backend.read_trashed(session_id))
        except StorageError:
            return None  # emptied meanwhile, or damaged: doctor reports it
    path = manager.root / "trash" / f"{session_id}.json"
    try:
        return files.read_bytes(path)
    except OSError:
        return None  # a store with neither: its backup holds the live sessions only


def write_backup(
    manager: SessionManager, target: Path, progress: Progress | None = None
) -> dict[str, int]:
    """Write the zip to ``target`` (a temp file renamed into place: never half a backup).

    Returns:
        Counts: ``sessions``, ``trash``, ``objects``, ``config`` (0 or 1).

    Raises:
        UsageError: ``target`` exists already.
        StorageError: it cannot be written.
    """
    if os.path.lexists(target):
        raise UsageError(
            f"{visible(str(target), one_line=True)} exists already; choose another name with -o"
        )
    manager.flush()
    summaries = manager.list()
    trashed = manager.trashed() if isinstance(manager.backend, SupportsTrash) else []
    objects = sorted((manager.root / "objects").glob("*.md"))
    config = manager.root / "config.toml"
    total = len(summaries) + len(trashed) + len(objects) + 1
    counts = {"sessions": 0, "trash": 0, "objects": 0, "config": 0}
    tmp = files.temp_path_for(target)
    done = 0
    try:
        # Private like the store it copies (DESIGN section 4): 0600 from the start.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | files.NOFOLLOW, files.FILE_MODE)
        with (
            os.fdopen(fd, "wb") as raw,
            zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        ):
            for summary in summaries:
                try:
                    zf.writestr(f"sessions/{summary.id}.json", _session_bytes(manager, summary.id))
                    counts["sessions"] += 1
                except (SessionNotFound, CorruptSession, OSError):
                    pass  # deleted meanwhile, or damaged: doctor reports it
                done += 1
                if progress:
                    progress(done, total)
            for entry in trashed:
                data = _trashed_bytes(manager, entry.summary.id)
                if data is not None:
                    zf.writestr(f"trash/{entry.summary.id}.json", data)
                    counts["trash"] += 1
                done += 1
                if progress:
                    progress(done, total)
            for path in objects:
                data = _po_file_bytes(path)
                if data is not None:
                    zf.writestr(f"objects/{path.name}", data)
                    counts["objects"] += 1
                done += 1
                if progress:
                    progress(done, total)
            if config.is_file() and not config.is_symlink():
                zf.writestr("config.toml", config.read_bytes())
                counts["config"] = 1
            manifest = {"format": BACKUP_FORMAT, "created_at": now_iso(), **counts}
            zf.writestr("manifest.json", msgspec.json.encode(manifest))
            if progress:
                progress(total, total)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(tmp)
        raise files.describe(exc, "write", target) from exc
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return counts


def _po_file_bytes(path: Path) -> bytes | None:
    """A PO file's bytes for the backup; None for a symbolic link or anything not a regular
    file (a FIFO would block the read), and for a file removed since it was listed."""
    from ..objects import PromptObjectError, po_bytes

    if path.is_symlink() or not path.is_file():
        return None
    try:
        return po_bytes(path)
    except (FileNotFoundError, PromptObjectError):
        return None


@dataclass
class RestoreReport:
    """What ``restore-backup`` did: added items and conflicts (never overwritten), by name."""

    added: list[str] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)


def _read_members(path: Path) -> dict[str, bytes]:
    """Every accepted member's bytes; ImportFormatError (one line) for anything hostile."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ImportFormatError(f"{path} is not a readable zip file ({exc})") from None
    found: dict[str, bytes] = {}
    total = 0
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ImportFormatError(f"{path} has {len(infos)} members; the limit is {MAX_MEMBERS}")
        for info in infos:
            name = info.filename
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ImportFormatError(f"{path}: member {name!r} is a link, which is refused")
            if not (
                name in ("config.toml", "manifest.json")
                or _SESSION.match(name)
                or _OBJECT.match(name)
            ):
                raise ImportFormatError(
                    f"{path}: member {name!r} is not part of a backup (refused, nothing restored)"
                )
            if name in found:
                raise ImportFormatError(f"{path}: member {name!r} appears twice")
            if info.file_size > MAX_MEMBER_BYTES:
                raise ImportFormatError(
                    f"{path}: member {name!r} is {info.file_size} bytes; the limit is "
                    f"{MAX_MEMBER_BYTES}"
                )
            try:
                with zf.open(info) as member:
                    data = member.read(MAX_MEMBER_BYTES + 1)  # declared sizes can lie
            except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as exc:
                raise ImportFormatError(f"{path}: member {name!r} cannot be read ({exc})") from None
            if len(data) > MAX_MEMBER_BYTES:
                raise ImportFormatError(f"{path}: member {name!r} is larger than its limit")
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise ImportFormatError(f"{path} unpacks to more than {MAX_TOTAL_BYTES} bytes")
            found[name] = data
    if "manifest.json" not in found:
        raise ImportFormatError(f"{path} is not a prompt-sessions backup (no manifest.json)")
    return found


def restore_backup(
    manager: SessionManager, path: Path, progress: Progress | None = None
) -> RestoreReport:
    """Add what the backup holds and the environment lacks; list every conflict.

    Raises:
        ImportFormatError: the file is not a backup, or is hostile; nothing was written.
    """
    members = _read_members(path)
    sessions: list[tuple[str, str, Session]] = []
    for name, data in sorted(members.items()):
        m = _SESSION.match(name)
        if m is None:
            continue
        try:
            session = session_codec.decode_session(data, m.group(2), allow_torn=False)
        except CorruptSession as exc:
            raise ImportFormatError(f"{path}: {name} cannot be read: {exc.reason}") from None
        sessions.append((name, m.group(1), session))
    report = RestoreReport()
    for name, data in sorted(members.items()):
        if name == "config.toml" or _OBJECT.match(name):
            _restore_file(manager.root / name, data, name, report)
    if "config.toml" in report.added:
        # The restored config may name another backend: the sessions go where it says.
        other = _store_named_by_config(manager)
        if other is not None:
            with other:
                _restore_sessions(other, members, sessions, report, progress)
            return report
    _restore_sessions(manager, members, sessions, report, progress)
    return report


def _store_named_by_config(manager: SessionManager) -> SessionManager | None:
    from ..config import check_config, load_config
    from ..manager import SessionManager

    wanted = check_config(load_config(manager.root), manager.host).storage.backend
    if wanted == manager.backend.name:
        return None
    return SessionManager.open(manager.root, host=manager.host)


def _restore_sessions(
    manager: SessionManager,
    members: dict[str, bytes],
    sessions: list[tuple[str, str, Session]],
    report: RestoreReport,
    progress: Progress | None,
) -> None:
    live = {s.id: s for s in manager.list()}
    trashed = (
        {e.summary.id for e in manager.trashed()}
        if isinstance(manager.backend, SupportsTrash)
        else set()
    )
    total = len(sessions)
    done = 0
    for name, place, session in sessions:
        sid = session.id
        done += 1
        if progress:
            progress(done, total)
        if sid in live or sid in trashed:
            now = _existing_bytes(manager, sid) if sid in live else _trashed_bytes(manager, sid)
            if now == members[name] or (sid in live and live[sid] == session.summary()):
                report.unchanged += 1
            else:
                where = "the trash" if sid in trashed else "the store"
                report.conflicts.append(f"{name}: {where} holds another version; kept")
            continue
        try:
            if place == "trash" and isinstance(manager.backend, SupportsTrashCopy):
                manager.backend.put_trashed(session, now_iso())  # never live, even for a moment
            else:
                manager.backend.create(session)
                if place == "trash" and isinstance(manager.backend, SupportsTrash):
                    manager.backend.trash(sid)
        except StorageError as exc:
            report.conflicts.append(f"{name}: not restored ({exc})")
            continue
        report.added.append(name)
    if progress:
        progress(total, total)


def _existing_bytes(manager: SessionManager, sid: str) -> bytes | None:
    try:
        return _session_bytes(manager, sid)
    except (StorageError, OSError):
        return None


def _restore_file(target: Path, data: bytes, name: str, report: RestoreReport) -> None:
    if os.path.lexists(target):
        try:
            same = files.read_bytes(target) == data
        except OSError:
            same = False
        if same:
            report.unchanged += 1
        else:
            report.conflicts.append(f"{name}: the environment's own file differs; kept")
        return
    files.ensure_dir(target.parent)
    tmp = files.temp_path_for(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | files.NOFOLLOW, files.FILE_MODE)
        try:
            files.write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        # A link never replaces: a file that appeared meanwhile is kept, and the target is
        # never seen half written.
        os.link(tmp, target)
        files.fsync_dir(target.parent)
    except FileExistsError:
        report.conflicts.append(f"{name}: appeared while restoring; kept")
        return
    except OSError as exc:
        raise files.describe(exc, "write", target) from exc
    finally:
        with suppress(OSError):
            os.unlink(tmp)
    report.added.append(name)
