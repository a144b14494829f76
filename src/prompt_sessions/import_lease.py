"""The import lease: imports into one store take turns (DESIGN sections 4 and 16).

An import finds the copies made before by reading the store, then writes new ones. Two
imports at once would each miss the other's and copy a conversation twice, so an import
holds ``leases/import.lock`` (a ``reply_lease``: a ``filelock`` the kernel releases when its
holder dies, a bounded wait) while it reads and writes copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from .errors import PromptSessionsError

IMPORT_LEASE = "import.lock"  # in the leases folder
IMPORT_WAIT = 300.0  # seconds an import waits for another one to finish


class ImportBusy(PromptSessionsError):
    """Another import into the same store held the import lease for the whole wait."""

    title = "Import busy"


@contextmanager
def import_lease(root: Path, wait: float = IMPORT_WAIT) -> Iterator[None]:
    """Hold the import lease of the environment folder ``root`` for the block.

    :param wait: seconds to wait for another import to finish (0 to a day).
    :raises ImportBusy: another import held it all that time (named by pid when known).
    :raises StorageError: the lease folder or file cannot be made or locked.
    """
    from .reply_lease import LEASE_DIR, SessionReplying, reply_lease

    path = Path(root) / LEASE_DIR / IMPORT_LEASE
    with ExitStack() as stack:
        try:
            stack.enter_context(reply_lease(root, "", "import", path=path, wait=wait))
        except SessionReplying as exc:
            by = f" ({exc.holder})" if exc.holder else ""
            raise ImportBusy(
                f"another import into this store is running{by}; waited {wait:g} s, "
                "nothing was imported; try again later"
            ) from None
        yield
