"""What counts as the same text, and how stored text is shown to a person.

Stored text (names, messages) is kept exactly as given. These rules only decide how it is
compared (search, looking a session up by name, filters) and how it is drawn on a terminal
(``show``, ``list``, ``search`` and every CLI message). The rules are stated for users in
``docs/storage.md``, section "Text, names and output"; DESIGN sections 4 and 12 are their source.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

__all__ = [
    "counted",
    "find_folded",
    "fold",
    "quoted",
    "same_text",
    "unencodable",
    "visible",
]


def fold(text: str) -> str:
    """``text`` in the form used for comparing: NFKC, case-folded, NFKC again.

    Canonically equivalent texts (``"cre\\u0300me"`` and ``"cr\\u00e8me"``), compatibility forms
    (the ``"ﬁ"`` ligature and ``"fi"``) and case variants fold to the same string. Case folding can
    undo the normal form (``"\\u0130"``), hence the second pass.
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def same_text(a: str, b: str) -> bool:
    """Whether two texts are the same text: equal once both are in Unicode normal form NFC."""
    return a == b or unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


def find_folded(text: str, folded_query: str) -> tuple[int, int] | None:
    """Where ``folded_query`` (already :func:`fold`-ed) occurs in ``text`` once folded.

    :returns: ``(start, length)`` counted in ``text``'s own characters, so a snippet can be cut
        from the stored text; None when it does not occur.
    """
    folded = fold(text)
    pos = folded.find(folded_query)
    if pos < 0:
        return None
    if len(folded) == len(text) and (text.isascii() or folded == text.lower()):
        return pos, len(folded_query)
    # Folding changes lengths: map back one base character and its combining marks at a time.
    start = end = None
    done = 0
    stop = pos + len(folded_query)
    for begin, cluster in _clusters(text):
        after = done + len(fold(cluster))
        if start is None and after > pos:
            start = begin
        if after >= stop:
            end = begin + len(cluster)
            break
        done = after
    if start is None:
        return 0, len(text)
    if end is None:
        end = len(text)
    return start, end - start


def _clusters(text: str) -> list[tuple[int, str]]:
    """``text`` cut before each character that is not a combining mark."""
    pieces: list[tuple[int, str]] = []
    begin = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]):
            pieces.append((begin, text[begin:i]))
            begin = i
    return pieces


# Characters that drive a terminal or hide what a text says: C0 controls but tab and newline,
# DEL, C1 controls, the bidirectional overrides and isolates, and lone surrogates (bytes that were
# not UTF-8 in a command's arguments). Joiners and other invisible letters-in-words are kept:
# emoji sequences and many scripts need them.
# Compiled on first use: the classes take about a millisecond, which commands that print no
# stored text (``list --json``) need not pay.
@cache
def _hidden(one_line: bool) -> re.Pattern[str]:
    if one_line:
        return re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
    return re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as Python's surrogateescape keeps it
        return f"\\x{code - 0xDC00:02x}"
    if code == 0x0A:
        return "\\n"
    if code == 0x09:
        return "\\t"
    if code == 0x0D:
        return "\\r"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` safe to print on a terminal: control characters shown as escapes.

    An escape character prints as ``\\x1b``, a C1 control as ``\\x9b``, a right-to-left override
    as ``\\u202e``, a carriage return not followed by a newline as ``\\r``. Newlines and tabs are
    kept, unless ``one_line`` (for names and one-line messages), where they show as ``\\n`` and
    ``\\t`` too. Everything else, quotes and backslashes included, prints as it is.
    """
    if one_line:
        return _hidden(True).sub(_escape, text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return _hidden(False).sub(_escape, text)


def quoted(name: str) -> str:
    """A name in CLI messages: as typed, between single quotes, control characters visible."""
    return f"'{visible(name, one_line=True)}'"


def unencodable(text: str) -> bool:
    """Whether ``text`` holds lone surrogates, which cannot be written as UTF-8 (bytes in a
    command's arguments that were not UTF-8 arrive this way)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``"1 message"``, ``"2 messages"``: a count with its noun in the right number."""
    return f"{n} {word if n == 1 else plural or word + 's'}"
