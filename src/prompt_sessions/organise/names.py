"""Automatic session names (DESIGN section 14, "Auto-names").

A session whose name no person set (``Session.auto_named``) is named after its first user
message at once: whitespace collapsed, at most 50 characters, cut at a word. After its first
reply the ``session_title`` hook may give a better name. A person's rename clears
``auto_named``, and from then on the name is never replaced.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..cells import boundary
from ..errors import InvalidName, PromptSessionsError
from ..models import DEFAULT_SESSION_NAME, Message, Session, SessionSummary, clean_name

if TYPE_CHECKING:
    from ..manager import SessionManager

TITLE_MAX = 50
_WS = re.compile(r"\s+")
# ASCII digits: "New Session ٣" is a name a person chose, not a numbered placeholder.
_PLACEHOLDER = re.compile(rf"{re.escape(DEFAULT_SESSION_NAME)}( [0-9]+)?\Z")


def title_from(text: str) -> str | None:
    """A name from a message: whitespace (and control characters) collapsed to single spaces,
    at most 50 characters, cut before a word that would not fit (a single longer word is cut
    between characters). None when the message holds no visible text."""
    flat = _WS.sub(" ", "".join(" " if _control(c) else c for c in text)).strip()
    if not flat:
        return None
    if len(flat) > TITLE_MAX:
        cut = flat[: TITLE_MAX + 1]
        words = cut.rsplit(" ", 1)[0] if " " in cut else ""
        flat = words.rstrip() if words else flat[: boundary(flat, TITLE_MAX)]
    try:
        return clean_name(flat)
    except InvalidName:
        return None


def _control(c: str) -> bool:
    code = ord(c)
    return code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code <= 0xDFFF


def is_placeholder(name: str) -> bool:
    """``New Session`` or ``New Session N``: the name a session gets before its first message."""
    return _PLACEHOLDER.match(name) is not None


def after_append(
    manager: SessionManager, session_id: str, message: Message, summary: SessionSummary | None
) -> None:
    """Name an auto-named session after ``message`` was appended: from its first user message,
    then (after its first reply) by the ``session_title`` hook. Costs nothing for sessions a
    person named: ``summary`` (the store's summary after the append) says so."""
    if summary is None or not summary.auto_named:
        return
    if message.role == "user" and is_placeholder(summary.name):
        title = title_from(message.content)
        if title is not None and title != summary.name:
            _rename(manager, session_id, summary.name, title)
    elif message.role == "assistant" and manager.host.has_session_title():
        refine(manager, session_id)


def refine(manager: SessionManager, session_id: str) -> Session | None:
    """Ask the ``session_title`` hook for a better name once the session has its first reply.

    Returns:
        The renamed session, or None when nothing changed (not auto-named, not the first reply,
        no plugin answered, or the answer is not a valid name).
    """
    session = manager.get(session_id)
    replies = sum(1 for m in session.history if m.role == "assistant")
    if not session.auto_named or replies != 1:
        return None
    title = manager.host.session_title(session, manager)
    if not isinstance(title, str):
        return None
    try:
        name = clean_name(title_from(title) or "")
    except InvalidName:
        return None
    # Read again just before writing: a person may have renamed it while the title was made.
    if name == session.name or not manager.get(session_id).auto_named:
        return None
    return _rename(manager, session_id, session.name, name)


def _rename(manager: SessionManager, session_id: str, old: str, name: str) -> Session | None:
    try:
        session = manager.backend.update(session_id, name=name)
    except PromptSessionsError:
        return None  # naming is a courtesy: the message itself is stored
    manager.host.session_renamed(session=session, old_name=old, manager=manager)
    return session
