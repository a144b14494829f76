"""Notice other processes' changes to the store through the OS (watchfiles), not by polling.

The JSON store changes session files in place (appends) or by rename (rewrites), and the
catalog through ``index.json`` and ``index.journal``, all in ``sessions/``; lock and temp files
are ignored. A SQLite store writes its database file and its ``-wal`` beside it. Until the
folder exists, its nearest existing parent is watched (not recursively) so that the store
appearing is noticed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from ..storage.base import SingleFileStore

log = logging.getLogger(__name__)

STEP_MS = 50  # quiet time that ends a batch of changes
RESTART_DELAY = 0.5  # after the watch itself fails (folder removed, watch limit reached)
# The watch reports in at least this often (ms) even with nothing to say: its first report,
# changes or not, proves it is in place, and a catch-up then covers what changed before.
REPORT_MS = 1000


def relevant(path: str) -> bool:
    """A change to a JSON store's session file or catalog, not to a lock or temp file."""
    name = Path(path).name
    if name.startswith("."):
        return False
    return name.endswith(".json") or name == "index.journal"


def watch_target(backend: object, root: Path) -> tuple[Path, Callable[[str], bool]]:
    """The folder to watch for a backend and which changed paths in it matter."""
    if isinstance(backend, SingleFileStore) and isinstance(backend.db_path, Path):
        db_path = backend.db_path  # one database file (sqlite) and its -wal / -journal
        prefix = db_path.name
        return db_path.parent, lambda path: Path(path).name.startswith(prefix)
    return root / "sessions", relevant


class StoreWatcher:
    def __init__(
        self,
        folder: Path,
        on_change: Callable[[], Awaitable[None]],
        debounce_ms: int = 100,
        relevant: Callable[[str], bool] = relevant,
    ) -> None:
        self.folder = folder
        self.relevant = relevant
        self.on_change = on_change
        self.debounce_ms = max(debounce_ms, STEP_MS)
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        # Names of the relevant files changed since taken; None when any may have changed
        # unseen (before the watch was in place, or while it was down).
        self._changed: set[str] | None = set()

    def take_changed(self) -> set[str] | None:
        """The names of the relevant files changed since the last call (``on_change`` may
        cover several batches), or None when any file may have changed unseen; forgotten."""
        changed, self._changed = self._changed, set()
        return changed

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="prompt-sessions store watcher")

    async def stop(self) -> None:
        if self._task is None or self._stop is None:
            return
        self._stop.set()
        task, self._task = self._task, None
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _target(self) -> Path | None:
        path = self.folder
        while not path.is_dir():
            if path.parent == path:
                return None
            path = path.parent
        return path

    async def _run(self) -> None:
        from watchfiles import awatch  # imported here: the CLI's `list` never pays for it

        assert self._stop is not None
        while not self._stop.is_set():
            target = self._target()
            if target is None:
                return
            waiting_for_store = target != self.folder
            caught_up = waiting_for_store
            try:
                async for changes in awatch(
                    target,
                    stop_event=self._stop,
                    debounce=self.debounce_ms,
                    step=STEP_MS,
                    recursive=False,
                    rust_timeout=REPORT_MS,
                    yield_on_timeout=True,
                ):
                    if not caught_up:
                        # A change made after the caller's last reading but before the watch
                        # was in place would otherwise wait for the next one.
                        caught_up = True
                        self._changed = None
                        await self._notify()
                        continue
                    if not changes:
                        continue
                    if waiting_for_store or not self.folder.is_dir():
                        if self._target() != target:
                            break  # the store appeared (or vanished): watch the new target
                        continue
                    names = {Path(path).name for _, path in changes if self.relevant(path)}
                    if names:
                        if self._changed is not None:
                            self._changed |= names
                        await self._notify()
            except Exception as exc:  # the watch itself failed; try again shortly
                log.warning("watching %s failed: %s", target, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), RESTART_DELAY)
                continue
            if not self._stop.is_set():
                self._changed = None
                await self._notify()  # the store appeared, vanished or was replaced: catch up

    async def _notify(self) -> None:
        try:
            await self.on_change()
        except Exception:
            log.exception("syncing with the store failed")
