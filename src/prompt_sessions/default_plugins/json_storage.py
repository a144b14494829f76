"""The default ``json`` storage backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..hookspecs import hookimpl


def _factory(root: Path, config: dict[str, Any]) -> Any:
    from ..storage.json_backend import JsonBackend

    timeout = float(config.get("lock_timeout", 10.0))
    return JsonBackend(root, lock_timeout=timeout)


@hookimpl
def register_storage_backends(register):  # type: ignore[no-untyped-def]
    register("json", _factory)
