"""The open sessions: a state glyph, the name (with a short id where open sessions share it),
an unread badge and a one-line preview each.

Hidden while only one session is open. Sessions that need the person (a reply finished, failed or
asks for input while another was shown, DESIGN section 15) come first until they are shown.

Status, unread and name changes redraw their row at once; the preview of a streaming reply is
redrawn at most every ``PREVIEW_EVERY`` seconds, so twenty replies streaming at once cost the UI a
few redraws a second, not one per chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...runtime import LiveSession, Status
from ...text import visible
from ..same_names import id_tags

PREVIEW_EVERY = 0.1

GLYPHS = {
    Status.IDLE: ("○", "dim"),
    Status.QUEUED: ("⋯", "yellow"),
    Status.STREAMING: ("▶", "bold green"),
    Status.RETRYING: ("↻", "bold yellow"),
    Status.WAITING: ("?", "bold cyan"),
    Status.ERROR: ("✗", "bold red"),
    Status.UNLOADED: ("◌", "dim"),
}


def glyph(live: LiveSession) -> Text:
    """The state glyph; ``retrying`` carries its attempt number: ``↻2``."""
    mark, style = GLYPHS[live.status]
    text = Text(mark, style=style)
    if live.status is Status.RETRYING and live.retry_attempt:
        text.append(str(live.retry_attempt), style=style)
    return text


def row(live: LiveSession, width: int = 0, id_tag: str | None = None) -> Text:
    """Two lines: glyph, name, short id and unread badge; then the preview (or the error).
    The short id (``id_tag``) is for a session whose name another open session bears
    (``same_names``); it stays in sight when the name is cut.

    With a ``width`` each line is cut to it with an ellipsis, so the preview stays one line.
    """
    head = Text()
    head.append_text(glyph(live))
    head.append(" ")
    badge = Text(f" {live.unread} ", style="reverse bold") if live.unread else Text()
    name = Text(visible(live.name, one_line=True), style="bold" if live.unread else "")
    tag = Text(f" ({id_tag})", style="dim") if id_tag else Text()
    if width:
        name.truncate(
            max(1, width - head.cell_len - tag.cell_len - (badge.cell_len + 1 if badge else 0)),
            overflow="ellipsis",
        )
    head.append_text(name)
    head.append_text(tag)
    if badge:
        head.append(" ")
        head.append_text(badge)
    if live.status is Status.ERROR and live.error:
        tail = Text("  " + visible(live.error, one_line=True), style="red")
    else:
        tail = Text("  " + visible(live.preview or "(empty)", one_line=True), style="dim italic")
    if width:
        tail.truncate(width, overflow="ellipsis")
    return Text("\n").join([head, tail])


class SessionBar(OptionList):
    DEFAULT_CSS = """
    SessionBar { width: 100%; height: 2fr; }
    """

    @dataclass
    class Chosen(Message):
        """A row was selected (Enter or a click): show that session."""

        session_id: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._ids: list[str] = []
        self._lives: dict[str, LiveSession] = {}
        self._stale: set[str] = set()
        self._id_tags: dict[str, str] = {}  # short ids of open sessions sharing a name
        self._timer_pending = False
        self.shown: str | None = None
        self.needing: dict[str, str] = {}  # session id -> why it needs the person, oldest first
        self.display = False

    @property
    def session_ids(self) -> list[str]:
        return list(self._ids)

    def ordered(self, lives: Sequence[LiveSession]) -> list[LiveSession]:
        """``lives`` as the bar lists them: those needing the person first (the one that asked
        first on top), then the rest in the order given."""
        first = {sid: n for n, sid in enumerate(self.needing)}
        return sorted(lives, key=lambda live: first.get(live.session_id, len(first)))

    def need(self, session_id: str, reason: str) -> None:
        """``session_id`` needs the person: list it first until it is shown."""
        self.needing.pop(session_id, None)
        self.needing[session_id] = reason
        if self._lives:
            self.rebuild(list(self._lives.values()), self.shown)

    def rebuild(self, lives: Sequence[LiveSession], shown: str | None) -> None:
        """Show these open sessions (those needing the person first, the rest in this order),
        the shown one highlighted; being shown ends a session's need."""
        self.shown = shown
        if shown is not None:
            self.needing.pop(shown, None)
        known = {live.session_id for live in lives}
        self.needing = {sid: why for sid, why in self.needing.items() if sid in known}
        lives = self.ordered(lives)
        self._ids = [live.session_id for live in lives]
        self._lives = {live.session_id: live for live in lives}
        self._id_tags = self._tags_now()
        self._stale.clear()
        with self.prevent(OptionList.OptionHighlighted):
            self.clear_options()
            width = self.row_width
            self.add_options([Option(self._row(live, width), id=live.session_id) for live in lives])
            if shown in self._ids:
                self.highlighted = self._ids.index(shown)
        self.display = len(lives) > 1

    def update_row(self, session_id: str) -> None:
        """Redraw one row now (its status, unread count or name changed)."""
        live = self._lives.get(session_id)
        if live is None:
            return
        self._stale.discard(session_id)
        if self._tags_now() != self._id_tags:  # a rename made or ended a shared name
            self.rebuild(list(self._lives.values()), self.shown)
            return
        self.replace_option_prompt(session_id, self._row(live, self.row_width))

    def _tags_now(self) -> dict[str, str]:
        return id_tags((live.session_id, live.name) for live in self._lives.values())

    def _row(self, live: LiveSession, width: int = 0) -> Text:
        return row(live, width, self._id_tags.get(live.session_id))

    def preview_changed(self, session_id: str) -> None:
        """Redraw a row soon (a chunk arrived); many chunks make one redraw."""
        if session_id not in self._lives:
            return
        self._stale.add(session_id)
        if not self._timer_pending:
            self._timer_pending = True
            self.set_timer(PREVIEW_EVERY, self._flush)

    def _flush(self) -> None:
        self._timer_pending = False
        for session_id in list(self._stale):
            self.update_row(session_id)

    def row_text(self, session_id: str) -> str:
        """The plain text of a row, uncut (for tests and tools)."""
        return self._row(self._lives[session_id]).plain

    @property
    def row_width(self) -> int:
        """Cells a row may use (before the first layout: the width the stylesheet gives)."""
        width = self.scrollable_content_region.width
        return max(8, (width or 22) - 1)

    def on_resize(self) -> None:
        if self._lives:
            self.rebuild(list(self._lives.values()), self.shown)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen(str(event.option.id)))
