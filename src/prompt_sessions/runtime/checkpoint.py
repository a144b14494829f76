"""Checkpoints of a streaming reply: a provisional copy in the store, so a crash keeps its text.

While a reply streams, the text so far is written to the store every ``[runtime] checkpoint_ms``
(default one second) while it changes, as an assistant message marked ``incomplete``: appended the
first time, rewritten in place after that (``storage.base.SupportsReplaceLast``), so the store
holds one copy, at the session's end, at a cost that does not grow with the history. The reply
itself, or what a cancel or an error leaves of it, is then stored over the copy
(``Coordinator.store_message``): a reply is stored once, never twice. A kill in between leaves
the copy: the text shown up to the last checkpoint, ``incomplete: true``, which ``/retry``
answers again (DESIGN section 8).

The copy lives only in the store. The history in memory, the runtime's events and the plugins'
``message_appended`` hear of the reply once, when it is stored; the store sync knows the copy
as this process's own write. A backend without the capability is not checkpointed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..errors import NotLastMessage
from ..models import Message, SessionSummary
from ..reply import reply_message
from ..storage.base import SupportsReplaceLast

if TYPE_CHECKING:
    from ..manager import SessionManager
    from .coordinator import Coordinator
    from .live_session import LiveSession


def write_copy(
    manager: SessionManager, session_id: str, message: Message, index: int | None
) -> SessionSummary:
    """Store the copy (in a worker thread): appended when ``index`` is None, else written over
    the copy at ``index``. Plugins are not told. Raises NotLastMessage or StorageError."""
    backend = manager.backend
    if index is None:
        return backend.append(session_id, message)
    assert isinstance(backend, SupportsReplaceLast)  # no copy is written without it
    return backend.replace_last(session_id, message, index=index)


def settle(manager: SessionManager, session_id: str, message: Message, index: int) -> Message:
    """Store the reply over its copy at ``index`` (in a worker thread). When another writer
    added a message after the copy, the copy stays (an ordinary incomplete message) and the
    reply is appended after it. Raises StorageError."""
    try:
        return manager.replace_last(session_id, message, index=index)
    except NotLastMessage:
        return manager.append(session_id, message)


class Checkpoints:
    """The checkpoints of one reply: a task that stores the text streamed so far every
    ``checkpoint_ms`` while it changes. ``started`` (``time.perf_counter()``) dates the reply."""

    def __init__(self, coord: Coordinator, live: LiveSession, started: float) -> None:
        self._coord = coord
        self._live = live
        self._started = started
        self._written = ""  # the text of the last copy
        self.last: Message | None = None  # the last copy (what a crash would leave)
        self._task: asyncio.Task[None] | None = None
        interval = coord.settings.checkpoint_ms / 1000
        if interval > 0 and isinstance(coord.manager.backend, SupportsReplaceLast):
            self._task = asyncio.create_task(
                self._run(interval), name=f"checkpoints {live.session_id}"
            )

    async def _run(self, interval: float) -> None:
        live = self._live
        while True:
            await asyncio.sleep(interval)
            try:
                await self._coord.store_checkpoint(live, self._copy)
            except NotLastMessage:
                return  # another writer added to the session: the reply is appended at its end
            except Exception as exc:  # a checkpoint is a safety net: never a reason to fail
                self._coord.warn(f"the reply in '{live.name}' could not be checkpointed: {exc}")
                return

    def _copy(self) -> Message | None:
        """The copy to store now, or None when there is no text or no new text since the last."""
        reply = self._live._reply
        if not reply:
            return None
        text = reply.whole
        if text == self._written:
            return None
        self._written = text
        self.last = reply_message(text, None, self._started, incomplete=True)
        return self.last

    async def stop(self) -> None:
        """Stop checkpointing; a copy being written is finished first (the session's write lock
        orders it before whatever the reply stores next)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])  # not ``await task``: that would raise its cancellation here
