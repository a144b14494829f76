"""The default ``json`` storage backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..config_schema import StorageConfig
    from ..protocols import StorageFactory
    from ..storage.json_backend import JsonBackend


def _factory(root: Path, config: StorageConfig) -> JsonBackend:
    from ..storage.json_backend import JsonBackend

    return JsonBackend(root, lock_timeout=config.lock_timeout)


@hookimpl
def register_storage_backends(register: Callable[[str, StorageFactory], None]) -> None:
    register("json", _factory)
