"""The PostgreSQL schema, versioned and upgraded step by step (DESIGN section 13).

Every object lives in one PostgreSQL schema of its own (``prompt_sessions`` unless configured),
so the store shares a database with anything else. ``meta.schema_version`` records how many
steps ran; an upgrade takes a transaction-scoped advisory lock, so two programs starting at once
apply each step exactly once. A version newer than :data:`SCHEMA_VERSION` opens read-only.

Message bodies and the session fields are ``json``, not ``jsonb``: ``json`` keeps the exact text,
so every string round-trips, U+0000 included, which ``jsonb`` refuses. Ids and times sort
with the ``C`` collation: they are ASCII, and byte order is both right and fast.

Triggers announce every change to ``sessions``, ``current`` and ``trash`` on the channel
``<schema>_changes`` (:func:`channel`); an append changes its session's summary row, so it is
announced too. PostgreSQL delivers a notification only when its transaction commits, and the
writer pays no extra round trip for it.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import Any

from prompt_sessions.errors import StorageError

from . import search

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_CHANNEL_SUFFIX = "_changes"
MAX_SCHEMA = 63 - len(_CHANNEL_SUFFIX)  # 55: the channel name must fit too

# Each step takes the schema from version i to i + 1. A step is SQL ("{s}" is the quoted schema
# name) and functions ``f(conn, s)`` run in order, for what only Python can compute (the folding
# of texts for search, which must be the core's own).
Part = str | Callable[[Any, str], None]
STEPS: tuple[tuple[Part, ...], ...] = (
    (
        """
    CREATE TABLE {s}.meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE {s}.sessions (
        id text COLLATE "C" PRIMARY KEY,
        po_name text NOT NULL,
        created_at text COLLATE "C" NOT NULL,
        updated_at text COLLATE "C" NOT NULL,
        head json NOT NULL,
        summary json NOT NULL
    );
    CREATE INDEX sessions_by_update ON {s}.sessions (updated_at DESC, created_at DESC);
    CREATE TABLE {s}.messages (
        session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
        idx integer NOT NULL,
        body json NOT NULL,
        PRIMARY KEY (session_id, idx)
    );
    CREATE TABLE {s}.current (
        po_name text PRIMARY KEY,
        session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE
    );
    CREATE FUNCTION {s}.announce() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_changes', TG_TABLE_NAME);
        RETURN NULL;
    END $$;
    CREATE TRIGGER sessions_changed AFTER INSERT OR UPDATE OR DELETE ON {s}.sessions
        FOR EACH STATEMENT EXECUTE FUNCTION {s}.announce();
    CREATE TRIGGER current_changed AFTER INSERT OR UPDATE OR DELETE ON {s}.current
        FOR EACH STATEMENT EXECUTE FUNCTION {s}.announce();
    """,
    ),
    # 2: search. Every text's folded words (``search_text.index_text``) and their count, so the
    # server selects candidates and computes BM25; pg_trgm's GIN index, where the server has the
    # extension, lets the word patterns use an index instead of a scan.
    (
        """
    ALTER TABLE {s}.messages ADD COLUMN folded text, ADD COLUMN words integer;
    ALTER TABLE {s}.sessions ADD COLUMN folded_name text, ADD COLUMN name_words integer,
        ADD COLUMN po_key text, ADD COLUMN tag_keys text;
    """,
        search.backfill,
        """
    ALTER TABLE {s}.messages ALTER COLUMN folded SET NOT NULL, ALTER COLUMN words SET NOT NULL;
    -- list sorts in Python; without an index on updated_at, and with room left in each page,
    -- the summary update of an append is a HOT update that touches no index.
    DROP INDEX IF EXISTS {s}.sessions_by_update;
    ALTER TABLE {s}.sessions SET (fillfactor = 85);
    ALTER TABLE {s}.sessions ALTER COLUMN folded_name SET NOT NULL,
        ALTER COLUMN name_words SET NOT NULL, ALTER COLUMN po_key SET NOT NULL,
        ALTER COLUMN tag_keys SET NOT NULL;
    DO $$
    DECLARE
        home text;
    BEGIN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN OTHERS THEN
            BEGIN  -- no right to create in the default schema: in ours, then
                CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA {s};
            EXCEPTION WHEN OTHERS THEN
                NULL;  -- not installed or not allowed: searches scan instead
            END;
        END;
        SELECT n.nspname INTO home FROM pg_extension e
            JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
        IF home IS NOT NULL THEN
            EXECUTE format('CREATE INDEX messages_words ON {s}.messages '
                'USING gin (folded %I.gin_trgm_ops)', home);
            EXECUTE format('CREATE INDEX sessions_words ON {s}.sessions '
                'USING gin (folded_name %I.gin_trgm_ops)', home);
        END IF;
    END $$;
    """,
    ),
    # 3: the trash (DESIGN section 14). A deleted session's rows move here whole, search
    # columns included, so a restore moves them back unchanged; deleting from ``trash`` takes
    # its messages with it. Announced like the live tables, so other TUIs see a restore.
    (
        """
    CREATE TABLE {s}.trash (
        id text COLLATE "C" PRIMARY KEY,
        deleted_at text COLLATE "C" NOT NULL,
        po_name text NOT NULL,
        created_at text COLLATE "C" NOT NULL,
        updated_at text COLLATE "C" NOT NULL,
        head json NOT NULL,
        summary json NOT NULL,
        folded_name text NOT NULL,
        name_words integer NOT NULL,
        po_key text NOT NULL,
        tag_keys text NOT NULL
    );
    CREATE TABLE {s}.trash_messages (
        session_id text COLLATE "C" NOT NULL REFERENCES {s}.trash (id) ON DELETE CASCADE,
        idx integer NOT NULL,
        body json NOT NULL,
        folded text NOT NULL,
        words integer NOT NULL,
        PRIMARY KEY (session_id, idx)
    );
    CREATE TRIGGER trash_changed AFTER INSERT OR UPDATE OR DELETE ON {s}.trash
        FOR EACH STATEMENT EXECUTE FUNCTION {s}.announce();
    """,
    ),
)
SCHEMA_VERSION = len(STEPS)


def checked_schema(name: object) -> str:
    """The schema name if PostgreSQL can carry it; StorageError (one line) otherwise.

    Only plain lowercase SQL identifiers are accepted, so the name can be quoted into SQL
    without any escaping; at most :data:`MAX_SCHEMA` characters, so the change channel
    ``<schema>_changes`` fits PostgreSQL's 63-byte names (``pg_notify`` refuses longer ones);
    never a system schema (``pg_*``, ``information_schema``), which is not ours to write.
    """
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise StorageError(
            f"[storage.postgres] schema must be a lowercase SQL name (letters, digits, _), "
            f"not {name!r}"
        )
    if len(name) > MAX_SCHEMA:
        raise StorageError(
            f"[storage.postgres] schema {name[:20]}... is {len(name)} characters long; "
            f"at most {MAX_SCHEMA} fit PostgreSQL's names"
        )
    if name.startswith("pg_") or name == "information_schema":
        raise StorageError(
            f"[storage.postgres] schema {name} is a PostgreSQL system schema; choose another name"
        )
    return name


def lock_key(schema: str) -> int:
    """The advisory-lock key that serialises upgrades of one schema (a signed 32-bit value)."""
    return zlib.crc32(f"prompt_sessions:{schema}".encode()) - 2**31


def channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel that carries the schema's changes."""
    return f"{schema}{_CHANNEL_SUFFIX}"
