"""The built-in ``sqlite`` storage backend: select it with ``[storage] backend = "sqlite"``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..hookspecs import hookimpl


def _factory(root: Path, config: dict[str, Any]) -> Any:
    # Imported here so that stores using the JSON backend never pay for sqlite3.
    from ..storage.sqlite_backend import SqliteBackend

    timeout = float(config.get("lock_timeout", 10.0))
    return SqliteBackend(root, lock_timeout=timeout)


@hookimpl
def register_storage_backends(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("sqlite", _factory)
