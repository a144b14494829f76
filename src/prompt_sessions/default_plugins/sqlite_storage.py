"""The built-in ``sqlite`` storage backend: select it with ``[storage] backend = "sqlite"``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..config_schema import StorageConfig
    from ..protocols import StorageFactory
    from ..storage.sqlite_backend import SqliteBackend


def _factory(root: Path, config: StorageConfig) -> SqliteBackend:
    # Imported here so that stores using the JSON backend never pay for sqlite3.
    from ..storage.sqlite_backend import SqliteBackend

    return SqliteBackend(root, lock_timeout=config.lock_timeout)


@hookimpl
def register_storage_backends(register: Callable[[str, StorageFactory], None]) -> None:
    register("sqlite", _factory)
