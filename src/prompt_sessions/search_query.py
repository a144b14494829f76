"""The search language (DESIGN section 12): one parser for the CLI, the explorer and every server.

A query is words and filters separated by spaces::

    deploy config*  "exact phrase"  -draft  po:coordinator  role:user  tag:ops
    is:archived  is:pinned  is:fork  is:delegation  after:2025-01-01  before:2025-02-01  in:name

Every word must occur in a message (or the session's name), in any order, each as a whole word;
``word*`` matches words starting with ``word``; ``"two words"`` must occur together, in order;
``-word`` (or ``-"a phrase"``) excludes messages that have it; inside quotes ``\\"`` is a quote
and ``\\\\`` a backslash. Filters narrow the hits; a filter
preceded by ``-`` excludes instead. ``po:`` and ``role:`` given twice mean either one; every other
filter must hold. ``after:D`` keeps hits dated on or after day D, ``before:D`` those before D (UTC;
a message is dated by its own timestamp, a name by the session's creation). ``in:name`` searches
names only. ``str(parse(text))`` gives the query back in a canonical spelling that parses to the
same query.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .errors import UsageError
from .search_text import Term, fold, tokens

FILTER_VALUES: dict[str, tuple[str, ...] | None] = {
    "po": None,
    "role": ("user", "assistant", "tool", "system"),
    "tag": None,
    "is": ("archived", "pinned", "fork", "delegation"),
    "after": None,
    "before": None,
    "in": ("name",),
}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_FILTER_RE = re.compile(r"([A-Za-z]+):(.*)\Z", re.DOTALL)


class QueryError(UsageError):
    """A query that cannot be read: an unclosed quote, an unknown filter, a bad value."""

    title = "Bad search query"


@dataclass(frozen=True)
class Word:
    """A word or ``"phrase"`` as typed; ``term`` is what is looked for."""

    text: str
    phrase: bool = False
    prefix: bool = False
    negated: bool = False

    @property
    def term(self) -> Term:
        return Term(tuple(tokens(fold(self.text))), self.prefix)

    def __str__(self) -> str:
        body = _quote(self.text) if self.phrase else self.text
        return ("-" if self.negated else "") + body + ("*" if self.prefix else "")


@dataclass(frozen=True)
class Filter:
    key: str
    value: str
    negated: bool = False

    def __str__(self) -> str:
        value = self.value
        if not value or any(c.isspace() or c == '"' for c in value):
            value = _quote(value)
        return ("-" if self.negated else "") + f"{self.key}:{value}"


@dataclass(frozen=True)
class Query:
    words: tuple[Word, ...] = ()
    filters: tuple[Filter, ...] = ()
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return " ".join([*map(str, self.words), *map(str, self.filters)])

    @property
    def include(self) -> list[Term]:
        """Terms that must all occur (words that fold to nothing are left out)."""
        return [t for w in self.words if not w.negated and (t := w.term).words]

    @property
    def exclude(self) -> list[Term]:
        return [t for w in self.words if w.negated and (t := w.term).words]

    def values(self, key: str, *, negated: bool = False) -> list[str]:
        return [f.value for f in self.filters if f.key == key and f.negated == negated]

    def with_po(self, po_name: str | None) -> Query:
        """This query limited to one PO (the API's and the CLI's ``po_name``/``--po``)."""
        if po_name is None:
            return self
        return Query(self.words, (*self.filters, Filter("po", po_name)), self.text)


def parse(text: str) -> Query:
    """Read a query. Raises :class:`QueryError` (a ``UsageError``) naming what is wrong."""
    if not isinstance(text, str):
        raise QueryError(f"a search query is text, not {type(text).__name__}")
    words: list[Word] = []
    filters: list[Filter] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if negated:
            i += 1
        if text[i] == '"':
            body, i = _unquote(text, i)
            prefix = i < n and text[i] == "*"
            i += prefix
            words.append(Word(body, phrase=True, prefix=prefix, negated=negated))
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        bare = text[start:i]
        match = _FILTER_RE.match(bare)
        if match and (match.group(2) or (i < n and text[i] == '"')):
            value = match.group(2)
            if not value:  # key:"quoted value"
                value, i = _unquote(text, i)
            filters.append(_filter(match.group(1), value, negated))
            continue
        if match and match.group(1).lower() in FILTER_VALUES:
            raise QueryError(f"{bare!r} needs a value after the colon")
        prefix = len(bare) > 1 and bare.endswith("*")
        words.append(Word(bare[:-1] if prefix else bare, prefix=prefix, negated=negated))
    query = Query(tuple(words), tuple(filters), text)
    if not query.include:
        raise QueryError(
            f"{text.strip()!r} has nothing to look for: give at least one word "
            "(filters and -words only narrow a search)"
        )
    return query


def _quote(text: str) -> str:
    """``text`` between double quotes, as :func:`_unquote` reads it back."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(text: str, start: int) -> tuple[str, int]:
    """The quoted text opening at ``text[start]`` (a ``"``) and the index after its closing
    quote. Inside quotes ``\\"`` is a quote and ``\\\\`` a backslash, so that a tag or a PO
    name holding a quote can be searched for; any other backslash is itself.

    Raises:
        QueryError: no closing quote.
    """
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\" and i + 1 < n and text[i + 1] in '"\\':
            i += 1
            c = text[i]
        out.append(c)
        i += 1
    raise QueryError(f'unclosed quote in {text.strip()!r}: add the closing "')


def _filter(key: str, value: str, negated: bool) -> Filter:
    key = key.lower()
    if key not in FILTER_VALUES:
        known = ", ".join(f"{k}:" for k in FILTER_VALUES)
        raise QueryError(f"unknown filter {key}: (known: {known}); put text with a colon in quotes")
    if key == "tag":
        value = value.lstrip("#")  # tag:#ops is tag:ops, as tags are shown
    if not value.strip():
        raise QueryError(f"{key}: needs a value")
    allowed = FILTER_VALUES[key]
    if allowed is not None:
        value = value.lower()
        if value not in allowed:
            raise QueryError(f"{key}:{value} is not known; use {'|'.join(allowed)}")
    if key in ("after", "before"):
        if not _DATE_RE.match(value):
            raise QueryError(f"{key}:{value} is not a date; write YYYY-MM-DD")
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise QueryError(f"{key}:{value} is not a real date") from None
    return Filter(key, value, negated)


OPERATOR_WORDS = ("OR", "AND", "NOT")  # other tools' operators; here plain words (section 12)


def operator_hint(text: str) -> str:
    """A note for a query that found nothing and holds ``OR``, ``AND`` or ``NOT`` (as other
    search tools spell their operators) as a word: here every word must match, so such a word
    narrows instead of widening. Empty when there is none (or the query cannot be read)."""
    try:
        query = parse(text)
    except QueryError:
        return ""
    found = [w.text for w in query.words if not w.phrase and w.text in OPERATOR_WORDS]
    if not found:
        return ""
    return (
        f"{found[0]} is a word here, not an operator: every word must match "
        "(-word leaves a word out)"
    )
