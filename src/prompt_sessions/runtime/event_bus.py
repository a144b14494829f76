"""Delivering runtime events to frontends, and warnings to the person.

Events are delivered on the event loop's thread, in subscription order; one broken subscriber is
logged and skipped, never stops a reply or the other subscribers (DESIGN section 8).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .events import RuntimeEvent

log = logging.getLogger("prompt_sessions.runtime.coordinator")

Subscriber = Callable[[RuntimeEvent], None]


class EventBus:
    """Subscribers of one coordinator, and the app's list of warnings to show."""

    def __init__(self, warnings: list[str]) -> None:
        self._subscribers: list[Subscriber] = []
        self._warnings = warnings

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, event: RuntimeEvent) -> None:
        """Deliver ``event`` to every subscriber."""
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # one broken subscriber must not stop a reply or the others
                log.exception("event subscriber failed on %s", type(event).__name__)

    def warn(self, text: str) -> None:
        """Log ``text`` and keep it for the frontend to show (``AppContext.warnings``)."""
        log.warning("%s", text)
        self._warnings.append(text)
