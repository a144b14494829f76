"""How search sees text: folded to comparable words (DESIGN section 12).

Texts and queries go through the same two steps, so they agree on what a word is:

1. :func:`fold` normalises (NFKC), case-folds, and strips accents from Latin, Greek and Cyrillic
   letters (``Crème`` and ``creme`` fold alike; the marks other scripts need are kept).
2. :func:`tokens` cuts the folded text into words: runs of letters, digits and their marks. In
   scripts written without spaces (Chinese, Japanese, Thai and their neighbours) each character is
   a word of its own, so ``数据库`` is the three-word phrase ``数 据 库`` and is found inside
   ``讨论数据库迁移`` without spaces.

The index stores ``" ".join(tokens(fold(text)))``; a tokenizer that splits only on spaces then
sees exactly these words. :func:`locate` finds the same words in the original text, for snippets
and highlighting.
"""

from __future__ import annotations

import functools
import heapq
import re
import unicodedata
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

#: Part of the index's version: texts folded by another Unicode database fold differently.
FOLD_VERSION = f"1/{unicodedata.unidata_version}"

# Scripts written without spaces between words: each character is a word.
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


# Cached per character: word_spans asks for each character of a text, and a long text uses a
# small alphabet (a 1 MB message in Chinese takes seconds to search otherwise).
@functools.lru_cache(maxsize=65536)
def _unspaced(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _UNSPACED)


def _accent_base(ch: str) -> bool:
    """Letters whose combining marks are accents to drop: Latin, Greek, Cyrillic."""
    code = ord(ch)
    return code < 0x0530 or 0x1E00 <= code <= 0x1FFF


def fold(text: str) -> str:
    """``text`` normalised, case-folded and without accents on Latin, Greek or Cyrillic letters."""
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    out: list[str] = []
    base = ""
    for ch in decomposed:
        if unicodedata.combining(ch):
            if base and _accent_base(base):
                continue
        else:
            base = ch
        out.append(ch)
    return unicodedata.normalize("NFKC", "".join(out))


@functools.lru_cache(maxsize=65536)
def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


_ASCII_WORD = re.compile(r"[a-z0-9]+")


