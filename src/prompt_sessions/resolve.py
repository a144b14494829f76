"""Turning what a user typed (a name, an id, an id prefix) into one session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .errors import AmbiguousSession, CorruptSession, SessionNotFound
from .models import SessionSummary
from .storage.base import SupportsIdLookup, SupportsNameLookup
from .text import fold, same_text, visible

MIN_ID_PREFIX = 4
_HEX = set("0123456789abcdef-")


def resolve_ref(
    ref: str, sessions: Sequence[SessionSummary], po_name: str | None = None
) -> SessionSummary:
    """Exact name, then unique id prefix, then unique name prefix (case-insensitive).

    Names compare as text, not code points: an exact match is one in the same Unicode normal
    form (NFC), the case-insensitive steps compare :func:`~prompt_sessions.text.fold`-ed names.
    A whole id names its session whatever the names say, and a name that is also the start of
    another session's id is ambiguous (raised with both), never silently the named one: an id
    prefix copied from ``list`` must not reach a session that merely bears it as its name.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise SessionNotFound(str(ref), po_name)
    text = ref.strip()
    lowered = text.lower()
    looks_like_id = len(lowered) >= MIN_ID_PREFIX and set(lowered) <= _HEX
    by_id = [s for s in sessions if s.id.startswith(lowered)] if looks_like_id else []
    if len(by_id) == 1 and by_id[0].id == lowered:
        return by_id[0]
    exact = [s for s in sessions if same_text(s.name, text)]
    shadowed = [s for s in by_id if s not in exact]
    if len(exact) == 1 and not shadowed:
        return exact[0]
    if exact:
        raise ambiguous(text, exact + shadowed)
    if len(by_id) == 1:
        return by_id[0]
    if len(by_id) > 1:
        raise ambiguous(text, by_id)
    wanted = fold(text)
    folded = [s for s in sessions if fold(s.name) == wanted]
    if len(folded) == 1:
        return folded[0]
    prefixed = folded or [s for s in sessions if fold(s.name).startswith(wanted)]
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1:
        raise ambiguous(text, prefixed)
    short = not looks_like_id and set(lowered) <= _HEX
    if short and any(s.id.startswith(lowered) for s in sessions):
        raise SessionNotFound(
            text, po_name, f"an id prefix needs at least {MIN_ID_PREFIX} characters"
        )
    raise SessionNotFound(text, po_name)


def damaged_match(ref: object, problems: Mapping[str, str]) -> CorruptSession | None:
    """The error for a ``ref`` that matches no readable session but is the id, or an id prefix
    of :data:`MIN_ID_PREFIX` or more hex digits, of exactly one damaged one (``problems``: id
    -> what is wrong, as the last list found them); None otherwise. ``list`` names a damaged
    session by its id, so that id typed back must say the session is damaged, not that nothing
    matches (DESIGN section 4, "Damage stays local")."""
    if not isinstance(ref, str):
        return None
    text = ref.strip().lower()
    if len(text) < MIN_ID_PREFIX or not set(text) <= _HEX:
        return None
    found = [sid for sid in problems if sid.startswith(text)]
    if len(found) != 1:
        return None
    (sid,) = found
    return CorruptSession(sid, f"{problems[sid]} (see `prompt-sessions doctor`)")


def other_po_hint(ref: str, sessions: Sequence[SessionSummary], po_name: str | None) -> str | None:
    """When ``ref`` found nothing among ``po_name``'s sessions but names exactly one session of
    another PO among ``sessions`` (every PO's), the words that say whose it is; else None."""
    if po_name is None:
        return None
    try:
        found = resolve_ref(ref, sessions)
    except (SessionNotFound, AmbiguousSession):
        return None
    if found.po_name == po_name:
        return None
    name, po = visible(found.name, one_line=True), visible(found.po_name, one_line=True)
    return f"'{name}' ({found.id[:8]}) is a session of PO '{po}'"


def by_id_lookup(backend: object, ref: str, po_name: str | None = None) -> SessionSummary | None:
    """The session ``ref`` names when it looks like an id (:data:`MIN_ID_PREFIX` or more hex
    digits and dashes) and a backend with :class:`~prompt_sessions.storage.base.SupportsIdLookup`
    finds exactly one of ``po_name``'s sessions (any PO's when None) by that prefix, no session
    being named ``ref``: what :func:`resolve_ref` would return over every session, found without
    listing them (DESIGN section 10). None otherwise; the caller then resolves by listing, which
    also raises the errors.
    """
    if not isinstance(backend, SupportsIdLookup) or not isinstance(ref, str):
        return None
    text = ref.strip()
    if len(text) < MIN_ID_PREFIX or not set(text.lower()) <= _HEX:
        return None
    found = backend.known_by_id_prefix(text)
    mine = [s for s in found or () if po_name is None or s.po_name == po_name]
    return mine[0] if len(mine) == 1 else None


def by_name_lookup(backend: object, ref: str, po_name: str | None = None) -> SessionSummary | None:
    """The session ``ref`` names when it cannot be read as an id and a backend with
    :class:`~prompt_sessions.storage.base.SupportsNameLookup` finds exactly one of ``po_name``'s
    sessions (any PO's when None) bearing it as its name: what :func:`resolve_ref`'s exact-name
    rule returns over every session, found without listing them (DESIGN section 10). None
    otherwise; the caller then resolves by listing, which also raises the errors."""
    if not isinstance(backend, SupportsNameLookup) or not isinstance(ref, str):
        return None
    text = ref.strip()
    lowered = text.lower()
    if not text or (len(lowered) >= MIN_ID_PREFIX and set(lowered) <= _HEX):
        return None
    found = backend.known_by_name(text)
    mine = [s for s in found or () if po_name is None or s.po_name == po_name]
    return mine[0] if len(mine) == 1 else None


def ambiguous(ref: str, found: Sequence[SessionSummary]) -> AmbiguousSession:
    """The error for a ``ref`` that ``found`` all match: each named with its id, and with its
    PO when they belong to several."""
    return AmbiguousSession(ref, [(s.id, s.name) for s in found], {s.id: s.po_name for s in found})
