"""Running replies for the TUI: the one place that knows how a turn is executed.

Today each turn is ``run_reply`` in a Textual worker; moving to the runtime's Coordinator means
changing this module only. The runner posts ``tui.messages`` to its target as a reply streams.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.worker import Worker

from ..errors import PromptSessionsError
from ..models import Message
from ..reply import run_reply
from .messages import ReplyChunk, ReplyFailed, ReplyFinished, ReplyStarted

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

    from ..context import AppContext


class ReplyRunner:
    """Stores the user's message and streams the PO's reply, one turn per session at a time."""

    def __init__(self, app: App, ctx: AppContext, target: MessagePump) -> None:
        self.app = app
        self.ctx = ctx
        self.target = target
        self._workers: dict[str, Worker] = {}
        self._buffers: dict[str, list[str]] = {}

    def is_streaming(self, session_id: str | None) -> bool:
        worker = self._workers.get(session_id or "")
        return worker is not None and not worker.is_finished

    def partial(self, session_id: str) -> str:
        """The text streamed so far for a session's running reply."""
        return "".join(self._buffers.get(session_id, []))

    def send(self, session_id: str, text: str, *, source: str = "tui") -> Message:
        """Append the user's message and start the reply in the background."""
        if self.is_streaming(session_id):
            raise PromptSessionsError("a reply is still streaming here; wait, or press ctrl+c to cancel it")
        stored = self.ctx.manager.append(session_id, Message(role="user", content=text, source=source))
        self._buffers[session_id] = []
        self._workers[session_id] = self.app.run_worker(
            self._turn(session_id), name=f"reply {session_id}", group="replies", exit_on_error=False
        )
        return stored

    async def _turn(self, session_id: str) -> None:
        post = self.target.post_message
        post(ReplyStarted(session_id))

        def on_chunk(text: str) -> None:
            self._buffers.setdefault(session_id, []).append(text)
            post(ReplyChunk(session_id, text))

        try:
            message = await run_reply(self.ctx, session_id, on_chunk=on_chunk)
        except asyncio.CancelledError:
            post(ReplyFinished(session_id, None, cancelled=True))
            raise
        except PromptSessionsError as exc:
            post(ReplyFailed(session_id, str(exc)))
        except Exception as exc:  # a storage or plugin bug must not take the app down
            post(ReplyFailed(session_id, f"{type(exc).__name__}: {exc}"))
        else:
            post(ReplyFinished(session_id, message))
        finally:
            self._buffers.pop(session_id, None)

    def cancel(self, session_id: str) -> bool:
        """Cancel a session's reply; what arrived is saved as incomplete."""
        worker = self._workers.get(session_id)
        if worker is None or worker.is_finished:
            return False
        worker.cancel()
        return True

    async def stop_all(self) -> None:
        """Cancel every running reply and wait until each has saved what it had."""
        running = [w for w in self._workers.values() if not w.is_finished]
        for worker in running:
            worker.cancel()
        for worker in running:
            try:
                await worker.wait()
            except Exception:  # cancelled or failed: it already saved what it could
                pass
