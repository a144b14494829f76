"""The reply lease: one turn (a user message and its reply) at a time per session.

A turn is two appends with a reply in between. Two processes sending to one session at once
would interleave their messages and each reply to the other's, so whoever sends holds the
session's lease from before it appends the user's message until the reply is stored. Other
processes' sends to that session wait their turn; sends to other sessions never wait.

The lease is a ``filelock`` (``StoreLock``) on ``leases/<session id>.lock`` in the environment
folder, never on a data file, and the same for every backend (DESIGN section 4, "Many processes,
one store"): the kernel releases it when its holder dies, and a wait is bounded. The lock file
holds its last holder's pid, so a wait that gives up can name it. Lease files stay (empty but
for that mark): removing a lock file while another process waits on it would let two hold it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import LockTimeout, PromptSessionsError, ReadOnlyStore, UsageError
from .ids import validate_id

if TYPE_CHECKING:
    from .storage.locking import StoreLock

LEASE_DIR = "leases"
DEFAULT_WAIT = 300.0  # seconds: long enough for a few slow replies ahead, never forever
MAX_WAIT = 86400.0  # seconds: the longest wait send accepts (a day)
ASYNC_POLL = 0.05  # seconds between an event loop's tries


class SessionReplying(PromptSessionsError):
    """Another process is replying in the session and did not finish within the wait."""

    title = "Session busy"

    def __init__(self, name: str, wait: float, holder: str | None = None) -> None:
        by = f" ({holder})" if holder else ""
        waited = f"waited {wait:g} s; " if wait > 0 else ""
        super().__init__(
            f"session '{name}' is replying to another message{by}; "
            f"{waited}nothing was sent, try again later"
        )
        self.name = name
        self.wait = wait
        self.holder = holder


def lease_path(root: Path, session_id: str) -> Path:
    """The lease file of ``session_id`` (a UUID, validated) in the environment folder ``root``."""
    return root / LEASE_DIR / f"{validate_id(session_id)}.lock"


def first_session_path(root: Path, po_name: str) -> Path:
    """The lease file held while PO ``po_name``'s first session is made, so that programs
    sending at once to a PO without a session agree on one (``current_session.current``)."""
    digest = hashlib.sha256(po_name.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return root / LEASE_DIR / f"po-{digest}.lock"


class ReplyLease:
    """The lease of one session. Take it with :meth:`acquire`, give it back with :meth:`release`.

    Args:
        root: the environment folder (``SessionManager.root``).
        session_id: the session's id (a UUID; InvalidSessionId otherwise).
        name: the session's name, for the error.
    """

    def __init__(self, root: Path, session_id: str, name: str, *, path: Path | None = None) -> None:
        self.path = path or lease_path(root, session_id)
        self.name = name
        self._lock: StoreLock | None = None
        self._made_dir = False  # this lease created the leases folder

    @property
    def held(self) -> bool:
        return self._lock is not None and self._lock.held

    def acquire(self, wait: float = DEFAULT_WAIT) -> None:
        """Take the lease, waiting at most ``wait`` seconds (0: do not wait).

        Raises:
            SessionReplying: another process held it all that time (named by pid when known).
            StorageError: the lease folder or file cannot be created or locked.
            UsageError: ``wait`` is not a number of seconds from 0 to ``MAX_WAIT``.
        """
        if not 0 <= wait <= MAX_WAIT:  # NaN too: a wait is bounded (DESIGN section 4)
            raise UsageError(f"a wait is 0 to {MAX_WAIT:g} seconds, not {wait}")
        # Imported here: the CLI loads this module for send's --wait default on every command.
        from .storage import files
        from .storage.locking import StoreLock

        self._made_dir = not self.path.parent.is_dir()
        files.ensure_dir(self.path.parent)
        lock = StoreLock(self.path, timeout=wait)
        try:
            lock.acquire()
        except LockTimeout as exc:
            lock.close()
            raise SessionReplying(self.name, wait, exc.holder) from None
        self._lock = lock

    async def acquire_async(self, wait: float = DEFAULT_WAIT) -> None:
        """:meth:`acquire` for an event loop: tries without blocking every ``ASYNC_POLL``
        seconds until ``wait`` has passed, so the loop keeps running meanwhile (and the lease
        is taken and given back on the loop's thread). Raises as :meth:`acquire` does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            try:
                self.acquire(0)
                return
            except SessionReplying as exc:
                if loop.time() >= deadline:
                    raise SessionReplying(self.name, wait, exc.holder) from None
            await asyncio.sleep(ASYNC_POLL)

    def release(self, *, forget: bool = False) -> None:
        """Give the lease back (nothing if it is not held). ``forget``: the store refused the
        turn as read-only, so remove the lease file (and the folder, if this lease made it and
        it is empty): a store that refuses writes is left as it was (DESIGN section 4)."""
        lock, self._lock = self._lock, None
        if lock is None or not lock.held:
            return
        if forget:
            with suppress(OSError):
                os.unlink(self.path)
            if self._made_dir:
                with suppress(OSError):
                    os.rmdir(self.path.parent)
        else:
            lock.mark_done()  # the next holder sees a finished turn, not a dead process
        lock.release()
        lock.close()


@contextmanager
def reply_lease(
    root: Path,
    session_id: str,
    name: str,
    *,
    wait: float = DEFAULT_WAIT,
    path: Path | None = None,
) -> Iterator[ReplyLease]:
    """Hold the session's lease (or the one at ``path``) for the block (see
    :class:`ReplyLease.acquire` for errors)."""
    lease = ReplyLease(root, session_id, name, path=path)
    lease.acquire(wait)
    with _holding(lease):
        yield lease


@asynccontextmanager
async def reply_lease_async(
    root: Path, session_id: str, name: str, *, wait: float = DEFAULT_WAIT
) -> AsyncIterator[ReplyLease]:
    """:func:`reply_lease` for an event loop (:meth:`ReplyLease.acquire_async`)."""
    lease = ReplyLease(root, session_id, name)
    await lease.acquire_async(wait)
    with _holding(lease):
        yield lease


@contextmanager
def _holding(lease: ReplyLease) -> Iterator[ReplyLease]:
    """Give a taken lease back when the block ends; a block the store refused as read-only
    leaves no lease file behind (``release(forget=True)``)."""
    try:
        yield lease
    except ReadOnlyStore:
        lease.release(forget=True)
        raise
    finally:
        lease.release()
