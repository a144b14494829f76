"""The session filters of the search language (DESIGN sections 12 and 14) for a list of
sessions, and for screens that offer them as controls.

The explorer's PO, tag and pinned controls become the same ``po:``, ``tag:`` and ``is:``
filters a person can type (:func:`control_filters`); a search carries them in its query
(:func:`with_filters`), and a list shown without a search keeps the sessions
:func:`session_matches` accepts, which reads them as the search backends do: ``po:`` and
``tag:`` compare folded (case and accents aside), ``is:`` tests the session's flags or its
thread type, and a negated filter excludes. ``po:`` given twice means either one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .models import SessionSummary
from .search_query import Filter
from .search_text import fold

SESSION_KEYS = ("po", "tag", "is")  # the filters a session alone decides (not a message's)


def control_filters(
    *, po: str | None = None, tag: str | None = None, pinned: bool = False
) -> tuple[Filter, ...]:
    """The filters for controls set to ``po`` (None: any), ``tag`` (None: any) and
    ``pinned`` (False: pinned or not)."""
    found: list[Filter] = []
    if po:
        found.append(Filter("po", po))
    if tag:
        found.append(Filter("tag", tag))
    if pinned:
        found.append(Filter("is", "pinned"))
    return tuple(found)


def with_filters(text: str, filters: Iterable[Filter]) -> str:
    """The typed query ``text`` with ``filters`` appended in the language's spelling (an
    empty ``text`` stays empty: filters alone are not a search)."""
    if not text.strip():
        return text
    spelled = " ".join(str(f) for f in filters)
    return f"{text} {spelled}" if spelled else text


def _holds(summary: SessionSummary, f: Filter) -> bool:
    if f.key == "po":
        return fold(summary.po_name) == fold(f.value)
    if f.key == "tag":
        return any(fold(t) == fold(f.value) for t in summary.tags or ())
    if f.key == "is":
        if f.value in ("archived", "pinned"):
            return bool(getattr(summary, f.value))
        return summary.thread_type == f.value
    raise ValueError(f"{f.key}: is not a session filter (one of {', '.join(SESSION_KEYS)})")


def session_matches(summary: SessionSummary, filters: Sequence[Filter]) -> bool:
    """Whether ``summary`` passes every filter (``po:`` filters: any one of them).

    Raises:
        ValueError: a filter other than ``po:``, ``tag:`` or ``is:``.
    """
    pos = [f for f in filters if f.key == "po" and not f.negated]
    if pos and not any(_holds(summary, f) for f in pos):
        return False
    return all(_holds(summary, f) != f.negated for f in filters if f not in pos)
