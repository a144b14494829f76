"""One open session as the runtime holds it: stored session, reply in progress, status, view."""

from __future__ import annotations

import asyncio
from typing import Protocol

from ..models import Message, Session, make_preview
from .buffer import ReplyBuffer
from .status import Status
from .view_state import ViewState

PREVIEW_TAIL = 320  # characters of a streaming reply read to build its preview


class _Loader(Protocol):
    def ensure_loaded(self, live: LiveSession) -> None: ...


class LiveSession:
    """Read its attributes freely; change it only through the :class:`Coordinator`.

    ``view`` is the exception: it belongs to the frontend, which updates it as the user scrolls,
    types or filters, and the coordinator saves it with the workspace.
    """

    def __init__(self, session: Session, owner: _Loader, buffer_limit_bytes: int) -> None:
        self.session_id = session.id
        self.po_name = session.po_name
        self.name = session.name
        self.status = Status.IDLE
        self.retry_attempt = 0
        self.unread = 0
        self.error: str | None = None
        self.view = ViewState()
        self.message_count = len(session.history)
        self.updated_at = session.updated_at
        self.last_used = 0
        self._owner = owner
        self._session: Session | None = session
        self._preview = make_preview(session.history[-1].content) if session.history else ""
        self._reply = ReplyBuffer(buffer_limit_bytes)
        self._task: asyncio.Task[Message | None] | None = None
        self._call_path: tuple[str, ...] = ()  # POs whose replies wait on this one's reply
        self._sending = False
        self._holds_slot = False  # a generation slot is taken for this session's reply
        self._resting = Status.IDLE  # the status to show again after an unload and reload
        self._io = asyncio.Lock()  # one store write or reload at a time per session
        # Where the store holds a provisional copy of the reply in progress (checkpoint.py), a
        # message that is not in the history held here; None when there is none.
        self._provisional: int | None = None

    def __repr__(self) -> str:
        return f"<LiveSession {self.session_id[:8]} {self.name!r} {self.status.value}>"

    @property
    def loaded(self) -> bool:
        return self._session is not None

    @property
    def busy(self) -> bool:
        """A reply is queued, streaming or retrying (or a message is being stored)."""
        return self._sending or (self._task is not None and not self._task.done())

    @property
    def history(self) -> list[Message]:
        """The stored messages. Reading it reloads an unloaded session from the store."""
        if self._session is None:
            self._owner.ensure_loaded(self)
        assert self._session is not None
        return self._session.history

    @property
    def session(self) -> Session:
        """The stored session (loaded on demand), for exporters and responders."""
        self.history  # noqa: B018 - loads it
        assert self._session is not None
        return self._session

    @property
    def buffer(self) -> str:
        """The reply in progress as shown (capped; past the cap the oldest text leaves the display,
        never the stored reply)."""
        return self._reply.text

    @property
    def buffer_dropped_bytes(self) -> int:
        return self._reply.dropped_bytes

    @property
    def preview(self) -> str:
        """One line: the tail of the reply in progress, else of the last message."""
        if self._reply and self.status is Status.STREAMING:
            return make_preview(self._reply.tail(PREVIEW_TAIL))
        return self._preview

    # ------------------------------------------------------------------ used by the coordinator

    def _note_message(self, message: Message) -> None:
        self.message_count += 1
        self.updated_at = message.created_at
        self._preview = make_preview(message.content)

    def _adopt(self, session: Session) -> None:
        """Take the store's copy of the session (its name, counts and history)."""
        self._session = session
        self.name = session.name
        self.message_count = len(session.history)
        self.updated_at = session.updated_at
        self._preview = make_preview(session.history[-1].content) if session.history else ""
