"""Key hints that fit their width: each hint (``n new``) is shown whole or not at all.

A terminal cuts a long line at its edge, mid-word, and a cut hint names half a key. Here a
line of hints is a list of entries, each a key and what it does; they are laid out in rich
cell widths (what Textual draws), wrapped between entries onto at most ``max_lines`` lines,
and those that still do not fit are left out from the end (the first entries are the most
used). DESIGN section 8: the hints name the keys that work where the focus is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widget import Widget

from ...cells import cell_len

SEP = "  "
_SPLIT = re.compile(r"\s{2,}")


def entries(hints: str | Sequence[str]) -> list[str]:
    """The hints of ``"n new  r rename"`` (entries are separated by two or more spaces), or
    the list given, without empty ones."""
    found = _SPLIT.split(hints.strip()) if isinstance(hints, str) else list(hints)
    return [e.strip() for e in found if e.strip()]


def fit_lines(hints: Sequence[str], width: int, max_lines: int = 1) -> list[str]:
    """``hints`` laid out in ``width`` cells on at most ``max_lines`` lines, joined by two
    spaces; a hint goes to the next line rather than being cut, and those left over when the
    lines are full are dropped (never a part of one). A hint wider than ``width`` alone is
    dropped too. Returns the lines (empty when nothing fits)."""
    lines: list[str] = []
    line = ""
    for hint in hints:
        if cell_len(hint) > width:
            continue
        joined = f"{line}{SEP}{hint}" if line else hint
        if cell_len(joined) <= width:
            line = joined
            continue
        if len(lines) + 1 >= max_lines:
            continue  # the last line is full: a later, shorter hint may still fit
        lines.append(line)
        line = hint
    if line:
        lines.append(line)
    return lines


def fit(hints: str | Sequence[str], width: int) -> str:
    """The hints that fit one line of ``width`` cells (see :func:`fit_lines`)."""
    found = fit_lines(entries(hints), width)
    return found[0] if found else ""


class HintLine(Widget):
    """A muted line (or up to ``max_lines`` lines) of key hints fitted to the widget's width."""

    DEFAULT_CSS = """
    HintLine { height: auto; color: $text-muted; }
    """

    def __init__(
        self, hints: str | Sequence[str] = (), *, max_lines: int = 1, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.hints = entries(hints)
        self.max_lines = max_lines

    def set_hints(self, hints: str | Sequence[str]) -> None:
        """Show other hints (the keys that work changed)."""
        found = entries(hints)
        if found != self.hints:
            self.hints = found
            self.refresh(layout=True)

    def lines(self, width: int | None = None) -> list[str]:
        """The lines shown at ``width`` cells (the widget's content width by default)."""
        return fit_lines(
            self.hints, self.content_size.width if width is None else width, self.max_lines
        )

    def render(self) -> RenderResult:
        return Text("\n".join(self.lines()), no_wrap=True, overflow="crop")

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return cell_len(SEP.join(self.hints))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.lines(width)))
