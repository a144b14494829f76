"""The coordinator owns every open session; frontends only choose which one is shown.

Replies run as asyncio tasks, one per session, bound to their ``LiveSession`` rather than to the
view, so a reply keeps streaming into its own session while another is shown. Frontends learn
what happened through events (see ``events.py``), delivered on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from ..context import AppContext
from ..errors import ReadOnlyStore, StorageError, UsageError
from ..ids import validate_id
from ..models import Message, SessionSummary
from ..reply_lease import ReplyLease
from .errors import SessionBusy, SessionNotOpen
from .event_bus import EventBus, Subscriber
from .events import (
    ReplyCancelled,
    RuntimeEvent,
    SessionChanged,
    SessionOpened,
    SessionRemoved,
    StatusChanged,
)
from .live_session import LiveSession
from .memory import SessionMemory
from .reply_task import retryable, run_reply
from .responder_pool import ResponderPool
from .retry import RetryPolicy
from .settings import RuntimeSettings
from .slots import GenerationSlots
from .status import Status
from .store_sync import StoreSync
from .store_writer import StoreWriter
from .turn_leases import TurnLeases
from .workspace import Workspace, WorkspaceSaver, load_workspace, reopen

log = logging.getLogger(__name__)
T = TypeVar("T")


class Coordinator:
    """Live sessions over one store. Build one per frontend with the app's context."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        settings: RuntimeSettings | None = None,
        retry: RetryPolicy | None = None,
        source: str | None = None,
        reply_source: str | None = None,
        keep_workspace: bool = True,
        lease_turns: bool = True,
    ) -> None:
        self.ctx = ctx
        self.manager = ctx.manager
        self.settings = settings or RuntimeSettings.from_config(ctx.config)
        self.retry = retry or RetryPolicy.from_settings(self.settings)
        self.source = source  # stamped on the user's messages ("tui", "api", ...)
        # Stamped on what the replies store, for a frontend that marks its whole turn ("mcp").
        self.reply_source = reply_source
        self.responders = ResponderPool(ctx)
        self._sessions: dict[str, LiveSession] = {}
        self._turns = TurnLeases(self.manager.root, lease_turns)
        self._shown: str | None = None
        self.events = EventBus(ctx.warnings)
        self._slots = GenerationSlots(self.settings.max_generating)
        self._memory = SessionMemory(self)
        self._sync = StoreSync(self)
        self._writer = StoreWriter(self.manager, self._sync, self.emit, reply_source)
        # A one-shot frontend (the CLI's send) leaves the TUI's saved workspace alone.
        self._saver = WorkspaceSaver(
            self.manager.root, self.workspace, self.warn, enabled=keep_workspace
        )

    # ------------------------------------------------------------------ events

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that unsubscribes."""
        return self.events.subscribe(callback)

    def emit(self, event: RuntimeEvent) -> None:
        """Deliver ``event`` to every subscriber (for the runtime's reply and sync tasks)."""
        self.events.emit(event)

    def warn(self, text: str) -> None:
        """Log ``text`` and keep it for the frontend to show."""
        self.events.warn(text)

    @property
    def live_sessions(self) -> dict[str, LiveSession]:
        """The open sessions by id, in the order they were opened (read it, do not change it)."""
        return self._sessions

    @property
    def slots(self) -> GenerationSlots:
        """The generation slots that bound how many replies run at once."""
        return self._slots

    # ------------------------------------------------------------------ open, show, close

    @property
    def shown(self) -> str | None:
        return self._shown

    def get(self, session_id: str) -> LiveSession | None:
        """The open session with this id, or None."""
        return self._sessions.get(session_id)

    def open_sessions(self) -> list[LiveSession]:
        """Every open session, in the order they were opened."""
        return list(self._sessions.values())

    def open(self, session_id: str) -> LiveSession:
        """Load a session into the runtime, or return it if it is open already."""
        sid = validate_id(session_id)
        live = self._sessions.get(sid)
        if live is None:
            session = self.manager.get(sid)  # SessionNotFound or CorruptSession: a clear error
            live = LiveSession(session, self._memory, self.settings.buffer_limit_bytes)
            self._sessions[sid] = live
            self._memory.touch(live)
            self.emit(SessionOpened(sid))
            self._memory.enforce_limit(keep=live)
            self._saver.save_soon()
        else:
            self._memory.touch(live)
        return live

    def show(self, session_id: str | None) -> LiveSession | None:
        """Make this session the one on screen (opening it if needed) and clear its unread."""
        if session_id is None:
            self._shown = None
            self._saver.save_soon()
            return None
        live = self.open(session_id)
        self._shown = live.session_id
        if not live.loaded:
            self._memory.ensure_loaded(live)
        if live.unread:
            live.unread = 0
            self.emit(SessionChanged(live.session_id, "unread"))
        self._saver.save_soon()
        return live

    def close_session(self, session_id: str) -> None:
        """Close an open session; a reply it is running is cancelled (its partial text is kept)."""
        live = self._sessions.get(session_id)
        if live is None:
            raise SessionNotOpen(session_id)
        self.remove_session(live, deleted=False)

    def remove_session(self, live: LiveSession, *, deleted: bool) -> None:
        """Drop an open session; ``deleted``: it is gone from the store, and unless this process
        deleted it, another program did (``SessionRemoved.deleted``)."""
        deleted = deleted and not self._sync.deleted_here(live.session_id)
        if live._task is not None:
            live._task.cancel()
        self._sessions.pop(live.session_id, None)
        if self._shown == live.session_id:
            self._shown = None
        self.emit(SessionRemoved(live.session_id, live.name, live.po_name, deleted))
        self._saver.save_soon()

    def rename(self, session_id: str, new_name: str) -> LiveSession | None:
        """Rename in the store and, if it is open, here at once (no wait for the watcher)."""
        session = self.manager.rename(session_id, new_name)
        live = self._sessions.get(session.id)
        if live is not None:
            self._sync.rename(live, session.name)
        return live

    async def delete(self, session_id: str) -> None:
        """Delete a session from the store for good, cancelling its reply and closing it first."""
        sid = validate_id(session_id)
        self._sync.note_own_delete(sid)
        live = self._sessions.get(sid)
        if live is not None:
            task = live._task
            self.remove_session(live, deleted=True)
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        await asyncio.to_thread(self.manager.delete, sid)

    # ------------------------------------------------------------------ sending and replies

    async def send(self, session_id: str, text: str, *, source: str | None = None) -> Message:
        """Store the user's message in this session, then start its reply in the background.

        Returns once the message is stored. The reply waits for a free slot if ``max_generating``
        replies are already running. SessionBusy if this session is still replying,
        SessionReplying if another process is (its reply lease is held; nothing is stored).
        """
        if not isinstance(text, str) or not text.strip():
            raise UsageError("the message is empty")
        live = self.open(session_id)
        if live.busy:
            raise SessionBusy(live.name)
        responder, options = self.responders.for_po(live.po_name)  # an unknown responder fails here
        lease: ReplyLease | None = None
        live._sending = True
        try:
            lease = await self._turns.take(live.session_id, live.name)
            message = Message(role="user", content=text, source=source or self.source)
            stored = await self.store_message(live, message)
        except BaseException as exc:
            if lease is not None:
                lease.release(forget=isinstance(exc, ReadOnlyStore))
            raise
        finally:
            live._sending = False
        self._memory.touch(live)
        if self._sessions.get(live.session_id) is live:  # not closed while the message was stored
            self.start_reply(live, responder, options)
            self._turns.keep(live.session_id, lease, live._task)
        elif lease is not None:
            lease.release()
        return stored

    async def resume(self, session_id: str) -> bool:
        """Reply again to a session whose last turn lacks its reply: its last message is the
        user's, or a reply cut short (after an error, a cancel or a crash). False if it has its
        reply; SessionBusy if a reply is running, SessionReplying if another process's is."""
        live = self.open(session_id)
        if live.busy:
            raise SessionBusy(live.name)
        if not retryable(live.history):
            return False
        responder, options = self.responders.for_po(live.po_name)
        live._sending = True  # busy while the lease is taken: no second turn slips in
        try:
            lease = await self._turns.take(live.session_id, live.name)
        finally:
            live._sending = False
        if lease is not None and lease.held and not retryable(live.history):
            lease.release()  # answered meanwhile by the program whose turn this one waited for
            return False
        self.start_reply(live, responder, options)
        self._turns.keep(live.session_id, lease, live._task)
        return True

    def start_reply(
        self,
        live: LiveSession,
        responder: object,
        options: dict[str, object],
        *,
        path: tuple[str, ...] = (),
        slot: bool = True,
    ) -> asyncio.Task[Message | None]:
        """Start the session's reply task. ``path``: the POs whose replies wait on this one
        (outermost first; empty for a reply the person asked for). A delegated reply runs in
        its caller's generation slot (``slot=False``): taking one of its own could deadlock."""
        reserved = self._slots.try_acquire() if slot else True
        live._holds_slot = reserved and slot
        live._call_path = path
        live.retry_attempt = 0
        self.set_status(live, Status.STREAMING if reserved else Status.QUEUED)
        task = asyncio.create_task(
            run_reply(self, live, responder, options, reserved), name=f"reply {live.session_id}"
        )
        live._task = task
        task.add_done_callback(functools.partial(self._reply_done, live))
        return task

    def release_slot(self, live: LiveSession) -> None:
        if live._holds_slot:
            live._holds_slot = False
            self._slots.release()

    def _reply_done(self, live: LiveSession, task: asyncio.Task[Message | None]) -> None:
        if live._task is task:
            live._task = None
            live._provisional = None  # a copy left by a task that crashed is an ordinary message
            self._turns.end(live.session_id)
        self.release_slot(live)  # a task cancelled before it ever ran still held its slot
        if task.cancelled():
            if live.status.busy:  # cancelled before it ran: nothing streamed, nothing stored
                self.set_status(live, Status.IDLE)
                self.emit(ReplyCancelled(live.session_id, None))
        elif task.exception() is not None:
            exc = task.exception()
            log.error("reply task of %s crashed", live.session_id, exc_info=exc)
            live._reply.clear()
            self.set_status(live, Status.ERROR, error=f"internal error: {exc}")
        self._memory.enforce_limit()

    def cancel(self, session_id: str) -> bool:
        """Cancel the session's queued or running reply. False if it had none."""
        live = self._sessions.get(session_id)
        if live is None or live._task is None or live._task.done():
            return False
        live._task.cancel()
        return True

    async def wait_idle(self, session_id: str | None = None) -> None:
        """Wait until the session (or every open session) has no reply queued or running."""
        while True:
            targets = [self._sessions[session_id]] if session_id in self._sessions else []
            if session_id is None:
                targets = list(self._sessions.values())
            tasks = [live._task for live in targets if live._task is not None]
            if not tasks:
                return
            await asyncio.wait(tasks)

    async def store_message(self, live: LiveSession, message: Message) -> Message:
        """Append ``message`` to the session durably, then record it and tell subscribers
        (``StoreWriter.store_message``)."""
        return await self._writer.store_message(live, message)

    async def store_checkpoint(self, live: LiveSession, copy: Callable[[], Message | None]) -> bool:
        """Store the provisional copy of the reply in progress (``StoreWriter.store_checkpoint``).

        Raises:
            NotLastMessage: another writer added to the session after the copy.
            StorageError: the copy was not written.
        """
        return await self._writer.store_checkpoint(live, copy)

    # ------------------------------------------------------------------ status and unread

    def set_status(
        self,
        live: LiveSession,
        status: Status,
        *,
        attempt: int | None = None,
        error: str | None = None,
    ) -> None:
        previous, old_attempt, old_error = live.status, live.retry_attempt, live.error
        live.status = status
        if attempt is not None:
            live.retry_attempt = attempt
        if status is Status.ERROR:
            live.error = error if error is not None else live.error
        elif status is not Status.UNLOADED:  # an unloaded session keeps its error to show it again
            live.error = None
        if status is not Status.UNLOADED and not status.busy:
            live._resting = status
        if (previous, old_attempt, old_error) != (status, live.retry_attempt, live.error):
            self.emit(
                StatusChanged(live.session_id, status, previous, live.retry_attempt, live.error)
            )

    def add_unread(self, live: LiveSession, count: int = 1) -> None:
        live.unread += count
        self.emit(SessionChanged(live.session_id, "unread"))

    # ------------------------------------------------------------------ live sync

    async def start_watching(self) -> None:
        """Follow other processes' changes to the store (appends, renames, creates, deletes)."""
        await self._sync.start_watching()

    async def stop_watching(self) -> None:
        """Stop following other processes' changes."""
        await self._sync.stop_watching()

    @property
    def watching(self) -> bool:
        """Whether other processes' changes are being followed."""
        return self._sync.watching

    def known_sessions(
        self, po_name: str | None = None, keep: str | None = None
    ) -> list[SessionSummary] | None:
        """The unarchived sessions (and session ``keep``, archived or not) as the last sync read
        them, without touching the disk; None before the first sync. It can lag a change by one
        sync, so show it, then re-read."""
        summaries = self._sync.summaries
        if summaries is None:
            return None
        return [
            s
            for s in summaries
            if (not s.archived or s.id == keep) and (po_name is None or s.po_name == po_name)
        ]

    async def refresh(self) -> None:
        """Bring open sessions up to date with the store now (the watcher calls this)."""
        await self._sync.run()

    # ------------------------------------------------------------------ workspace

    def workspace(self) -> Workspace:
        """What would be saved now: open sessions in order, the shown one, their views."""
        return Workspace(
            open=list(self._sessions),
            shown=self._shown,
            views={sid: dataclasses.replace(live.view) for sid, live in self._sessions.items()},
        )

    def save_workspace(self) -> None:
        """Write the workspace file now (atomically)."""
        self._saver.save_now()

    def restore_workspace(self) -> LiveSession | None:
        """Reopen the sessions saved last time with their views; returns the shown one.

        Sessions deleted or damaged since are skipped with a warning.
        """
        return reopen(self, load_workspace(self.manager.root))

    # ------------------------------------------------------------------ shutdown

    async def shutdown(self) -> None:
        """Cancel every reply (keeping partial text as incomplete), save the workspace, flush."""
        await self.stop_watching()
        tasks = [live._task for live in self._sessions.values() if live._task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._saver.drain()
        await asyncio.to_thread(self._saver.save_now)
        # A tidy-up, not a write: every reply is already on disk. Closing the store tries again
        # and warns if it still cannot (docs/storage.md, "Reads never write").
        with contextlib.suppress(StorageError):
            await asyncio.to_thread(self.manager.flush)
