"""How the coordinator writes a session's messages: durably, in a thread, one write at a time.

A store write runs in a thread (``asyncio.to_thread``) that cannot be stopped, so a reply task
cancelled mid-write waits for it: memory and disk never disagree about whether a message was
stored (DESIGN section 8). A reply whose checkpoints left a provisional copy in the store is
stored over that copy (``checkpoint.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import msgspec

from ..errors import NotLastMessage
from ..models import Message
from . import checkpoint
from .events import MessageAdded, RuntimeEvent
from .live_session import LiveSession

if TYPE_CHECKING:
    from ..manager import SessionManager
    from .store_sync import StoreSync

T = TypeVar("T")


async def completed(write: Awaitable[T]) -> T:
    """Wait for a store write (running in a thread, which cannot be stopped) even when the task
    is cancelled meanwhile; the cancellation is delivered once it is done."""
    future = asyncio.ensure_future(write)
    cancelled = False
    try:
        while True:
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                if future.cancelled():
                    raise
                cancelled = True
    finally:
        if cancelled:
            task = asyncio.current_task()
            if task is not None:
                task.cancel()


class StoreWriter:
    """Writes messages of live sessions for one coordinator.

    Args:
        manager: the store's manager.
        sync: the coordinator's sync, told of its own writes so they are not taken for
            another process's.
        emit: delivers a ``MessageAdded`` event to the coordinator's subscribers.
        reply_source: stamped on stored replies that carry no ``source`` (None: nothing).
    """

    def __init__(
        self,
        manager: SessionManager,
        sync: StoreSync,
        emit: Callable[[RuntimeEvent], None],
        reply_source: str | None,
    ) -> None:
        self._manager = manager
        self._sync = sync
        self._emit = emit
        self._reply_source = reply_source

    async def store_message(self, live: LiveSession, message: Message) -> Message:
        """Append durably (in a thread), then record it in memory and tell subscribers.

        A cancellation arriving mid-write waits for the write and is delivered afterwards, so
        memory and disk never disagree about whether the message was stored. A reply whose
        checkpoints left a copy in the store is stored over it (``checkpoint.py``).
        """
        message = self._stamped(message)
        async with live._io:
            if live._provisional is None:
                write = asyncio.to_thread(self._manager.append, live.session_id, message)
            else:  # a reply stored over the copy its checkpoints left (checkpoint.py)
                write = asyncio.to_thread(
                    checkpoint.settle, self._manager, live.session_id, message, live._provisional
                )
            stored = await completed(write)
            live._provisional = None
            self.record_stored(live, stored)
        return stored

    async def store_checkpoint(self, live: LiveSession, copy: Callable[[], Message | None]) -> bool:
        """Store the provisional copy of the reply in progress (``checkpoint.py``): ``copy()``,
        called once no other write of the session runs, gives it, or None when there is nothing
        new. Only the store holds it: memory, events and plugins hear of the reply once, when
        ``store_message`` stores it over the copy. Returns whether a copy was written.

        Raises:
            NotLastMessage: another writer added to the session after the copy, which stays an
                ordinary message; the reply will be appended after it.
            StorageError: the copy was not written.
        """
        async with live._io:
            message = copy()
            if message is None:
                return False
            write = asyncio.to_thread(
                checkpoint.write_copy,
                self._manager,
                live.session_id,
                self._stamped(message),
                live._provisional,
            )
            try:
                summary = await completed(write)
            except NotLastMessage:
                live._provisional = None
                raise
            live._provisional = summary.message_count - 1
            self._sync.note_own_write(summary)
        return True

    def _stamped(self, message: Message) -> Message:
        if self._reply_source is None or message.source is not None:
            return message
        return msgspec.structs.replace(message, source=self._reply_source)

    def record_stored(self, live: LiveSession, stored: Message, *, external: bool = False) -> None:
        """Add a stored message to the live session's memory and tell subscribers."""
        if live._session is not None:
            live._session.history.append(stored)
        live._note_message(stored)
        self._sync.note_own_append(live)
        self._emit(MessageAdded(live.session_id, stored, live.message_count - 1, external))
