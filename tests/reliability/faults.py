"""Fault injection for the storage modules: fail the Nth file-system call, once or for good.

The storage code reaches the OS through ``os.<call>`` in its own modules, so each module's ``os``
name is swapped for a proxy that counts the calls named in ``INTERCEPTED`` and raises the chosen
``OSError`` on the planned one. Only the store's own calls are affected: pytest, filelock and the
test itself keep the real ``os``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prompt_sessions.storage import (
    catalog,
    files,
    json_backend,
    json_catalog_view,
    json_health,
    json_reading,
    json_replace,
    json_store_base,
    locking,
)

INTERCEPTED = (
    "open",
    "write",
    "pwrite",
    "fsync",
    "replace",
    "rename",
    "unlink",
    "mkdir",
    "ftruncate",
)
MODULES = (
    files,
    json_backend,
    json_store_base,
    json_reading,
    json_catalog_view,
    json_health,
    json_replace,
    catalog,
    locking,
)


class FaultPlan:
    """Which call fails: the ``fail_at``-th intercepted call, and with ``persistent`` every later
    call of the same kind (a full disk stays full). ``fail_at=None`` only records the calls."""

    def __init__(self, fail_at: int | None = None, err: int = 0, persistent: bool = False) -> None:
        self.fail_at = fail_at
        self.err = err
        self.persistent = persistent
        self.calls: list[str] = []
        self.failed_kind: str | None = None
        self.injected: list[str] = []

    def before_call(self, kind: str) -> None:
        self.calls.append(kind)
        hit = self.fail_at is not None and len(self.calls) == self.fail_at
        again = self.persistent and self.failed_kind == kind
        if hit or again:
            self.failed_kind = kind
            self.injected.append(kind)
            raise OSError(self.err, os.strerror(self.err))


class _FaultyOS:
    """Looks like the ``os`` module; intercepted calls consult the plan first."""

    def __init__(self, plan: FaultPlan) -> None:
        self._plan = plan
        for kind in INTERCEPTED:
            setattr(self, kind, self._wrap(kind, getattr(os, kind)))

    def _wrap(self, kind: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self._plan.before_call(kind)
            return real(*args, **kwargs)

        return call

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


@contextmanager
def injected(plan: FaultPlan) -> Iterator[FaultPlan]:
    proxy = _FaultyOS(plan)
    saved = [(module, module.os) for module in MODULES]
    try:
        for module, _ in saved:
            module.os = proxy  # type: ignore[attr-defined]
        yield plan
    finally:
        for module, real in saved:
            module.os = real  # type: ignore[attr-defined]