def word_spans(folded: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each word of an already folded text."""
    if folded.isascii():  # the common case, the same answer as the loop below, much faster
        for m in _ASCII_WORD.finditer(folded):
            yield m.span()
        return
    i, n = 0, len(folded)
    while i < n:
        ch = folded[i]
        if not ch.isalnum():
            i += 1
            continue
        start = i
        i += 1
        if _unspaced(ch):
            while i < n and _is_mark(folded[i]):
                i += 1
        else:
            while i < n and (
                (folded[i].isalnum() and not _unspaced(folded[i])) or _is_mark(folded[i])
            ):
                i += 1
        yield start, i


def tokens(folded: str) -> list[str]:
    """The words of an already folded text."""
    return [folded[a:b] for a, b in word_spans(folded)]


def index_text(text: str) -> str:
    """What the index stores for ``text``: its folded words separated by single spaces."""
    if text.isascii():
        return " ".join(_ASCII_WORD.findall(text.lower()))
    return " ".join(tokens(fold(text)))


@dataclass(frozen=True)
class Term:
    """A run of consecutive words to find; the last one may be a prefix (``config*``)."""

    words: tuple[str, ...]
    prefix: bool = False

    def matches_at(self, words: Sequence[str], at: int) -> bool:
        n = len(self.words)
        if at + n > len(words):
            return False
        for k, want in enumerate(self.words):
            got = words[at + k]
            if k == n - 1 and self.prefix:
                if not got.startswith(want):
                    return False
            elif got != want:
                return False
        return True


_ASCII_RUN = re.compile(r"[\x00-\x7f]+")


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold character by character, remembering where each folded character came from.

    Runs of ASCII are lowered whole, the other characters folded one by one (cached): the
    same result as folding each character, at C speed for the ASCII in between."""
    if text.isascii():
        return text.lower(), range(len(text))  # type: ignore[return-value]
    out: list[str] = []
    origin: list[int] = []

    def one_by_one(start: int, end: int) -> None:
        for i in range(start, end):
            piece = _fold_char(text[i])
            out.append(piece)
            if len(piece) == 1:
                origin.append(i)
            else:
                origin.extend([i] * len(piece))

    at = 0
    for run in _ASCII_RUN.finditer(text):
        start, end = run.span()
        one_by_one(at, start)
        out.append(run.group().lower())
        origin.extend(range(start, end))
        at = end
    one_by_one(at, len(text))
    return "".join(out), origin


@functools.lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    return fold(ch)


def locate(text: str, terms: Sequence[Term]) -> list[tuple[int, int, int]]:
    """Where ``terms`` occur in the original ``text``: (term number, start, end), in order."""
    if text.isascii():
        return _locate_ascii(text, terms)
    folded, origin = _folded_with_offsets(text)
    spans = list(word_spans(folded))
    words = [folded[a:b] for a, b in spans]
    found: list[tuple[int, int, int]] = []
    for number, term in enumerate(terms):
        if not term.words:
            continue
        first = term.words[0]
        single_prefix = term.prefix and len(term.words) == 1
        for at, word in enumerate(words):
            if (word.startswith(first) if single_prefix else word == first) and term.matches_at(
                words, at
            ):
                last = spans[at + len(term.words) - 1]
                found.append((number, origin[spans[at][0]], origin[last[1] - 1] + 1))
    found.sort(key=lambda f: (f[1], f[0]))
    return found


def _term_pattern(term: Term) -> re.Pattern[str] | None:
    """A regex finding ``term`` in lower-cased ASCII text, with the same word boundaries as
    :func:`word_spans`; None when the term has non-ASCII words (it cannot occur there)."""
    if not all(w.isascii() for w in term.words):
        return None
    body = "[^a-z0-9]+".join(re.escape(w) for w in term.words)
    tail = "[a-z0-9]*" if term.prefix else "(?![a-z0-9])"
    # Inside a lookahead, so that matches may overlap ("ab ab" twice in "ab ab ab"), as the
    # word-by-word scan finds them: the match is group 1.
    return re.compile(f"(?<![a-z0-9])(?=({body}{tail}))")


def _locate_ascii(text: str, terms: Sequence[Term]) -> list[tuple[int, int, int]]:
    return list(_ascii_matches(text.lower(), _ascii_patterns(terms)))


def _ascii_patterns(terms: Sequence[Term]) -> list[tuple[int, re.Pattern[str]]]:
    """(term number, pattern) of the terms that can occur in ASCII text."""
    found = []
    for number, term in enumerate(terms):
        pattern = _term_pattern(term) if term.words else None
        if pattern is not None:
            found.append((number, pattern))
    return found


def _ascii_matches(
    lowered: str, patterns: Sequence[tuple[int, re.Pattern[str]]]
) -> Iterator[tuple[int, int, int]]:
    """The matches of ``patterns`` in ``lowered``, in order (start, then term number), found
    as they are consumed: a reader that stops early never scans the rest of a huge text."""
    each = [_one_term(lowered, number, pattern) for number, pattern in patterns]
    for start, number, end in heapq.merge(*each):
        yield number, start, end


def _one_term(
    lowered: str, number: int, pattern: re.Pattern[str]
) -> Iterator[tuple[int, int, int]]:
    for m in pattern.finditer(lowered):
        yield m.start(1), number, m.end(1)


SNIPPET_RADIUS = 40


def best_window(text: str, terms: Sequence[Term], radius: int = SNIPPET_RADIUS) -> tuple[int, int]:
    """(start, end) of the stretch of ``text`` around its best match: the one with the most
    different terms within reach, the earliest of equals; the start when nothing is found.

    Matches are read in order and the reading stops at the first match with every term
    within reach, which no later one can beat: a word found two million times in a 10 MB
    message is not located two million times to show its first occurrence."""
    if text.isascii():
        patterns = _ascii_patterns(terms)
        matches = _ascii_matches(text.lower(), patterns)
        possible = len(patterns)
    else:
        matches = iter(locate(text, terms))
        possible = sum(1 for term in terms if term.words)
    best: tuple[int, int, int] | None = None
    best_count = 0
    ahead: deque[tuple[int, int, int]] = deque()  # the matches from the current one on
    exhausted = False
    while True:
        if not ahead:
            first = next(matches, None)
            if first is None:
                break
            ahead.append(first)
        anchor = ahead[0][1]
        while not exhausted and ahead[-1][1] - anchor <= radius:
            following = next(matches, None)
            if following is None:
                exhausted = True
            else:
                ahead.append(following)
        near = {n for n, s, _ in ahead if s - anchor <= radius}
        if len(near) > best_count:
            best, best_count = ahead[0], len(near)
            if best_count >= possible:
                break  # every term within reach: no later match does better
        ahead.popleft()
    if best is None:
        return 0, min(len(text), 2 * radius)
    _, start, end = best
    return max(0, start - radius), min(len(text), end + radius)
