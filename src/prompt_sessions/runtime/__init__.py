"""The runtime layer between frontends and the SessionManager (no Textual here).

A :class:`Coordinator` holds a :class:`LiveSession` per open session, runs replies in the
background within the ``[runtime]`` limits of config.toml, follows other processes' changes to
the store, and tells frontends what happened through events (``prompt_sessions.runtime.events``).
"""

from __future__ import annotations

from .coordinator import Coordinator
from .errors import SessionBusy, SessionNotOpen
from .live_session import LiveSession
from .retry import RetryPolicy
from .settings import RuntimeSettings
from .status import Status, status_label
from .view_state import ViewState
from .workspace import Workspace

__all__ = [
    "Coordinator",
    "LiveSession",
    "RetryPolicy",
    "RuntimeSettings",
    "SessionBusy",
    "SessionNotOpen",
    "Status",
    "ViewState",
    "Workspace",
    "status_label",
]
