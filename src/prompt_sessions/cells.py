"""Text measured as a terminal shows it: widths in cells (never ``len()``), cuts only between
graphemes.

A family emoji is seven code points (four people joined by zero-width joiners) and two cells;
a CJK character is one code point and two cells. Cutting by code points shows fewer people,
and padding by code points shifts the columns after it. rich's tables (the ones Textual draws
with) decide both, so what is measured here is what the TUI and the CLI show (DESIGN section 8).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["boundary", "cell_len", "fit", "fit_name", "pad"]

ZWJ = "\u200d"
ELLIPSIS = "…"
# Characters drawn as part of the one before: combining marks, joiners, variation selectors,
# emoji skin-tone modifiers.
ATTACHED = {"Mn", "Me", "Cf"}
SKIN_TONES = range(0x1F3FB, 0x1F400)
# a short "(...)" at the end of a name: the marks that tell a copy from its original
MARK = re.compile(r" \([^()]{1,24}\)$")


def cell_len(text: str) -> int:
    """How many terminal cells ``text`` takes (rich's measure, which Textual draws with)."""
    from rich.cells import cell_len as measure  # here: the session core does not load rich

    return measure(text)


def _joined(text: str, index: int) -> bool:
    """True when ``index`` falls inside a grapheme: after a joiner, or before a character that
    is drawn as part of the one before it."""
    if index <= 0 or index >= len(text):
        return False
    char = text[index]
    return (
        text[index - 1] == ZWJ or unicodedata.category(char) in ATTACHED or ord(char) in SKIN_TONES
    )


def boundary(text: str, index: int, *, forward: bool = False) -> int:
    """The nearest grapheme boundary at or before ``index`` (at or after it with ``forward``).

    ``index`` is a code-point index into ``text``, clamped to ``0..len(text)``. Looks only at the
    characters around ``index``, so it is cheap on long texts.
    """
    index = max(0, min(index, len(text)))
    step = 1 if forward else -1
    while _joined(text, index):
        index += step
    return index


def fit(text: str, width: int, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``width`` cells between graphemes, ending in ``ellipsis`` when cut.

    ``width`` is in terminal cells; 0 or less gives "".
    """
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    from rich.cells import split_graphemes

    room = width - cell_len(ellipsis)
    spans, _ = split_graphemes(text)
    used = end = 0
    for _start, stop, cells in spans:
        if used + cells > room:
            break
        used += cells
        end = stop
    return text[:end] + ellipsis if room >= 0 else ellipsis[:width]


def fit_name(text: str, width: int) -> str:
    """A session name fitted to ``width`` cells like :func:`fit`, except that a short ``(...)``
    at its end (``(before rewind)``, ``(copy)``, ``(imported)``: what tells a fork or a copy
    from its original, DESIGN section 14) is kept and the name is cut before it."""
    if cell_len(text) <= width:
        return text
    mark = MARK.search(text)
    if mark is None or cell_len(mark.group()) * 2 > width:
        return fit(text, width)
    return fit(text[: mark.start()], width - cell_len(mark.group())) + mark.group()


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` fitted to ``width`` cells and padded with spaces to exactly ``width`` cells
    (on the left with ``right``, for numbers)."""
    fitted = fit(text, width)
    gap = " " * max(0, width - cell_len(fitted))
    return gap + fitted if right else fitted + gap
