"""The ``postgres`` storage backend for prompt-sessions: sessions on a PostgreSQL server.

Select it with ``[storage] backend = "postgres"`` and ``[storage.postgres] dsn = "..."`` in
config.toml (or ``PROMPT_SESSIONS_PG_DSN``); see the package README.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prompt_sessions import hookimpl

if TYPE_CHECKING:
    from prompt_sessions.config_schema import StorageConfig

__version__ = "0.1.0"


def open_backend(root: Path, config: StorageConfig) -> Any:
    """The storage factory: ``config`` is the checked ``[storage]`` table of config.toml, whose
    ``sections["postgres"]`` holds ``[storage.postgres]`` as written.

    Raises StorageError (one line) for a refused configuration; connecting waits for first use.
    """
    from .backend import PostgresBackend
    from .settings import PostgresSettings

    return PostgresBackend(root, PostgresSettings.from_table(config.sections.get("postgres", {})))


@hookimpl
def register_storage_backends(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("postgres", open_backend)
