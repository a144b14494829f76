"""The catalog's canonical layout, and folding journal changes into it without decoding it.

``index.json`` as this program writes it puts every session's summary and every file stamp on a
line of its own, most recently updated first (ties by id)::

    {"format_version":1,"folder_mtime_ns":…,"sessions":[
    {"id":"…",…},
    {"id":"…",…}
    ],"current":{…},"files":{
    "<id>":[size,mtime_ns,inode],
    "<id>":[size,mtime_ns,inode]
    },"damaged":{…}}

JSON strings never hold a raw newline, so a line that starts with ``{"id":"<id>",`` is that
session's entry and nothing else. A write process folds its few changes into the catalog by
splicing those lines (:func:`splice`), at a cost of copying bytes rather than decoding and
encoding 20,000 entries (DESIGN section 10). Anything that is not exactly this layout (a catalog
pretty-printed by a person, cut short, from another version) makes :func:`splice` return None
and the caller decodes and rebuilds it the ordinary way. The result is byte for byte what
:func:`encode` writes for the same entries, so ``doctor`` finds nothing to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import msgspec

from ..models import FORMAT_VERSION, SessionSummary
from . import files
from .catalog import Bad, Change, Current, Damaged, Drop, FileStamp, Put

HEAD = b'{"format_version":%d,' % FORMAT_VERSION
_HEAD_RE = re.compile(
    rb'\{"format_version":%d,(?:"folder_mtime_ns":([0-9]{1,19}),)?"sessions":\[\n' % FORMAT_VERSION
)
_PROBE = 96  # enough for the head
_CURRENT = b'\n],"current":'
_FILES = b',"files":{\n'
_DAMAGED = b'\n},"damaged":'
_END = b"}\n"
_SEP = b",\n"
# More distinct sessions than this in one fold: decoding the catalog once is cheaper than a
# search of its bytes per session.
MAX_SPLICED = 64

_encoder = msgspec.json.Encoder()
_summary_decoder = msgspec.json.Decoder(SessionSummary)
_current_decoder = msgspec.json.Decoder(dict[str, str])
_damaged_decoder = msgspec.json.Decoder(dict[str, Damaged])


def order_key(summary: SessionSummary) -> tuple[str, str]:
    """Sessions are listed by this key, greatest first: the most recent first, ties by id."""
    return (summary.updated_at, summary.id)


def head(folder: int | None) -> bytes:
    """The catalog's first line: its version, the folder's stamp, the opening of the list."""
    if folder is None:
        return HEAD + b'"sessions":[\n'
    return HEAD + b'"folder_mtime_ns":%d,"sessions":[\n' % folder


def peek_folder(index_path: Path) -> int | None:
    """The ``folder_mtime_ns`` at the head of a catalog in the canonical layout, read without
    decoding the rest; None when it has none or is in another layout."""
    try:
        fd = os.open(index_path, os.O_RDONLY | files.NOFOLLOW | files.CLOEXEC)
    except OSError:
        return None
    try:
        m = _HEAD_RE.match(os.pread(fd, _PROBE, 0))
    except OSError:
        return None
    finally:
        os.close(fd)
    return int(m.group(1)) if m and m.group(1) else None


def encode(
    sessions: Iterable[SessionSummary],
    current: dict[str, str],
    stamps: dict[str, FileStamp],
    damaged: dict[str, Damaged],
    folder: int | None = None,
) -> bytes:
    """The catalog's bytes in the canonical layout; ``stamps`` of sessions not listed are left
    out."""
    ordered = sorted(sessions, key=order_key, reverse=True)
    lines = [_encoder.encode(s) for s in ordered]
    stamp_lines = [_stamp_line(s.id, stamps[s.id]) for s in ordered if s.id in stamps]
    return b"".join(
        (
            head(folder),
            _SEP.join(lines),
            _CURRENT,
            _encoder.encode(current),
            _FILES,
            _SEP.join(stamp_lines),
            _DAMAGED,
            _encoder.encode(damaged),
            _END,
        )
    )


def _stamp_line(sid: str, stamp: FileStamp) -> bytes:
    return b'"%s":%s' % (sid.encode(), _encoder.encode(stamp))


class _Lines:
    """One section of the catalog (entries joined by ``,\\n``), edited as bytes."""

    def __init__(self, region: bytes) -> None:
        # Every entry ends with ",\n" while editing: no special case for the last one.
        self.body = b"\n" + region + _SEP if region else b"\n"

    def find(self, prefix: bytes) -> tuple[int, int] | None:
        """Where the entry starting with ``prefix`` is (start, end past its ``,\\n``)."""
        start = self.body.find(b"\n" + prefix)
        if start < 0:
            return None
        start += 1
        end = self.body.find(b"\n", start)  # present: every entry ends with ",\n"
        return start, end + 1

    def remove(self, prefix: bytes) -> tuple[bytes, int] | None:
        """Remove the entry starting with ``prefix``: its bytes (without ``,\\n``) and where it
        was, or None when there is none."""
        where = self.find(prefix)
        if where is None:
            return None
        start, end = where
        line = self.body[start : end - 2]
        self.body = self.body[:start] + self.body[end:]
        return line, start

    def first(self) -> bytes | None:
        end = self.body.find(b"\n", 1)
        return self.body[1 : end - 1] if end > 0 else None

    def put(self, at: int, line: bytes) -> None:
        self.body = self.body[:at] + line + _SEP + self.body[at:]

    def region(self) -> bytes:
        return self.body[1:-2] if len(self.body) > 1 else b""


def _id_prefix(sid: str) -> bytes:
    return b'{"id":"%s",' % sid.encode()


def _stamp_prefix(sid: str) -> bytes:
    return b'"%s":' % sid.encode()


def _cut(data: bytes) -> tuple[bytes, bytes, bytes, bytes] | None:
    """The four sections of a catalog in the canonical layout; None for any other bytes."""
    m = _HEAD_RE.match(data)
    if m is None or not data.endswith(_END):
        return None
    sessions_end = data.find(_CURRENT, m.end() - 1)
    files_at = data.find(_FILES, sessions_end + 1) if sessions_end >= 0 else -1
    damaged_at = data.find(_DAMAGED, files_at + 1) if files_at >= 0 else -1
    if damaged_at < 0:
        return None
    current = data[sessions_end + len(_CURRENT) : files_at]
    damaged = data[damaged_at + len(_DAMAGED) : -len(_END)]
    if b"\n" in current or b"\n" in damaged:
        return None
    sessions = data[m.end() : sessions_end]
    return sessions, current, data[files_at + len(_FILES) : damaged_at], damaged


def last_changes(changes: Iterable[Change]) -> list[Change]:
    """The changes that still matter: each line carries a whole state, so only the last one
    per session (and per PO's current session) counts; their order is kept."""
    latest: dict[tuple[str, str], Change] = {}
    for change in changes:
        key = ("cur", change.po) if isinstance(change, Current) else ("s", _sid(change))
        latest.pop(key, None)
        latest[key] = change
    return list(latest.values())


def _sid(change: Put | Drop | Bad) -> str:
    return change.s.id if isinstance(change, Put) else change.id


def splice(data: bytes, changes: list[Change], folder: int | None) -> bytes | None:
    """``data`` (a catalog in the canonical layout) with ``changes`` applied and ``folder`` as
    its folder stamp, as :func:`encode` would write it; None when ``data`` is not in that
    layout or a change cannot be placed by splicing (the caller then decodes the catalog)."""
    cut = _cut(data)
    if cut is None:
        return None
    changes = last_changes(changes)
    if len(changes) > MAX_SPLICED:
        return None
    sessions_region, current_bytes, files_region, damaged_bytes = cut
    try:
        current = _current_decoder.decode(current_bytes)
        damaged = _damaged_decoder.decode(damaged_bytes)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None
    sessions, stamps = _Lines(sessions_region), _Lines(files_region)
    for change in changes:
        if isinstance(change, Current):
            if change.id is None:
                current.pop(change.po, None)
            else:
                current[change.po] = change.id
            continue
        sid = _sid(change)
        old = sessions.remove(_id_prefix(sid))
        old_stamp = stamps.remove(_stamp_prefix(sid))
        damaged.pop(sid, None)
        if isinstance(change, Drop):
            current = {po: cur for po, cur in current.items() if cur != sid}
        elif isinstance(change, Bad):
            damaged[sid] = Damaged(error=change.error, stamp=change.f)
        elif not _place(sessions, stamps, change, old, old_stamp):
            return None
    return b"".join(
        (
            head(folder),
            sessions.region(),
            _CURRENT,
            _encoder.encode(current),
            _FILES,
            stamps.region(),
            _DAMAGED,
            _encoder.encode(damaged),
            _END,
        )
    )


def _place(
    sessions: _Lines,
    stamps: _Lines,
    change: Put,
    old: tuple[bytes, int] | None,
    old_stamp: tuple[bytes, int] | None,
) -> bool:
    """Put a session's entry (removed already) where the order puts it: first when it is now
    the most recent, else where it was when its key did not change. False when it belongs
    anywhere else (the caller then encodes the whole catalog)."""
    key = order_key(change.s)
    line = _encoder.encode(change.s)
    stamp = _stamp_line(change.s.id, change.f) if change.f is not None else None
    first = sessions.first()
    try:
        top = _summary_decoder.decode(first) if first is not None else None
        was = _summary_decoder.decode(old[0]) if old is not None else None
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return False
    if top is None or key > order_key(top):
        at, stamp_at = 1, 1
    elif was is not None and order_key(was) == key and (old_stamp or stamp is None):
        at, stamp_at = old[1], old_stamp[1] if old_stamp else 0  # type: ignore[index]
    else:
        return False
    sessions.put(at, line)
    if stamp is not None:
        stamps.put(stamp_at, stamp)
    return True
