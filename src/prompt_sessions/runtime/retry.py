"""Exponential backoff with jitter for transient responder errors."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .settings import RuntimeSettings


@dataclass
class RetryPolicy:
    attempts: int = 3
    base_ms: float = 500.0
    max_ms: float = 30_000.0
    jitter: float = 0.5
    random: Callable[[], float] = field(default=random.random, repr=False)

    @classmethod
    def from_settings(cls, settings: RuntimeSettings) -> RetryPolicy:
        return cls(
            attempts=settings.retry_attempts,
            base_ms=settings.retry_base_ms,
            max_ms=settings.retry_max_ms,
            jitter=settings.retry_jitter,
        )

    def should_retry(self, attempt: int) -> bool:
        """Whether retry number ``attempt`` (1 for the first retry) is allowed."""
        return attempt <= self.attempts

    def ceiling(self, attempt: int) -> float:
        """The wait before retry ``attempt`` without jitter, in seconds: base * 2**(n-1), capped."""
        return min(self.max_ms, self.base_ms * 2 ** (attempt - 1)) / 1000

    def delay(self, attempt: int) -> float:
        """The wait before retry ``attempt`` in seconds; jitter spreads many sessions' retries."""
        return self.ceiling(attempt) * (1 - self.jitter * self.random())
