"""The reply leases of a coordinator's turns: each turn it starts holds its session's reply
lease (``reply_lease``) until the reply ends, so another program's send to that session waits
for it (DESIGN sections 4 and 8)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ..reply_lease import ReplyLease

LEASE_GRACE = 2.0  # seconds a send or resume waits for another program's reply lease


class TurnLeases:
    """The leases held for replies still running, by session id.

    Args:
        root: the environment folder (``reply_lease`` keeps its lock files there).
        enabled: False for a caller that holds the lease itself (``reply.run_reply``): then
            :meth:`take` gives None and nothing is held.
    """

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self._root = root
        self.enabled = enabled
        self._held: dict[str, ReplyLease] = {}

    async def take(self, session_id: str, name: str) -> ReplyLease | None:
        """The session's reply lease, or None when leases are off.

        Raises:
            SessionReplying: another program held it past ``LEASE_GRACE`` seconds. A frontend
                does not wait for another program's reply, only for a process that is just
                dying (the kernel frees its lease once it has died, a moment after the kill).
        """
        if not self.enabled:
            return None
        # A reply that just ended (the session is not busy) may not have given its lease back
        # yet (``end`` runs after the task): the new turn takes it over.
        lease = self._held.pop(session_id, None)
        if lease is not None and lease.held:
            return lease
        lease = ReplyLease(self._root, session_id, name)
        await lease.acquire_async(LEASE_GRACE)
        return lease

    def keep(
        self, session_id: str, lease: ReplyLease | None, task: asyncio.Task[Any] | None
    ) -> None:
        """Hold ``lease`` until the reply just started as ``task`` ends (:meth:`end`); given
        back at once when that task is not running."""
        if lease is None:
            return
        if task is not None and not task.done():
            self._held[session_id] = lease
        else:
            lease.release()

    def end(self, session_id: str) -> None:
        """The session's turn is over: another program's send may go on."""
        lease = self._held.pop(session_id, None)
        if lease is not None:
            lease.release()
