"""One write's hold of a JSON store: ``with store._writing(): ...`` (DESIGN section 4, "Many
processes, one store").

A class rather than a generator-based context manager: an append enters one per message, and a
generator's context manager costs more than the rest of the append's own Python (DESIGN section
10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType

    from .json_store_base import JsonStoreBase


class WriteHold:
    """One write's hold of a JSON store (``with store._writing(): ...``): this thread's mutex,
    the store lock (re-entrant), the journal open; on a clean exit the folder's time pinned
    back and a fold scheduled.

    Raises (on entry):
        ReadOnlyStore: a newer program wrote the catalog, or the folder cannot be written.
        LockTimeout: another process held the lock all the while.
        StorageError: the folders cannot be made or the lock file opened.
    """

    __slots__ = ("_store", "_in_place", "_outer")

    def __init__(self, store: JsonStoreBase, in_place: bool) -> None:
        self._store = store
        self._in_place = in_place
        self._outer = False

    def __enter__(self) -> None:
        store = self._store
        store._mutex.acquire()
        try:
            store._check_writable()
            store._lock_folders()
        except BaseException:
            store._mutex.release()
            raise
        self._outer = store._write_depth == 0
        store._write_depth += 1
        try:
            if store.lock.take_crashed() is not None:
                store._after_crash()
            if self._outer:
                store._begin_write(self._in_place)
        except BaseException:
            self._leave()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store = self._store
        try:
            if exc_type is None and self._outer and store._folder_ok:
                store._pin_folder()
        except BaseException:
            self._leave()
            raise
        self._leave(schedule=exc_type is None)

    def _leave(self, *, schedule: bool = False) -> None:
        store = self._store
        try:
            store._write_depth -= 1
            if self._outer:
                store._close_journal()
            store.lock.release()
            if schedule and not store._folding:
                store._dirty = True
                store._schedule_fold()
        finally:
            store._mutex.release()
