"""Live sync: LISTEN on the store's channel and tell the runtime when anything committed.

Every write transaction of :class:`~prompt_sessions_postgres.backend.PostgresBackend` sends a
NOTIFY, which PostgreSQL delivers to listeners when (and only if) the transaction commits. The
listener gathers a burst of notifications for ``debounce_ms`` and then calls the runtime's
``on_change()``, the same call the file watcher makes for the JSON store, so an open TUI on
another machine shows new sessions, renames and messages within a second.

A dropped connection is retried every :data:`RETRY_DELAY` seconds; after reconnecting the
listener calls ``on_change()`` once, since changes may have been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .backend import PostgresBackend

log = logging.getLogger(__name__)
RETRY_DELAY = 1.0


class ChangeListener:
    """Start with :meth:`start` inside a running event loop; stop with ``await stop()``."""

    def __init__(
        self,
        backend: PostgresBackend,
        on_change: Callable[[], Awaitable[None]],
        debounce_ms: int = 100,
    ) -> None:
        self.backend = backend
        self.on_change = on_change
        self.debounce = max(debounce_ms, 20) / 1000
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="prompt-sessions pg listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        import psycopg

        missed = False
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.backend.settings.conninfo(), autocommit=True
                )
            except psycopg.Error as exc:
                # Said once per outage, in one line, not once a second while the server is away.
                (log.debug if missed else log.warning)(
                    "listening for changes failed: %s", _first_line(exc)
                )
                missed = True
                await asyncio.sleep(RETRY_DELAY)
                continue
            try:
                async with conn:
                    await conn.execute(f'LISTEN "{self.backend.channel}"')
                    self.connected.set()
                    if missed:
                        log.info("listening for changes again")
                        missed = False
                        await self._notify()
                    await self._listen(conn)
            except psycopg.Error as exc:
                log.warning("the change feed dropped: %s", _first_line(exc))
                self.connected.clear()
                missed = True
                await asyncio.sleep(RETRY_DELAY)

    async def _listen(self, conn: object) -> None:
        generator = conn.notifies()  # type: ignore[attr-defined]
        pending: asyncio.Future[object] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(generator))
                await pending  # the first notification of a burst
                # A burst of commits becomes one refresh: keep reading until it goes quiet.
                while True:
                    pending = asyncio.ensure_future(anext(generator))
                    done, _ = await asyncio.wait({pending}, timeout=self.debounce)
                    if not done:
                        break  # quiet; the outstanding read starts the next burst
                    pending.result()
                    pending = None
                await self._notify()
        finally:
            if pending is not None and not pending.done():
                pending.cancel()

    async def _notify(self) -> None:
        try:
            await self.on_change()
        except Exception:
            log.exception("syncing with the store failed")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()
