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
from .catalog import Bad, Change, Current, Damaged, Drop, FileStamp, Put, apply_current

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
        fd = os.open(index_path, os.O_RDONLY | os.O_NONBLOCK | files.NOFOLLOW | files.CLOEXEC)
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
    """One section of the catalog (entries joined by ``,\\n``) in the catalog's bytes, edited
    without copying them: entries are cut out or replaced by their offsets, and new ones put
    first; :meth:`parts` gives the section as slices of the original bytes and the new lines,
    joined once into the new catalog (each copy of 20,000 entries costs as much as a decode)."""

    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.view, self.start, self.end = data, memoryview(data), start, end
        self.cuts: dict[int, tuple[int, bytes | None]] = {}  # line start: (line end, new line)
        self.top: list[bytes] = []

    def _line_end(self, at: int) -> int:
        nl = self.data.find(b"\n", at, self.end)
        return self.end if nl < 0 else nl - 1  # a line but the last ends with ",\n"

    def remove(self, prefix: bytes) -> tuple[bytes, int] | None:
        """Remove the entry starting with ``prefix``: its bytes and its offset, or None when
        there is none."""
        at = self.data.find(b"\n" + prefix, self.start - 1, self.end)
        if at < 0:
            return None
        at += 1
        end = self._line_end(at)
        self.cuts[at] = (end, None)
        return self.data[at:end], at

    def first(self) -> bytes | None:
        """The first entry as the section stands now."""
        if self.top:
            return self.top[0]
        at = self.start
        while at < self.end:
            if at not in self.cuts:
                return self.data[at : self._line_end(at)]
            end, line = self.cuts[at]
            if line is not None:
                return line
            at = end + 2
        return None

    def put(self, at: int | None, line: bytes) -> None:
        """Put ``line`` first (``at`` None) or in place of the entry removed from ``at``."""
        if at is None:
            self.top.insert(0, line)
        else:
            self.cuts[at] = (self.cuts[at][0], line)

    def parts(self) -> list[bytes | memoryview]:
        pieces: list[bytes | memoryview] = list(self.top)
        at = self.start
        for cut in sorted(self.cuts):
            end, line = self.cuts[cut]
            if cut > at:
                pieces.append(self.view[at : cut - 2])  # the untouched entries before it
            if line is not None:
                pieces.append(line)
            at = min(end + 2, self.end)
        if at < self.end:
            pieces.append(self.view[at : self.end])
        joined: list[bytes | memoryview] = []
        for piece in pieces:
            if joined:
                joined.append(_SEP)
            joined.append(piece)
        return joined


def _id_prefix(sid: str) -> bytes:
    return b'{"id":"%s",' % sid.encode()


def _stamp_prefix(sid: str) -> bytes:
    return b'"%s":' % sid.encode()


def _cut(data: bytes) -> tuple[_Lines, bytes, _Lines, bytes] | None:
    """The sections of a catalog in the canonical layout (the two lists as :class:`_Lines`,
    ``current`` and ``damaged`` as bytes); None for any other bytes."""
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
    sessions = _Lines(data, m.end(), sessions_end)
    return sessions, current, _Lines(data, files_at + len(_FILES), damaged_at), damaged


def last_changes(changes: Iterable[Change]) -> list[Put | Drop | Bad]:
    """The session changes that still matter: each line carries a whole state, so only the
    last one per session counts; their order is kept. (Current-session changes, and what a
    ``del`` does to them, are applied in full order by :func:`splice`.)"""
    latest: dict[str, Put | Drop | Bad] = {}
    for change in changes:
        if not isinstance(change, Current):
            latest.pop(_sid(change), None)
            latest[_sid(change)] = change
    return list(latest.values())


def _sid(change: Put | Drop | Bad) -> str:
    return change.s.id if isinstance(change, Put) else change.id


def splice(data: bytes, changes: list[Change], folder: int | None) -> bytes | None:
    """``data`` (a catalog in the canonical layout) with ``changes`` applied and ``folder`` as
    its folder stamp, as :func:`encode` would write it; None when ``data`` is not in that
    layout or a change cannot be placed by splicing (the caller then decodes the catalog)."""
    parts = splice_parts(data, changes, folder)
    return None if parts is None else b"".join(parts)


def splice_parts(
    data: bytes, changes: list[Change], folder: int | None
) -> list[bytes | memoryview] | None:
    """:func:`splice` as the pieces to write in order: mostly slices of ``data``, so a fold
    copies the catalog once, into the file, rather than into a joined copy first."""
    cut = _cut(data)
    if cut is None:
        return None
    sessions, current_bytes, stamps, damaged_bytes = cut
    latest = last_changes(changes)
    if len(latest) > MAX_SPLICED:
        return None
    try:
        current = _current_decoder.decode(current_bytes)
        damaged = _damaged_decoder.decode(damaged_bytes)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None
    # The small tables replay every change in order, exactly as View.apply does.
    for change in changes:
        apply_current(current, change)
        if isinstance(change, Bad):
            damaged[change.id] = Damaged(error=change.error, stamp=change.f)
        elif not isinstance(change, Current):
            damaged.pop(_sid(change), None)
    for change in latest:
        sid = _sid(change)
        old = sessions.remove(_id_prefix(sid))
        old_stamp = stamps.remove(_stamp_prefix(sid))
        if isinstance(change, Put) and not _place(sessions, stamps, change, old, old_stamp):
            return None
    return [
        head(folder),
        *sessions.parts(),
        _CURRENT,
        _encoder.encode(current),
        _FILES,
        *stamps.parts(),
        _DAMAGED,
        _encoder.encode(damaged),
        _END,
    ]


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
    at: int | None
    stamp_at: int | None
    if top is None or key > order_key(top):
        at = stamp_at = None  # first
    elif was is not None and order_key(was) == key and (old_stamp or stamp is None):
        at, stamp_at = old[1], old_stamp[1] if old_stamp else None  # type: ignore[index]
    else:
        return False
    sessions.put(at, line)
    if stamp is not None:
        stamps.put(stamp_at, stamp)
    return True
