"""Where the PostgreSQL store is: ``[storage.postgres]`` in config.toml and the environment.

Rules (DESIGN section 13):

- ``dsn``: a libpq connection string or ``postgresql://`` URI. ``PROMPT_SESSIONS_PG_DSN``
  overrides it. Without either, libpq's own defaults and variables (``PGHOST``, ``PGUSER``,
  ``PGDATABASE``...) decide, as for ``psql``.
- Passwords never live in config.toml: a ``password`` key, or a password inside the ``dsn`` there,
  is refused with one line saying where passwords belong (``~/.pgpass``, ``PGPASSWORD`` or the
  environment's dsn).
- ``schema`` (default ``prompt_sessions``) and ``connect_timeout`` in seconds (default 10): no
  connection attempt waits longer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from prompt_sessions.errors import StorageError

from .schema import checked_schema

ENV_DSN = "PROMPT_SESSIONS_PG_DSN"
DEFAULT_SCHEMA = "prompt_sessions"
DEFAULT_CONNECT_TIMEOUT = 10.0
KNOWN_KEYS = {"dsn", "schema", "connect_timeout", "pool_size"}
PASSWORD_HOME = "~/.pgpass, PGPASSWORD or PROMPT_SESSIONS_PG_DSN"


class ConfigRefused(StorageError):
    title = "Bad configuration"


@dataclass(frozen=True)
class PostgresSettings:
    """The resolved settings: a dsn without secrets from config.toml, a schema, a timeout."""

    dsn: str
    schema: str = DEFAULT_SCHEMA
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    pool_size: int = 4

    @classmethod
    def from_table(cls, table: object) -> PostgresSettings:
        """Build from the ``[storage.postgres]`` table as written; raises ConfigRefused on a bad
        or secret value."""
        if not isinstance(table, dict):
            raise ConfigRefused("[storage.postgres] must be a table")
        unknown = sorted(set(table) - KNOWN_KEYS)
        if "password" in unknown:
            raise ConfigRefused(
                f"a password does not belong in config.toml; put it in {PASSWORD_HOME}"
            )
        if unknown:
            raise ConfigRefused(
                f"[storage.postgres] has unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(KNOWN_KEYS))}"
            )
        dsn = table.get("dsn", "")
        if not isinstance(dsn, str):
            raise ConfigRefused("[storage.postgres] dsn must be a string")
        if dsn and _has_password(dsn):
            raise ConfigRefused(
                f"the dsn in config.toml holds a password; put it in {PASSWORD_HOME} instead"
            )
        dsn = os.environ.get(ENV_DSN) or dsn
        timeout = table.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigRefused("[storage.postgres] connect_timeout must be a positive number")
        pool_size = table.get("pool_size", 4)
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ConfigRefused("[storage.postgres] pool_size must be a positive integer")
        return cls(
            dsn=dsn,
            schema=checked_schema(table.get("schema", DEFAULT_SCHEMA)),
            connect_timeout=float(timeout),
            pool_size=pool_size,
        )

    def conninfo(self) -> str:
        """The dsn with the connect timeout applied (libpq counts whole seconds, at least 2)."""
        from psycopg.conninfo import make_conninfo

        seconds = max(2, int(round(self.connect_timeout)))
        return make_conninfo(self.dsn, connect_timeout=seconds, application_name="prompt-sessions")

    def where(self) -> str:
        """The server as people name it, without any secret: ``host:port/dbname``."""
        from psycopg.conninfo import conninfo_to_dict

        try:
            parts = conninfo_to_dict(self.dsn)
        except Exception:
            return "PostgreSQL"
        host = str(parts.get("host") or os.environ.get("PGHOST") or "localhost")
        port = str(parts.get("port") or os.environ.get("PGPORT") or "5432")
        db = str(parts.get("dbname") or os.environ.get("PGDATABASE") or "")
        return f"PostgreSQL at {host}:{port}/{db}".rstrip("/")


def _has_password(dsn: str) -> bool:
    from psycopg.conninfo import conninfo_to_dict

    try:
        return bool(conninfo_to_dict(dsn).get("password"))
    except Exception as exc:  # psycopg.ProgrammingError for a malformed string
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigRefused(f"[storage.postgres] dsn cannot be read: {reason}") from exc
