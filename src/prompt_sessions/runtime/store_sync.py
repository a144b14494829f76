"""Bring open sessions in line with the store after another process changed it.

The catalog (``manager.list()``) is cheap to re-read: the JSON backend reads only the new lines
of its journal. A session whose count or last update differs from what this process knows is
read again; messages that extend the known history become ``MessageAdded(external=True)``, and
anything else (a rewrite, or appends interleaved with ours) replaces the history wholesale.

The watcher sees this process's own writes too. Appends through the runtime are noted as they
are stored; deletions made by any code of this process (a picker, a slash command, a plugin)
reach ``OwnChanges`` through the manager's ``session_deleted`` hook, so they are never reported
as another program's.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..errors import PromptSessionsError, SessionNotFound
from ..hookspecs import hookimpl
from ..ids import is_valid_id
from ..models import Session, SessionSummary
from ..storage.base import ChangeWatcher, SupportsChanges, SupportsRecheck
from .events import MessageAdded, SessionChanged, SessionsChanged
from .live_session import LiveSession
from .watcher import StoreWatcher, watch_target

if TYPE_CHECKING:
    from ..manager import SessionManager
    from .coordinator import Coordinator

CatalogKey = tuple[object, ...]


def catalog_key(summary: SessionSummary) -> CatalogKey:
    """What a list of sessions shows; a change in any of it is worth a ``SessionsChanged``."""
    return (
        summary.name,
        summary.po_name,
        summary.message_count,
        summary.updated_at,
        summary.archived,
        summary.pinned,
        tuple(summary.tags or ()),
    )


class StoreSync:
    """Follows the store for one coordinator and applies other processes' changes to it."""

    def __init__(self, coord: Coordinator) -> None:
        self.coord = coord
        self._known: dict[str, CatalogKey] | None = None
        self._running = asyncio.Lock()
        self.summaries: list[SessionSummary] | None = None  # the catalog as last read
        self._deleted_here: set[str] = set()
        self._watcher: ChangeWatcher | None = None
        self._own_changes: str | None = None  # the plugin name of our OwnChanges listener

    def note_own_delete(self, session_id: str) -> None:
        """This process deleted the session: its disappearance is no one else's doing."""
        self._deleted_here.add(session_id)

    def deleted_here(self, session_id: str) -> bool:
        """True when this process deleted the session (``note_own_delete``)."""
        return session_id in self._deleted_here

    async def baseline(self) -> None:
        """Remember the catalog as it is, so the first sync reports only later changes."""
        summaries = await asyncio.to_thread(self.coord.manager.list)
        self._known = {s.id: catalog_key(s) for s in summaries}
        self.summaries = summaries

    async def start_watching(self) -> None:
        """Follow other processes' changes: through the backend's own announcements when it
        declares ``SupportsChanges`` (a server), else by watching the store's folder."""
        if self._watcher is not None and self._watcher.running:
            return
        await self.baseline()
        coord = self.coord
        if self._own_changes is None:  # the watcher sees our own deletions too: mark them
            self._own_changes = coord.ctx.host.register(OwnChanges(self))
        backend = coord.manager.backend
        debounce = coord.settings.watch_debounce_ms
        if isinstance(backend, SupportsChanges):
            self._watcher = backend.change_watcher(coord.refresh, debounce)
        else:
            folder, relevant = watch_target(backend, coord.manager.root)
            self._watcher = StoreWatcher(folder, coord.refresh, debounce, relevant)
        self._watcher.start()

    async def stop_watching(self) -> None:
        """Stop the watcher and forget our deletion listener."""
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        if self._own_changes is not None:
            self.coord.ctx.host.unregister(self._own_changes)
            self._own_changes = None

    @property
    def watching(self) -> bool:
        """Whether a watcher is running."""
        return self._watcher is not None and self._watcher.running

    def note_own_append(self, live: LiveSession) -> None:
        """Our own append changed the catalog; do not report it back as someone else's change."""
        if self._known is None or live.session_id not in self._known:
            return
        name, po_name, _, _, *rest = self._known[live.session_id]
        self._known[live.session_id] = (name, po_name, live.message_count, live.updated_at, *rest)

    def note_own_write(self, summary: SessionSummary) -> None:
        """Our own write that memory does not hold (a reply's provisional copy, checkpoint.py)
        changed the catalog; do not report it back as someone else's change."""
        if self._known is not None and summary.id in self._known:
            self._known[summary.id] = catalog_key(summary)

    async def run(self) -> None:
        async with self._running:
            manager = self.coord.manager
            await self._recheck_changed_files()
            summaries = await asyncio.to_thread(manager.list)
            self.summaries = summaries
            damaged = manager.problems()
            current = {s.id: s for s in summaries}
            keys = {sid: catalog_key(s) for sid, s in current.items()}
            catalog_changed = self._known is not None and keys != self._known
            self._known = keys
            for live in list(self.coord.live_sessions.values()):
                summary = current.get(live.session_id)
                if summary is None:
                    if live.session_id not in damaged and await self._gone(live):
                        self.coord.remove_session(live, deleted=True)
                    continue
                self.rename(live, summary.name)
                if live._provisional == live.message_count == summary.message_count - 1:
                    continue  # all the store has beyond memory is our reply's copy
                if (summary.message_count, summary.updated_at) != (
                    live.message_count,
                    live.updated_at,
                ):
                    await self._reload(live, summary)
            if catalog_changed:
                self.coord.emit(SessionsChanged())

    async def _recheck_changed_files(self) -> None:
        """Session files the watcher saw change may have been edited in place by another
        program, which the catalog does not notice by itself (``SupportsRecheck``)."""
        backend = self.coord.manager.backend
        if not isinstance(self._watcher, StoreWatcher) or not isinstance(backend, SupportsRecheck):
            return
        names = self._watcher.take_changed()
        if names is None:  # any file may have changed unseen: look at every one (a stat each)
            await asyncio.to_thread(backend.recheck, None)
            return
        ids = {sid for n in names if is_valid_id(sid := n.removesuffix(".json"))}
        if ids:
            await asyncio.to_thread(backend.recheck, ids)

    async def _gone(self, live: LiveSession) -> bool:
        try:
            await asyncio.to_thread(self.coord.manager.get, live.session_id)
        except SessionNotFound:
            return True
        except PromptSessionsError:
            return False
        return False

    def rename(self, live: LiveSession, name: str) -> None:
        """Show a new name for an open session (renamed here or elsewhere)."""
        if name == live.name:
            return
        live.name = name
        if live._session is not None:
            live._session.name = name
        if self._known is not None and live.session_id in self._known:
            _, *rest = self._known[live.session_id]
            self._known[live.session_id] = (name, *rest)
        self.coord.emit(SessionChanged(live.session_id, "name"))

    async def _reload(self, live: LiveSession, summary: SessionSummary) -> None:
        coord = self.coord
        async with live._io:
            if live._session is None:
                self._catch_up_unloaded(live, summary)
                return
            try:
                session = await asyncio.to_thread(coord.manager.get, live.session_id)
            except SessionNotFound:
                if live.session_id in coord.live_sessions:
                    coord.remove_session(live, deleted=True)
                return
            except PromptSessionsError as exc:
                coord.warn(f"session '{live.name}' could not be read again: {exc}")
                return
            if live._session is None or live.session_id not in coord.live_sessions:
                return
            self.rename(live, session.name)
            _without_copy(live, session)
            old, new = live._session.history, session.history
            known = len(old)
            if len(new) >= known and new[:known] == old:
                for message in new[known:]:
                    old.append(message)
                    live._note_message(message)
                    coord.emit(MessageAdded(live.session_id, message, len(old) - 1, external=True))
                live.updated_at = session.updated_at
                added = len(new) - known
            else:
                live._adopt(session)
                coord.emit(SessionChanged(live.session_id, "history"))
                added = 0
            if added and coord.shown != live.session_id:
                coord.add_unread(live, added)

    def _catch_up_unloaded(self, live: LiveSession, summary: SessionSummary) -> None:
        added = summary.message_count - live.message_count
        live.message_count = summary.message_count
        live.updated_at = summary.updated_at
        live._preview = summary.preview
        self.coord.emit(SessionChanged(live.session_id, "preview"))
        if added > 0 and self.coord.shown != live.session_id:
            self.coord.add_unread(live, added)


def _without_copy(live: LiveSession, session: Session) -> None:
    """Leave our reply's provisional copy (checkpoint.py) out of a session read from the store,
    as memory never holds it. A copy that is no longer last (another writer appended after it)
    is an ordinary message from now on, and the reply will be appended after it."""
    copy = live._provisional
    if copy is None:
        return
    if len(session.history) == copy + 1:
        del session.history[copy]
    else:
        live._provisional = None


class OwnChanges:
    """Hook implementations (registered by the Coordinator on its plugin host) that tell the
    sync which deletions its own manager made."""

    def __init__(self, sync: StoreSync) -> None:
        self.sync = sync

    @hookimpl
    def session_deleted(self, session_id: str, manager: SessionManager) -> None:
        if manager is self.sync.coord.manager:
            self.sync.note_own_delete(session_id)
