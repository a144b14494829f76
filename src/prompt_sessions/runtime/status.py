"""The state of one open session, as a frontend shows it."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What an open session is doing. The value is the word a frontend may show."""

    IDLE = "idle"
    QUEUED = "queued"  # a reply waits for a free generation slot
    STREAMING = "streaming"
    RETRYING = "retrying"  # a transient failure; waiting before the next attempt
    WAITING = "waiting"  # the last reply asked the user for input
    ERROR = "error"
    UNLOADED = "unloaded"  # history dropped from memory; reloads when selected

    @property
    def busy(self) -> bool:
        """A reply is queued, streaming or about to be retried."""
        return self in (Status.QUEUED, Status.STREAMING, Status.RETRYING)


def status_label(status: Status, retry_attempt: int = 0) -> str:
    """One word or two for a sidebar: ``retrying (2)`` carries its attempt number."""
    if status is Status.RETRYING and retry_attempt:
        return f"retrying ({retry_attempt})"
    return status.value
