"""The ``llm`` responder: POs answer through simonw's ``llm`` library (DESIGN section 11).

Importing this module is cheap: ``llm`` itself is imported the first time a PO answers, so
commands such as ``prompt-sessions list`` never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prompt_sessions import hookimpl

from .responder import LlmResponder

if TYPE_CHECKING:
    from prompt_sessions.manager import SessionManager
    from prompt_sessions.models import Session
    from prompt_sessions.protocols import ResponderFactory

__all__ = ["LlmResponder"]


@hookimpl
def register_responders(register: Callable[[str, ResponderFactory], None]) -> None:
    register("llm", LlmResponder)


@hookimpl
def session_title(session: Session, manager: SessionManager) -> str | None:
    """A short name from ``[responders.llm] title_model`` after the first reply (DESIGN 14)."""
    from .title import session_title as make

    return make(session, manager)
