"""Events the coordinator sends to its subscribers, always on the event loop's thread.

Every event that concerns one session carries its ``session_id``, so a frontend routes it by id
and never by "the session on screen"; that is what keeps a reply from landing in the wrong view.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Message
from .status import Status


@dataclass(frozen=True)
class RuntimeEvent:
    """Base of every event."""


@dataclass(frozen=True)
class StatusChanged(RuntimeEvent):
    session_id: str
    status: Status
    previous: Status
    retry_attempt: int = 0
    error: str | None = None


@dataclass(frozen=True)
class ChunkReceived(RuntimeEvent):
    """A piece of the reply in progress; ``LiveSession.buffer`` holds all of it so far."""

    session_id: str
    text: str


@dataclass(frozen=True)
class MessageAdded(RuntimeEvent):
    """A message was stored in the session: typed here, a reply, or written by another process."""

    session_id: str
    message: Message
    index: int
    external: bool = False


@dataclass(frozen=True)
class ReplyFinished(RuntimeEvent):
    """A reply completed and was stored. ``background`` is true when its session was not shown."""

    session_id: str
    message: Message
    background: bool


@dataclass(frozen=True)
class ReplyFailed(RuntimeEvent):
    """A reply failed for good; ``partial`` is the incomplete reply stored, if any text arrived."""

    session_id: str
    error: str
    partial: Message | None
    background: bool


@dataclass(frozen=True)
class ReplyCancelled(RuntimeEvent):
    """A reply was cancelled; ``partial`` is the incomplete reply stored, if any text arrived."""

    session_id: str
    partial: Message | None


@dataclass(frozen=True)
class SessionChanged(RuntimeEvent):
    """Something shown about an open session changed.

    ``what`` is one of ``name`` (renamed, here or elsewhere), ``unread``, ``preview`` (messages
    arrived elsewhere while its history was unloaded), ``history`` (another process rewrote it
    and it was read again; re-render it all) or ``loaded`` (its history was dropped from memory
    or read back).
    """

    session_id: str
    what: str


@dataclass(frozen=True)
class SessionOpened(RuntimeEvent):
    """A session joined the open sessions (``Coordinator.open``)."""

    session_id: str


@dataclass(frozen=True)
class SessionRemoved(RuntimeEvent):
    """An open session was closed here, or deleted by another process (``deleted`` is true)."""

    session_id: str
    name: str
    po_name: str
    deleted: bool


@dataclass(frozen=True)
class SessionsChanged(RuntimeEvent):
    """The store's list of sessions changed (created, renamed, deleted or appended elsewhere)."""
