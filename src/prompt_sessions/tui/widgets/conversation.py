"""The conversation: renders a window of the history and loads more as you scroll.

A 10,000-message session mounts only its last ``PAGE`` messages; scrolling to the top mounts
the page before, scrolling to the bottom of a window opened in the middle mounts the page after.
With a filter, only the messages containing its text are listed (each keeps its place in the
session as its index).
"""

from __future__ import annotations

import bisect

from textual.containers import VerticalScroll
from textual.widget import Widget

from ...models import Message, Session
from ...text import fold
from .message_view import MessageView, NoteView, StreamingView

PAGE = 20


def matches(message: Message, text: str) -> bool:
    """Whether a message's text contains ``text``, ignoring case and Unicode normal form."""
    return fold(text) in fold(message.content)


class Conversation(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    Conversation { height: 1fr; padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history: list[Message] = []  # what is listed: the session's, or its filtered part
        self.positions: list[int] | None = None  # each listed message's index in the session
        self.filter = ""
        self.seen = 0  # how many of the session's messages this view has taken in
        self.po_name = ""
        self.start = 0
        self.end = 0
        self.streaming: StreamingView | None = None
        self._loading = False
        self._end_pending = False  # showing the end waits for the first layout that scrolls
        self.session_id: str | None = None
        # after a rewrite here, the message count the rewritten history reaches: messages up
        # to it go before the notes at the end (the note saying what was done comes after them)
        self._rewritten_to: int | None = None

    # -------------------------------------------------------------- whole views

    def show(
        self, session: Session | None, po_name: str, *, at: int | None = None, filter: str = ""
    ) -> None:
        """Show a session (None: the PO has none yet); ``at`` opens the window at that message
        (its index in the session); ``filter`` lists only the messages that contain it.
        Drawing the same session again keeps the notes that followed its last message (a
        rewind's or an undo's note stays after the history it speaks of)."""
        same = session is not None and session.id == self.session_id
        notes = self._trailing_notes() if same else []
        self.session_id = session.id if session is not None else None
        self._rewritten_to = None
        full = list(session.history) if session else []
        self.seen, self.filter, self.positions = len(full), filter, None
        if filter:
            self.positions = [i for i, m in enumerate(full) if matches(m, filter)]
            self.history = [full[i] for i in self.positions]
            at = None if at is None else bisect.bisect_left(self.positions, at)
        else:
            self.history = full
        self.po_name = po_name
        self.streaming = None
        total = len(self.history)
        if at is None or not 0 <= at < total:
            self.start, self.end = max(0, total - PAGE), total
        else:
            self.start = max(0, at - 2)
            self.end = min(total, self.start + PAGE)
        self.remove_children()
        self.mount_all([self._view(i) for i in range(self.start, self.end)])
        if notes:
            self.mount_all([NoteView(text, error=error) for text, error in notes])
        if at is None or not 0 <= at < total:
            self._end_pending = True
            self.call_after_refresh(self._settle_end)
        else:
            self._end_pending = False
            self.call_after_refresh(self.scroll_home, animate=False, immediate=True)

    def _settle_end(self) -> None:
        """Scroll to the end once the messages are laid out (a new view may not be yet)."""
        if not self._end_pending:
            return
        self.scroll_end(animate=False, immediate=True)
        if self.max_scroll_y > 0:
            self._end_pending = False

    def on_resize(self) -> None:
        self._settle_end()

    def rewritten(self, count: int) -> None:
        """The session's history was rewritten here (a rewind, an edit, an undo) to ``count``
        messages: those it brings back are shown before the note saying so, not after it."""
        self._rewritten_to = count

    def _first_trailing_note(self) -> NoteView | None:
        found = None
        for child in reversed(self.children):
            if not isinstance(child, NoteView):
                break
            found = child
        return found

    def _trailing_notes(self) -> list[tuple[str, bool]]:
        """The notes after the last message, as ``(text, error)``."""
        found: list[tuple[str, bool]] = []
        for child in reversed(self.children):
            if not isinstance(child, NoteView):
                break
            found.append((child.text, child.has_class("-error")))
        return found[::-1]

    def catch_up(self, session: Session | None) -> bool:
        """Show the messages stored since this view was drawn; False if the history was
        rewritten instead, or the view is filtered (it must be drawn again)."""
        if session is None or self.filter:
            return False
        history, shown = session.history, len(self.history)
        if shown > len(history) or len(history) - shown > PAGE:
            return False  # rewritten, or so much is new that drawing the end afresh is cheaper
        if shown and (history[0] != self.history[0] or history[shown - 1] != self.history[-1]):
            return False
        for message in history[shown:]:
            self.add_message(message)
        return True

    def _view(self, index: int) -> MessageView:
        position = index if self.positions is None else self.positions[index]
        return MessageView(self.history[index], self.po_name, position)

    def view_of(self, position: int) -> MessageView | None:
        """The mounted view of the session's message at ``position``, if it is in the window."""
        for child in self.children:
            if isinstance(child, MessageView) and child.index == position:
                return child
        return None

    @property
    def at_end(self) -> bool:
        return self.end == len(self.history)

    # -------------------------------------------------------------- growing

    def add_message(self, message: Message) -> None:
        """A message was stored for this session: show it (jumping to the end if needed)."""
        self.seen += 1
        if self.filter:
            if not matches(message, self.filter):
                return
            assert self.positions is not None
            self.positions.append(self.seen - 1)
        was_at_end = self.at_end
        self.history.append(message)
        if not was_at_end:
            self.end = len(self.history)
            self.start = max(0, self.end - PAGE)
            self.remove_children()
            self.mount_all([self._view(i) for i in range(self.start, self.end)])
        else:
            self.end = len(self.history)
            before: Widget | None = (
                self.streaming
                if self.streaming is not None and self.streaming.parent is self
                else None
            )
            if self._rewritten_to is not None:
                if self.seen >= self._rewritten_to:
                    self._rewritten_to = None  # caught up: later messages follow the notes
                before = before or self._first_trailing_note()
            self.mount(self._view(self.end - 1), before=before)
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def begin_stream(self, speaker: str, text: str = "", note: str = "streaming…") -> StreamingView:
        self.end_stream()
        self.streaming = StreamingView(speaker, text, note)
        self.mount(self.streaming)
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
        return self.streaming

    def set_stream(self, speaker: str, text: str, note: str = "streaming…") -> None:
        """Show the reply in progress as it stands now (all of it so far, not a delta)."""
        if self.streaming is None:
            self.begin_stream(speaker, text, note)
            return
        follow = self.scroll_y >= self.max_scroll_y - 1
        self.streaming.set(text, note)
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def add_chunk(self, text: str) -> None:
        if self.streaming is None:
            self.begin_stream(self.po_name)
        assert self.streaming is not None
        follow = self.scroll_y >= self.max_scroll_y - 1
        self.streaming.add(text)
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def end_stream(self) -> None:
        if self.streaming is not None:
            self.streaming.remove()
            self.streaming = None

    def note(self, text: str, *, error: bool = False) -> None:
        self.mount(NoteView(text, error=error))
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    # -------------------------------------------------------------- lazy loading

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new < old:
            self._end_pending = False  # scrolled up: stop holding the view at the end
        if self._loading:
            return
        if new <= 0 and self.start > 0:
            self.load_older()
        elif new >= self.max_scroll_y and not self.at_end and self.max_scroll_y > 0:
            self.load_newer()

    def load_older(self) -> None:
        """Mount the page before the window, keeping the message on screen where it was."""
        if self.start == 0:
            return
        first = self._first_message()
        new_start = max(0, self.start - PAGE)
        views = [self._view(i) for i in range(new_start, self.start)]
        self.start = new_start
        self._loading = True
        self.mount_all(views, before=first)

        def keep_place() -> None:
            if first is not None:
                self.scroll_to_widget(first, animate=False, top=True, immediate=True)
            self._loading = False

        self.call_after_refresh(keep_place)

    def load_newer(self) -> None:
        new_end = min(len(self.history), self.end + PAGE)
        views = [self._view(i) for i in range(self.end, new_end)]
        self.end = new_end
        anchor = self._first_note_or_stream()
        if anchor is not None:
            self.mount_all(views, before=anchor)
        else:
            self.mount_all(views)

    def _first_message(self) -> Widget | None:
        for child in self.children:
            if isinstance(child, MessageView):
                return child
        return None

    def _first_note_or_stream(self) -> Widget | None:
        for child in self.children:
            if isinstance(child, NoteView | StreamingView):
                return child
        return None

    @property
    def rendered_count(self) -> int:
        return sum(1 for c in self.children if isinstance(c, MessageView))
