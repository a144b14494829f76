"""Reading a few entries of a catalog in the canonical layout without decoding it.

A write process in a store of 20,000 sessions needs one session's entry (the one a ref names)
and the per-PO current sessions, not the 6 MB catalog decoded (DESIGN section 10). The layout
(:mod:`.catalog_layout`) puts each entry on a line of its own, so these are found by a search of
the bytes and only their lines are decoded. Whatever the bytes cannot tell for sure makes these
functions return None, and the caller decodes the catalog the ordinary way.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from ..ids import all_valid_ids, is_valid_id
from ..models import SessionSummary
from .catalog import Change, FileStamp, apply_current
from .catalog_layout import _cut

_summary_decoder = msgspec.json.Decoder(SessionSummary)
_current_decoder = msgspec.json.Decoder(dict[str, str])
_stamp_decoder = msgspec.json.Decoder(tuple[int, int, int])


# Where a string equal to an id may stand in an entry without being a name.
_ID_KEYS = (b'\n{"id":', b'"parent_id":')


def entries_by_id(
    data: bytes, prefix: str, name: str
) -> list[tuple[SessionSummary, FileStamp | None]] | None:
    """The session entries of ``data`` (a catalog in the canonical layout) whose id starts with
    ``prefix`` (lowercase hex digits and dashes), each decoded alone with its file's stamp: a
    look-up that costs a search of the catalog's bytes, not a decode of every entry (DESIGN
    section 10).

    ``name`` is what was typed (hex digits of either case and dashes: JSON writes it as is, and
    no other text has its NFC form). None when the bytes cannot tell for sure: ``data`` is in
    another layout, an entry found does not decode or is listed twice, an id key stands
    anywhere but first in its entry, a string escapes a printable character (a name so written
    could equal ``name``), or ``name`` stands as a string anywhere but as an id (a session so
    named would win by the exact-name rule); the caller then decodes the catalog.
    """
    cut = _cut(data)
    if cut is None:
        return None
    sessions, _, stamps, _ = cut
    start, end = sessions.start - 1, sessions.end  # each entry starts after a newline
    if _escapes_printable(data, start, end) or _named(data, start, end, name):
        return None
    found: dict[str, tuple[SessionSummary, FileStamp | None]] = {}
    key = b'"id":"' + prefix.encode()
    at = data.find(key, start, end)
    while at >= 0:
        if data[at - 2 : at] != b"\n{":
            return None
        nl = data.find(b"\n", at, end)
        try:
            entry = _summary_decoder.decode(data[at - 1 : end if nl < 0 else nl].removesuffix(b","))
            if entry.id in found or not entry.id.startswith(prefix) or not is_valid_id(entry.id):
                return None
            found[entry.id] = (entry, _stamp(data, entry.id, stamps.start - 1, stamps.end))
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            return None
        at = data.find(key, at + 1, end)
    return list(found.values())


def _stamp(data: bytes, sid: str, start: int, end: int) -> FileStamp | None:
    """Session ``sid``'s file stamp in the ``files`` section (``start`` to ``end``), if any.
    Raises msgspec.DecodeError or ValidationError for a line that is not a stamp."""
    key = b'\n"%s":' % sid.encode()
    at = data.find(key, start, end)
    if at < 0:
        return None
    line = data[at + len(key) : data.find(b"\n", at + 1)].removesuffix(b",")
    return _stamp_decoder.decode(line)


def _escapes_printable(data: bytes, start: int, end: int) -> bool:
    """Whether a string between ``start`` and ``end`` escapes a character this program writes
    as is (it escapes only control characters, ``\\u0000`` to ``\\u001f``)."""
    at = data.find(b"\\", start, end)  # one byte: a fast search, and escapes are rare
    while at >= 0:
        if data[at + 1 : at + 2] == b"u" and data[at + 2 : at + 5] not in (b"000", b"001"):
            return True
        at = data.find(b"\\", at + 2, end)  # past it: "\\\\" is one escape, not two
    return False


def _named(data: bytes, start: int, end: int, name: str) -> bool:
    """Whether the string ``name`` stands between ``start`` and ``end`` other than as an id."""
    quoted = b'"%s"' % name.encode()
    at = data.find(quoted, start, end)
    while at >= 0:
        if not data.endswith(_ID_KEYS, start, at):
            return True
        at = data.find(quoted, at + 1, end)
    return False


def current_of(data: bytes, changes: Iterable[Change]) -> dict[str, str] | None:
    """The per-PO current sessions of ``data`` (a catalog in the canonical layout) with the
    journal's ``changes`` applied in order, as ``View.apply`` does; None for any other bytes
    or a table naming something that is not a session id."""
    cut = _cut(data)
    if cut is None:
        return None
    try:
        current = _current_decoder.decode(cut[1])
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None
    if not all_valid_ids(list(current.values())):
        return None
    for change in changes:
        apply_current(current, change)
    return current
