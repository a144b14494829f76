"""Reading a few entries of a catalog in the canonical layout without decoding it.

A write process in a store of 20,000 sessions needs one session's entry (the one a ref names)
and the per-PO current sessions, not the 6 MB catalog decoded (DESIGN section 10). The layout
(:mod:`.catalog_layout`) puts each entry on a line of its own, so these are found by a search of
the bytes and only their lines are decoded. Whatever the bytes cannot tell for sure makes these
functions return None, and the caller decodes the catalog the ordinary way.

A session's name is found the same way (:func:`entries_named`): naming a session with ``send
--session NAME``, or the note that a new name is taken (``organise.name_clash``), then costs a
search of the bytes too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import msgspec

from ..ids import all_valid_ids, is_valid_id
from ..models import SessionSummary
from .catalog import Change, FileStamp, Put, apply_current
from .catalog_layout import _HEAD_RE, _cut, last_changes

_summary_decoder = msgspec.json.Decoder(SessionSummary)
_current_decoder = msgspec.json.Decoder(dict[str, str])
_stamp_decoder = msgspec.json.Decoder(tuple[int, int, int])


# Where a string equal to an id may stand in an entry without being a name.
_ID_KEYS = (b'\n{"id":', b'"parent_id":')
# The characters beyond ASCII whose canonical decomposition is ASCII (KELVIN SIGN is "K"): a
# name holding one is the same text (NFC) as an ASCII name whose bytes differ from it. The
# tests check this list against the whole Unicode database of the running Python.
ASCII_ALIKE = ("\u037e", "\u1fef", "\u212a")
_ALIKE_BYTES = tuple(c.encode() for c in ASCII_ALIKE)
# A name or id key not followed by a string with no space between. One pattern a key: a
# pattern that starts with the key's text is searched for as fast as a plain string, one
# that starts with an alternation tries every quote of the catalog (three times slower).
_LOOSE = {key: re.compile(rb'"%s"(?!:")' % key) for key in (b"id", b"name")}
# Characters a JSON writer may write in more than one way (``\/`` is a valid escape).
_WRITTEN_MANY_WAYS = frozenset('"\\/')
# An entry's first bytes before its name: a newline, ``{"id":"``, the 36-character id, ``",``.
_BEFORE_NAME = 1 + 7 + 36 + 2

Entry = tuple[SessionSummary, FileStamp | None]


def entries_by_id(data: bytes, prefix: str, name: str) -> list[Entry] | None:
    """The session entries of ``data`` (a catalog in the canonical layout) whose id starts with
    ``prefix`` (lowercase hex digits and dashes), each decoded alone with its file's stamp: a
    look-up that costs a search of the catalog's bytes, not a decode of every entry (DESIGN
    section 10).

    ``name`` is what was typed (hex digits of either case and dashes: JSON writes it as is, and
    no other text has its NFC form). None when the bytes cannot tell for sure: ``data`` is in
    another layout, an entry found does not decode or is listed twice, an id key stands
    anywhere but first in its entry, a string escapes a printable character (a name so written
    could equal ``name``), an id key is written with a space or a value that is not a string
    (such an entry would not be found), or ``name`` stands as a string anywhere but as an id (a
    session so named would win by the exact-name rule); the caller then decodes the catalog.
    """
    facts = _facts(data)
    if facts is None or facts.escapes or facts.loose(data, b"id"):
        return None
    start, end = facts.start, facts.end
    if _named(data, start, end, name):
        return None
    found: dict[str, Entry] = {}
    key = b'"id":"' + prefix.encode()
    at = data.find(key, start, end)
    while at >= 0:
        if data[at - 2 : at] != b"\n{":
            return None
        got = _entry_at(data, at - 1, end, facts.stamps)
        if got is None or got[0].id in found or not got[0].id.startswith(prefix):
            return None
        found[got[0].id] = got
        at = data.find(key, at + 1, end)
    return list(found.values())


def entries_named(data: bytes, name: str) -> list[Entry] | None:
    """The session entries of ``data`` (a catalog in the canonical layout) whose name is the
    same text as ``name``, each decoded alone with its file's stamp: the sessions
    ``resolve.resolve_ref``'s exact-name rule would match (names equal in NFC, DESIGN section
    3), found by a search of the catalog's bytes (DESIGN section 10).

    None when the bytes cannot tell for sure, and the caller then decodes the catalog:
    ``data`` is in another layout; ``name`` is not printable ASCII or holds a character JSON
    may write in more than one way; a string escapes a printable character; a character that
    decomposes into ASCII (:data:`ASCII_ALIKE`) stands anywhere in the list; a name key is
    written with a space or a value that is not a string, or stands anywhere but second in its
    entry; or an entry found does not decode, or its id stands anywhere else in the list but as
    a ``parent_id`` (the entry listed again, whatever its name there: the last one counts).
    """
    if not (name.isascii() and name.isprintable()) or not _WRITTEN_MANY_WAYS.isdisjoint(name):
        return None
    facts = _facts(data)
    if facts is None or facts.escapes or facts.loose(data, b"name") or facts.ascii_alike(data):
        return None
    start, end = facts.start, facts.end
    found: dict[str, Entry] = {}
    key = b'"name":"%s"' % name.encode()
    at = data.find(key, start, end)
    while at >= 0:
        line = at - _BEFORE_NAME
        if data[line : line + 8] != b'\n{"id":"' or data[at - 2 : at] != b'",':
            return None
        got = _entry_at(data, line + 1, end, facts.stamps)
        if got is None or got[0].name != name or not _listed_once(data, got[0].id, line + 7, end):
            return None
        found[got[0].id] = got
        at = data.find(key, at + 1, end)
    return list(found.values())


def with_changes(
    found: Iterable[Entry], changes: Iterable[Change], wanted: Callable[[SessionSummary], bool]
) -> dict[str, Entry]:
    """``found`` (entries read from index.json, each with its stamp) as the journal's
    ``changes`` leave them, by id: an entry the journal changed is taken from its last change,
    kept only if still ``wanted``, or dropped if that change removes it or judges it damaged;
    an entry the journal puts is added when ``wanted``."""
    entries = {s.id: (s, stamp) for s, stamp in found}
    for change in last_changes(changes):
        if isinstance(change, Put):
            if wanted(change.s):
                entries[change.s.id] = (change.s, change.f)
            else:
                entries.pop(change.s.id, None)
        else:
            entries.pop(change.id, None)
    return entries


def _entry_at(data: bytes, at: int, end: int, stamps: tuple[int, int]) -> Entry | None:
    """The entry whose line starts at ``at`` (its ``{``; the list ends at ``end``), decoded
    alone, with its stamp from the ``files`` section (``stamps``: its start and end); None when
    either does not decode or the id is not a session id."""
    nl = data.find(b"\n", at, end)
    try:
        entry = _summary_decoder.decode(data[at : end if nl < 0 else nl].removesuffix(b","))
        if not is_valid_id(entry.id):
            return None
        return entry, _stamp(data, entry.id, *stamps)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None


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


class _ListFacts:
    """What the look-ups ask of one catalog's list of sessions as a whole, worked out once per
    bytes object: ``rename`` resolves an id and then looks its new name up in the same bytes,
    and pays for one pass of each kind."""

    def __init__(self, data: bytes, start: int, end: int, stamps: tuple[int, int]) -> None:
        self.start, self.end = start, end  # the list: each entry starts after a newline
        self.stamps = stamps  # the ``files`` section
        self.escapes = _escapes_printable(data, start, end)
        self._loose: dict[bytes, bool] = {}
        self._alike: bool | None = None

    def loose(self, data: bytes, key: bytes) -> bool:
        """Whether ``key`` (``b"id"`` or ``b"name"``) is written anywhere in the list other than
        as this program writes it (``"name": "Plan"``, which a search for ``"name":"Plan"``
        misses); a string value ``"name"`` (a tag) counts too."""
        found = self._loose.get(key)
        if found is None:
            found = self._loose[key] = _LOOSE[key].search(data, self.start, self.end) is not None
        return found

    def ascii_alike(self, data: bytes) -> bool:
        """Whether a character of :data:`ASCII_ALIKE` stands in the list."""
        if self._alike is None:
            # One look at the whole catalog first: a search for each character costs ten.
            self._alike = not data.isascii() and any(
                data.find(c, self.start, self.end) >= 0 for c in _ALIKE_BYTES
            )
        return self._alike


# The last catalog's bytes and their facts (None: not in the canonical layout). One tuple,
# read once, so threads looking up at once never pair one catalog with another's facts.
_last: tuple[bytes, _ListFacts | None] | None = None


def _facts(data: bytes) -> _ListFacts | None:
    """The facts of ``data`` (a catalog); None when it is not in the canonical layout."""
    global _last
    last = _last
    if last is not None and last[0] is data:
        return last[1]
    cut = _cut(data)
    facts = None
    if cut is not None:
        sessions, _, stamps, _ = cut
        facts = _ListFacts(data, sessions.start - 1, sessions.end, (stamps.start - 1, stamps.end))
    _last = (data, facts)
    return facts


def _listed_once(data: bytes, sid: str, at: int, end: int) -> bool:
    """Whether session ``sid``'s id, quoted, stands in the list (up to ``end``) only at ``at``
    (its entry's) or as another entry's ``parent_id``."""
    quoted = b'"%s"' % sid.encode()
    pos = data.find(quoted, 0, end)
    while pos >= 0:
        if pos != at and not data.endswith(b'"parent_id":', 0, pos):
            return False
        pos = data.find(quoted, pos + 1, end)
    return True


def folder_of(data: bytes) -> int | None:
    """The ``folder_mtime_ns`` at the head of ``data`` (a catalog in the canonical layout);
    None when it has none or is in another layout."""
    m = _HEAD_RE.match(data)
    return int(m.group(1)) if m and m.group(1) else None


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
