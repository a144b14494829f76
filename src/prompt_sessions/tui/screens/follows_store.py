"""Lists that follow the store: an open screen of sessions reads them again when another
process changes the store (DESIGN section 8: its changes show up within about a second).

The main screen calls :meth:`FollowsStore.store_changed` on every such screen open over it when
the runtime reports ``SessionsChanged``; the screen reads the store in a thread (a large store
never blocks the screen) and shows what it read on the screen's loop, keeping what the person
set up (filter, query, the row under the cursor, the scroll: ``RowList.keep_rows``).
"""

from __future__ import annotations

from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Generic, TypeVar

from textual.worker import get_current_worker

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App
    from textual.worker import Worker

Read = TypeVar("Read")


class FollowsStore(Generic[Read]):
    """Mixed into a screen: ``read_store`` (in a thread) reads what the screen lists, and
    ``show_read`` (on the screen's loop) shows it. One reading at a time: a newer one makes an
    older one's result be dropped, so rows never go back to an older state of the store."""

    if TYPE_CHECKING:

        @property
        def app(self) -> App[object]: ...

        @property
        def is_attached(self) -> bool: ...

        def run_worker(
            self, work: Callable[[], None], *, thread: bool, group: str, exclusive: bool
        ) -> Worker[None]: ...

        # What the screen mixing this in defines:
        def read_store(self) -> Read:
            """What the screen lists, as read from the store now; runs in a thread."""

        def show_read(self, read: Read) -> None:
            """Show ``read`` (``read_store``'s result); on the screen's loop, while attached."""

    def store_changed(self) -> None:
        """The store changed (another process, or the runtime's sync): read it again, off the
        screen's loop."""
        # The app is looked up here, on the loop: from the thread it is found through the
        # screen's parents, which a screen closed meanwhile no longer has.
        app = self.app
        self.run_worker(
            partial(self._read_again, app), thread=True, group="follows-store", exclusive=True
        )

    def drop_readings_under_way(self) -> None:
        """The screen has just read the store itself, on its loop (its own change): a reading
        still under way may have read it before that change, so its result is dropped."""
        # the mixin is a Screen, which is the node its workers belong to
        self.app.workers.cancel_group(self, "follows-store")  # type: ignore[arg-type]

    def _read_again(self, app: App[object]) -> None:
        worker = get_current_worker()
        read = self.read_store()
        if worker.is_cancelled:
            return  # the screen was taken down, or a newer reading started, meanwhile
        with suppress(RuntimeError):  # the app ended meanwhile: nothing to show it on
            app.call_from_thread(self._take_read, read, worker)

    def _take_read(self, read: Read, worker: Worker[None]) -> None:
        # checked on the loop, where a newer reading is started (and this one cancelled): an
        # older reading coming back after it is dropped
        if self.is_attached and not worker.is_cancelled:
            self.show_read(read)
