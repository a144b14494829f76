"""One message of the conversation: the speaker, the text, tool calls folded.

A PO's reply is drawn as Markdown (models write it), with each single line break kept as chat
tools keep it (a poem, an address). Everything else (what a person typed, a tool's output, a
system text) is drawn as written, every line where it was typed: Markdown would take ``*`` or
``#`` as formatting.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.markdown import Markdown
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Static

from ...models import Message
from ...text import visible
from ...tool_calls import is_delegation, repeats_results
from .delegation_line import DelegationLine


def speaker_of(message: Message, po_name: str) -> str:
    if message.role == "assistant":
        return message.from_po or po_name
    if message.role == "user":
        return "you" if not message.from_po else message.from_po
    return message.role


class ReplyMarkdown(Markdown):
    """Markdown that keeps single line breaks: CommonMark joins them into one paragraph, which
    loses the lines of a poem, an address or a list a model wrote without markers."""

    def __init__(self, markup: str) -> None:
        super().__init__(markup)
        stack = list(self.parsed)
        while stack:
            token = stack.pop()
            if token.type == "softbreak":
                token.type = "hardbreak"
            stack.extend(token.children or ())


def message_body(message: Message) -> Markdown | Text:
    """A message's text: Markdown for a PO's reply, the text as written for any other role.
    Stored text has its control characters made visible: it never drives the terminal."""
    shown = visible(message.content)
    if message.role == "assistant":
        return ReplyMarkdown(shown)
    return Text(shown)


def header(name: str, role: str, note: str = "") -> Text:
    text = Text(name, style="bold")
    if note:
        text.append(f"  {note}", style="italic dim")
    return text


def folded(data: Any) -> str:
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(data)


class MessageView(Vertical):
    """A stored message. Tool calls and results sit in collapsed sections."""

    DEFAULT_CSS = """
    MessageView { height: auto; margin: 0 0 1 0; }
    MessageView.-user { border-left: thick $primary; padding-left: 1; }
    MessageView.-assistant { border-left: thick $success; padding-left: 1; }
    MessageView.-other { border-left: thick $warning; padding-left: 1; }
    MessageView Collapsible { margin: 0; padding: 0; border: none; }
    MessageView.-match { background: $warning 15%; }
    """

    def __init__(self, message: Message, po_name: str, index: int) -> None:
        role_class = {"user": "-user", "assistant": "-assistant"}.get(message.role, "-other")
        super().__init__(classes=role_class)
        self.message = message
        self.po_name = po_name
        self.index = index

    def compose(self) -> ComposeResult:
        message = self.message
        note = "(cut short)" if message.incomplete else ""
        title = header(
            visible(speaker_of(message, self.po_name), one_line=True), message.role, note
        )
        if message.content:
            body: Markdown | Text | None = message_body(message)
        else:  # a message that only calls tools says nothing: its calls follow
            body = None if message.tool_calls else Text("(empty)", style="dim")
        yield Static(Group(title, body) if body is not None else title, classes="body")
        delegations = [c for c in message.tool_calls or [] if is_delegation(c)]
        others = [c for c in message.tool_calls or [] if not is_delegation(c)]
        for call in delegations:  # one line each, Enter opens the delegation session
            yield DelegationLine(call)
        if others:
            yield Collapsible(
                Static(Text(folded(others))),
                title=f"tool calls ({len(others)})",
            )
        if message.tool_results and not repeats_results(message):
            yield Collapsible(
                Static(Text(folded(message.tool_results))),
                title=f"tool results ({len(message.tool_results)})",
            )


STREAM_TAIL = 8_000  # characters of a reply in progress drawn while it streams


class StreamingView(Static):
    """A reply as it streams in: plain text while it grows, replaced by a MessageView when
    stored."""

    DEFAULT_CSS = """
    StreamingView {
        height: auto; margin: 0 0 1 0; border-left: thick $success 50%; padding-left: 1;
    }
    """

    def __init__(self, speaker: str, text: str = "", note: str = "streaming…") -> None:
        super().__init__()
        self.speaker = speaker
        self.text = text
        self.note = note

    def on_mount(self) -> None:
        self._show()

    def add(self, chunk: str) -> None:
        self.text += chunk
        self._show()

    def set(self, text: str, note: str | None = None) -> None:
        """Show the whole reply so far; ``note`` is its state (``streaming…``, ``queued…``)."""
        if text == self.text and (note is None or note == self.note):
            return
        self.text = text
        if note is not None:
            self.note = note
        self._show()

    def _show(self) -> None:
        shown = self.text
        if len(shown) > STREAM_TAIL:  # the whole reply is drawn once it is stored
            cut = len(shown) - STREAM_TAIL
            body = Text(f"… ({cut:,} characters above)\n", style="dim")
            body.append(visible(shown[cut:]))
        else:
            body = Text(visible(shown) or "…")
        self.update(
            Group(header(visible(self.speaker, one_line=True), "assistant", self.note), body)
        )


class NoteView(Static):
    """A line from the app itself (a command's result); shown, never stored."""

    DEFAULT_CSS = """
    NoteView {
        height: auto; margin: 0 0 1 0; color: $text-muted;
        border-left: thick $secondary; padding-left: 1;
    }
    NoteView.-error { color: $error; border-left: thick $error; }
    """

    def __init__(self, text: str, *, error: bool = False) -> None:
        super().__init__(Text(visible(text)), classes="-error" if error else "")
        self.text = text
