"""The status bar: the shown session, its size, what is happening, and the key hints."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.widgets import Static

from ...cells import cell_len
from ...text import visible
from .hint_line import entries, fit

HINTS = "S sessions  N new  E explorer  [ ] prev/next  i type  ^p palette  q quit"
"""The keys that work outside the message box (DESIGN section 8)."""
BAR = "  │  "
NAME_MIN = 4  # cells of a session name worth showing (with an ellipsis)


class StatusBar(Static):
    """One line: the session, what is happening, then as many whole key hints as fit. A hint
    is never cut: the session's name gives way first (to an ellipsis), so what is happening
    stays in view (cut last, at its end); with nothing happening the first hint keeps its room
    (the ``Session:`` label, then all but the count, give way for it)."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._shown: tuple[str, int, str, str] = ("", 0, "", HINTS)

    def show(self, name: str, messages: int, state: str = "", hints: str = HINTS) -> None:
        """``hints``: the keys that work where the focus is (the screen chooses them)."""
        self._shown = (name, messages, state, hints)
        self.refresh()

    def render(self) -> RenderResult:
        name, messages, state, hints = self._shown
        width = self.content_size.width or 10_000  # not laid out yet: everything
        count = f"{messages} msg{'' if messages == 1 else 's'}"
        first = entries(hints)[:1]
        # what must stay beside the session: the state, else the first hint
        reserve = cell_len(state) + 2 if state else sum(map(cell_len, first)) + cell_len(BAR)
        label, room = "Session: ", width - reserve - cell_len(f"Session:  ({count})")
        if room < NAME_MIN and not state:
            label, room = "", room + cell_len("Session: ")
        text = Text()
        if room < NAME_MIN and not state:
            text.append(count)
        else:
            shown = Text(visible(name, one_line=True))
            shown.truncate(max(room, NAME_MIN), overflow="ellipsis")
            text.append(label, style="bold")
            text.append_text(shown)
            text.append(f" ({count})")
        if state:
            text.append(f"  {state}", style="italic")
        text.truncate(width, overflow="ellipsis")
        fitted = fit(hints, width - text.cell_len - cell_len(BAR))
        if fitted:
            text.append(BAR, style="dim")
            text.append(fitted, style="dim")
        text.no_wrap = True
        return text
