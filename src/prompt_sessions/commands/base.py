"""What a slash command is, and what it is given when it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..errors import UsageError

if TYPE_CHECKING:
    from ..context import AppContext
    from ..manager import SessionManager


class Frontend(Protocol):
    """What a command may ask of the UI that runs it.

    :class:`PlainFrontend` is a headless default.
    """

    def show_session(self, po_name: str, session_id: str | None) -> None:
        """Display the session (already made current in the store) of the given PO."""

    def cancel_reply(self, session_id: str) -> bool:
        """Stop the session's streaming reply; False if none was running."""

    def retry_reply(self, session_id: str) -> bool:
        """Run the reply of the session's last turn again (it is unanswered or was cut short);
        False if the last turn has its reply."""

    def confirm(self, question: str, action: Callable[[], str | None]) -> None:
        """Ask a yes/no question; on yes run ``action`` and show what it returns."""

    def reply_running(self, session_id: str) -> bool:
        """Whether the session has a reply queued or streaming here."""

    def history_rewritten(self, session_id: str, *, reply: bool = False) -> None:
        """The session's history was rewritten in the store (a rewind, an edit): show it again;
        with ``reply``, then run the reply to its last turn."""

    def open_tree(self, session_id: str) -> bool:
        """Show the session's lineage in a view of its own (the TUI's tree modal); False when
        this frontend has none, and the command prints it as text."""

    def offer_draft(self, text: str) -> bool:
        """Put ``text`` in the message box for the person to change and send (``/edit`` offers
        the message it would change); False when this frontend has no message box."""


class PlainFrontend:
    """A frontend without a screen: records the session it was told to show and the histories
    rewritten, confirms everything, runs no replies."""

    def __init__(self) -> None:
        self.shown: tuple[str, str | None] | None = None
        self.messages: list[str] = []
        self.rewritten: list[tuple[str, bool]] = []  # (session, reply asked) per rewrite

    def show_session(self, po_name: str, session_id: str | None) -> None:
        self.shown = (po_name, session_id)

    def cancel_reply(self, session_id: str) -> bool:
        return False

    def retry_reply(self, session_id: str) -> bool:
        return False

    def confirm(self, question: str, action: Callable[[], str | None]) -> None:
        result = action()
        if result:
            self.messages.append(result)

    def reply_running(self, session_id: str) -> bool:
        return False

    def history_rewritten(self, session_id: str, *, reply: bool = False) -> None:
        self.rewritten.append((session_id, reply))

    def open_tree(self, session_id: str) -> bool:
        return False

    def offer_draft(self, text: str) -> bool:
        return False


@dataclass
class CommandContext:
    """Where a command runs: the environment, the PO and session on screen, and the frontend."""

    app: AppContext
    po_name: str
    session_id: str | None
    frontend: Frontend = field(default_factory=PlainFrontend)

    @property
    def manager(self) -> SessionManager:
        return self.app.manager

    def require_session(self) -> str:
        """The shown session's id, or a usage error when the PO has no session file yet."""
        if self.session_id is None:
            raise UsageError(
                f"{self.po_name} has no session yet; send a message or use /session new"
            )
        return self.session_id

    def show(self, po_name: str, session_id: str | None) -> None:
        """Move this context and the frontend to another session."""
        self.po_name = po_name
        self.session_id = session_id
        self.frontend.show_session(po_name, session_id)


RunFunction = Callable[[CommandContext, list[str]], "str | None"]


@dataclass
class SlashCommand:
    """One slash command.

    A dot in ``name`` is a space when typed: ``session.new`` is ``/session new``.

    ``run(ctx, args)`` gets the words after the command (shell quoting rules) and returns text to
    show, or None. It raises errors from ``prompt_sessions.errors`` for bad input. With ``raw``
    it gets instead the rest of the line exactly as typed (quotes, apostrophes and line breaks
    kept) as one argument, or none when nothing follows: for commands that take message text.
    """

    name: str
    run: RunFunction
    help: str = ""
    usage: str = ""
    aliases: tuple[str, ...] = ()
    category: str = "command"
    palette_title: str | None = None
    raw: bool = False

    def __post_init__(self) -> None:
        if not self.usage:
            self.usage = f"/{self.typed}"

    @property
    def typed(self) -> str:
        """The command as a user types it, without the slash (``session new``)."""
        return self.name.replace(".", " ")

    @property
    def takes_arguments(self) -> bool:
        return "<" in self.usage or "[" in self.usage


def rest_of_line(args: list[str], what: str = "a name", *, required: bool = True) -> str | None:
    """Words after the command joined back into one name (quotes already removed by shlex)."""
    text = " ".join(args).strip()
    if not text:
        if required:
            raise UsageError(f"give {what}")
        return None
    return text
