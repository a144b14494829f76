"""The ``[runtime]`` table of config.toml: concurrency limits, buffer cap, retries, watching."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..config import ConfigError, section

MB = 1024 * 1024


@dataclass(frozen=True)
class RuntimeSettings:
    max_generating: int = 5  # replies streaming at once; the rest are queued
    max_loaded: int = 10  # sessions whose history stays in memory
    buffer_limit_bytes: int = 10 * MB  # reply in progress; the oldest text is dropped past it
    retry_attempts: int = 3  # retries of a transient responder error after the first try
    retry_base_ms: float = 500.0  # first backoff; doubles per attempt
    retry_max_ms: float = 30_000.0
    retry_jitter: float = 0.5  # each wait is scaled by a random factor in [1 - jitter, 1]
    watch_debounce_ms: int = 100  # how long the watcher gathers file changes before syncing

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RuntimeSettings:
        table = section(config, "runtime")
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name not in table:
                continue
            values[spec.name] = _number(spec.name, table[spec.name], spec.type == "int")
        settings = cls(**values)
        settings._check()
        return settings

    def _check(self) -> None:
        at_least_one = ("max_generating", "max_loaded", "buffer_limit_bytes")
        for name in at_least_one:
            if getattr(self, name) < 1:
                raise ConfigError(f"[runtime] {name} must be at least 1, not {getattr(self, name)}")
        for name in ("retry_attempts", "retry_base_ms", "retry_max_ms", "watch_debounce_ms"):
            if getattr(self, name) < 0:
                raise ConfigError(f"[runtime] {name} must not be negative")
        if not 0 <= self.retry_jitter <= 1:
            raise ConfigError(
                f"[runtime] retry_jitter must be between 0 and 1, not {self.retry_jitter}"
            )


def _number(name: str, value: object, integer: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"[runtime] {name} must be a number, not {value!r}")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"[runtime] {name} must be a whole number, not {value}")
        return int(value)
    return float(value)
