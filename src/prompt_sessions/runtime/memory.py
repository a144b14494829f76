"""How many open sessions hold their history in memory (``max_loaded``, DESIGN section 10).

Idle sessions used least recently are unloaded first; an unloaded session keeps its place, name,
status and view, and is read back from the store when it is shown again.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from ..errors import SessionNotFound
from .events import SessionChanged
from .status import Status

if TYPE_CHECKING:
    from .coordinator import Coordinator
    from .live_session import LiveSession


class SessionMemory:
    """Loads and unloads the open sessions of one coordinator."""

    def __init__(self, coord: Coordinator) -> None:
        self._coord = coord
        self._clock = itertools.count(1)

    def touch(self, live: LiveSession) -> None:
        """Mark ``live`` as used now (the last to be unloaded)."""
        live.last_used = next(self._clock)

    def ensure_loaded(self, live: LiveSession) -> None:
        """Read an unloaded session back from the store and restore its status.

        Raises :class:`SessionNotFound` (after closing it here) when it was deleted meanwhile.
        """
        if live._session is not None:
            return
        coord = self._coord
        try:
            session = coord.manager.get(live.session_id)
        except SessionNotFound:
            if live.session_id in coord.live_sessions:
                coord.remove_session(live, deleted=True)
            raise
        live._adopt(session)
        self.touch(live)
        coord.set_status(live, live._resting)
        coord.emit(SessionChanged(live.session_id, "loaded"))
        self.enforce_limit(keep=live)

    def enforce_limit(self, keep: LiveSession | None = None) -> None:
        """Unload least recently used idle sessions until at most ``max_loaded`` hold history;
        never ``keep``, the shown session, a busy one or one being written."""
        coord = self._coord
        loaded = [live for live in coord.live_sessions.values() if live.loaded]
        excess = len(loaded) - coord.settings.max_loaded
        if excess <= 0:
            return
        candidates = sorted(
            (
                live
                for live in loaded
                if live is not keep
                and live.session_id != coord.shown
                and not live.busy
                and not live._io.locked()
            ),
            key=lambda live: live.last_used,
        )
        for live in candidates[:excess]:
            self.unload(live)

    def unload(self, live: LiveSession) -> None:
        """Drop ``live``'s history and reply buffer from memory."""
        live._session = None
        live._reply.clear()
        self._coord.set_status(live, Status.UNLOADED)
        self._coord.emit(SessionChanged(live.session_id, "loaded"))
