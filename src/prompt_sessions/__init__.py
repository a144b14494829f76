"""prompt-sessions: named, persistent conversation sessions for Prompt Objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl
from .models import Message, Session, SessionSummary, Usage

__version__ = "0.1.0"

__all__ = [
    "Message",
    "Session",
    "SessionManager",
    "SessionSummary",
    "Usage",
    "hookimpl",
    "__version__",
]

if TYPE_CHECKING:
    from .manager import SessionManager


def __getattr__(name: str) -> Any:
    # The manager pulls in the plugin host and storage; load it only when asked for.
    if name == "SessionManager":
        from .manager import SessionManager

        return SessionManager
    raise AttributeError(name)
