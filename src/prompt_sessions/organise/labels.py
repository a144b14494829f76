"""Pins and tags (DESIGN section 14): which sessions a person marked, and how lists order them.

Tags are short words a person types: 1 to 40 characters after trimming, no spaces or control
characters (a query's ``tag:TAG`` filter names one as a single word). Tags compare without
regard to case, as the search language does; the spelling first given is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..errors import InvalidName, UsageError
from ..models import Session, SessionSummary, clean_name
from ..text import fold, visible

if TYPE_CHECKING:
    from ..manager import SessionManager

TAG_MAX = 40


def clean_tag(text: str) -> str:
    """A tag as typed, checked.

    Raises:
        UsageError: empty, longer than 40 characters, or holding spaces or control characters.
    """
    try:
        tag = clean_name(text, "a tag")
    except InvalidName as exc:
        raise UsageError(str(exc)) from exc
    if len(tag) > TAG_MAX:
        raise UsageError(f"a tag is at most {TAG_MAX} characters, not {len(tag)}")
    if any(c.isspace() for c in tag):
        raise UsageError(f"a tag is one word without spaces: '{visible(tag, one_line=True)}'")
    return tag


def split_tags(texts: Iterable[str]) -> list[str]:
    """The tags in ``texts`` as a person types them: each text may hold several separated by
    commas (``release, plan``), and a leading ``#`` (how tags are shown) is not part of a tag.

    Raises:
        UsageError: a text holds no tag at all (empty, or only commas and ``#``), or a tag
            breaks the rules of :func:`clean_tag`.
    """
    tags: list[str] = []
    for text in texts:
        words = [w.strip().lstrip("#").strip() for w in text.split(",")]
        words = [w for w in words if w]
        if not words:
            clean_tag(text.replace(",", "").replace("#", ""))  # raises: nothing to use
        tags.extend(clean_tag(w) for w in words)
    return tags


def changed_tags(
    current: Sequence[str] | None, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> list[str] | None:
    """``current`` with ``add`` appended (unless present) and ``remove`` taken out, compared
    without regard to case; None when no tag is left (the field is then absent in the file)."""
    tags = list(current or ())
    dropped = {fold(clean_tag(t)) for t in remove}
    # a tag stored with a leading "#" before split_tags dropped it is removed by its word too
    tags = [t for t in tags if fold(t) not in dropped and fold(t.lstrip("#")) not in dropped]
    for tag in (clean_tag(t) for t in add):
        if fold(tag) not in {fold(t) for t in tags}:
            tags.append(tag)
    return tags or None


def has_tag(summary: SessionSummary, tag: str) -> bool:
    """Whether ``summary`` carries ``tag``, compared as search's ``tag:`` compares (without case
    or accents, DESIGN section 12: ``unicode`` finds ``Ünïcode``); ``#ops`` asks for ``ops``,
    as tags are shown and typed."""
    from ..search_text import fold as search_fold

    wanted = search_fold(tag.strip().lstrip("#"))
    return any(search_fold(t) == wanted for t in summary.tags or ())


def pinned_first(summaries: Iterable[SessionSummary]) -> list[SessionSummary]:
    """Pinned sessions first, each group keeping its order (most recently updated first)."""
    rows = list(summaries)
    return [s for s in rows if s.pinned] + [s for s in rows if not s.pinned]


def tag(
    manager: SessionManager, session_id: str, add: Iterable[str], remove: Iterable[str]
) -> Session:
    """Add and remove tags of one session; every tag is checked before anything is written."""
    current = manager.get(session_id).tags
    return manager.update(session_id, tags=changed_tags(current, add, remove))
