"""Errors of the runtime layer, in the project's one error family."""

from __future__ import annotations

from ..errors import PromptSessionsError


class SessionBusy(PromptSessionsError):
    """A message was sent to a session whose reply is still queued or streaming."""

    title = "Session busy"

    def __init__(self, name: str) -> None:
        super().__init__(f"session '{name}' is still replying; wait for it or cancel it first")
        self.name = name


class SessionNotOpen(PromptSessionsError):
    title = "Session not open"

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} is not open")
        self.session_id = session_id
