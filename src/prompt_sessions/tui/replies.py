"""The TUI's link to the runtime: one Coordinator per app, its events as Textual messages.

Replies run in the Coordinator as asyncio tasks bound to their session, not to the view, so a
reply keeps streaming into its own session while another one is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..runtime import Coordinator
from ..runtime.events import ChunkReceived, RuntimeEvent
from .messages import ChunksArrived, RuntimeUpdate

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from ..context import AppContext


class RuntimeLink:
    """Owns the app's Coordinator and forwards its events to one target (the main screen)."""

    def __init__(self, ctx: AppContext) -> None:
        self.coord = Coordinator(ctx, source="tui")
        self._target: MessagePump | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False
        self._chunked: set[str] = set()

    def attach(self, target: MessagePump) -> None:
        self._target = target
        if self._unsubscribe is None:
            self._unsubscribe = self.coord.subscribe(self._forward)

    def _forward(self, event: RuntimeEvent) -> None:
        if self._target is None:
            return
        if isinstance(event, ChunkReceived):
            fresh = not self._chunked
            self._chunked.add(event.session_id)
            if fresh:  # one message until the screen takes the set; it reads each live buffer
                self._target.post_message(ChunksArrived())
            return
        self._target.post_message(RuntimeUpdate(event))

    def take_chunked(self) -> set[str]:
        """The sessions that streamed since the last call."""
        taken, self._chunked = self._chunked, set()
        return taken

    async def start(self) -> None:
        """Follow other processes' changes to the store."""
        await self.coord.start_watching()

    async def close(self) -> None:
        """Cancel replies (partial text is saved incomplete), save the workspace, stop watching."""
        if self._closed:
            return
        self._closed = True
        await self.coord.shutdown()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
