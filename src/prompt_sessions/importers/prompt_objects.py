"""``prompt-objects``: the sessions of the original Ruby Prompt Objects (``sessions.db``).

Each Ruby environment keeps a SQLite ``sessions.db``: ``sessions`` (PO, name, source, created and
updated times, JSON metadata, and from schema version 4 ``parent_session_id``,
``parent_message_id``, ``parent_po`` and ``thread_type``) and ``messages`` (role, content,
``from_po``, JSON ``tool_calls`` and ``tool_results``, and where later versions add them
``usage`` and ``model``). Every session keeps its PO, thread type and place under its parent
(``parent_id`` and the index of the message that started it); databases of the earlier schema
versions are read too. The environments live in ``$PROMPT_OBJECTS_HOME`` (``~/.prompt_objects``)
under ``environments/<name>/sessions.db``. This is the data migration from the Ruby project.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from ..errors import ImportFormatError
from ..importing import Skipped
from ..models import Message, Role, Session, Usage
from .common import (
    decode_json,
    dict_of,
    files_under,
    fill_times,
    int_of,
    name_of,
    source,
    str_of,
    text,
    tool_home,
    when,
)
from .sqlite_source import SQLITE_HEADER, columns, open_sqlite, require_columns, sqlite_head

_ROLES: set[str] = {"user", "assistant", "system", "tool"}
_THREADS = {"root", "fork", "delegation", "continuation"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class PromptObjectsImporter:
    name = "prompt-objects"
    binary = True

    def sniff(self, data: bytes, filename: str | None) -> bool:
        head = sqlite_head(data, filename) if data.startswith(SQLITE_HEADER) else b""
        return data.startswith(SQLITE_HEADER) and all(
            word in head for word in (b"po_name", b"from_po", b"tool_results")
        )

    def locate(self, base: Path | None = None) -> list[Path]:
        """``sessions.db`` of every environment under ``base`` (or ``$PROMPT_OBJECTS_HOME``,
        else ``~/.prompt_objects``)."""
        root = base if base is not None else self.default_folder()[0]
        return files_under(root, "environments/*/sessions.db") or files_under(root, "sessions.db")

    def default_folder(self) -> tuple[Path, str]:
        """The folder :meth:`locate` reads without ``base``, and the variable that moves it."""
        return tool_home("PROMPT_OBJECTS_HOME", ".prompt_objects", None), "PROMPT_OBJECTS_HOME"

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        conn = open_sqlite(data, filename)
        try:
            require_columns(conn, _NEEDED, "a sessions.db")
            return list(_sessions(conn))
        finally:
            conn.close()


# The columns of the first schema version, which every later one keeps.
_NEEDED = {
    "sessions": {"id", "po_name", "created_at", "updated_at"},
    "messages": {"id", "session_id", "role", "content", "from_po", "tool_calls", "tool_results"}
    | {"created_at"},
}


def _sessions(conn: sqlite3.Connection) -> Iterable[Session | Skipped]:
    try:
        rows = list(conn.execute("SELECT * FROM sessions ORDER BY created_at, rowid"))
    except sqlite3.Error as exc:
        raise ImportFormatError(f"cannot read the sessions ({exc})") from exc
    have = columns(conn, "sessions")
    ids: dict[str, list[int]] = {}  # session id -> its message row ids, for parent positions
    # Parents first, so each child finds its parent's copy.
    for row in _parents_first(rows, have):
        where = f"session {row['id']}"
        try:
            session, message_ids = _session(conn, row, have, ids)
        except (sqlite3.Error, ValueError, TypeError) as exc:
            yield Skipped(where, str(exc))
            continue
        ids[str(row["id"])] = message_ids
        yield session


def _parents_first(rows: list[sqlite3.Row], have: set[str]) -> list[sqlite3.Row]:
    if "parent_session_id" not in have:
        return rows
    by_id = {r["id"]: r for r in rows}
    ordered: list[sqlite3.Row] = []
    placed: set[object] = set()

    def place(row: sqlite3.Row, path: set[object]) -> None:
        if row["id"] in placed or row["id"] in path:
            return  # placed already, or a loop of parents: left where it is
        parent = by_id.get(row["parent_session_id"])
        if parent is not None:
            place(parent, path | {row["id"]})
        placed.add(row["id"])
        ordered.append(row)

    for row in rows:
        place(row, set())
    return ordered


def _session(
    conn: sqlite3.Connection, row: sqlite3.Row, have: set[str], ids: dict[str, list[int]]
) -> tuple[Session, list[int]]:
    session_id = str(row["id"])
    history: list[Message] = []
    message_ids: list[int] = []
    for m in conn.execute("SELECT * FROM messages WHERE session_id = ? ORDER BY id", (row["id"],)):
        message = _message(m)
        if message is not None:
            history.append(message)
            message_ids.append(m["id"])
    stamp = source(session_id)
    start = fill_times(history, when(row["created_at"]), stamp)
    details: dict[str, object] = {
        key: row[key]
        for key in ("source", "source_client", "parent_po")
        if key in have and str_of(row[key])
    }
    if extra := dict_of(decode_json(row["metadata"])) if "metadata" in have else {}:
        details["metadata"] = extra
    parent = str_of(row["parent_session_id"]) if "parent_session_id" in have else None
    thread = row["thread_type"] if "thread_type" in have else None
    session = Session(
        id=session_id if _is_uuid(session_id) else _uuid_for(session_id),
        name=name_of(
            row["name"] if "name" in have else None,
            next((m.content for m in history if m.role == "user"), None),
            fallback="Untitled session",
        ),
        po_name=str_of(row["po_name"]) or "imported",
        created_at=start,
        updated_at=max([start, when(row["updated_at"]) or start, *(m.created_at for m in history)]),
        metadata={"prompt_objects": details, "import": stamp},
        history=history,
        thread_type=thread if thread in _THREADS and thread != "root" else None,
    )
    if parent is not None:
        session.parent_id = parent if _is_uuid(parent) else _uuid_for(parent)
        position = row["parent_message_id"] if "parent_message_id" in have else None
        if position in ids.get(parent, []):
            session.parent_message_index = ids[parent].index(position)
    return session, message_ids


def _message(row: sqlite3.Row) -> Message | None:
    keys = row.keys()
    role = row["role"]
    if role not in _ROLES:
        return None
    calls = decode_json(row["tool_calls"])
    results = decode_json(row["tool_results"])
    message = Message(
        role=cast(Role, role),  # one of _ROLES
        content=text(row["content"]),
        created_at=when(row["created_at"]) or "",
        from_po=str_of(row["from_po"]),
        tool_calls=calls if isinstance(calls, list) and calls else None,
        tool_results=results if isinstance(results, list) and results else None,
    )
    usage = dict_of(decode_json(row["usage"])) if "usage" in keys else {}
    if usage:
        message.usage = Usage(
            input_tokens=int_of(usage.get("input_tokens", usage.get("prompt_tokens"))),
            output_tokens=int_of(usage.get("output_tokens", usage.get("completion_tokens"))),
            cached_tokens=int_of(usage.get("cached_tokens")),
        )
    if "model" in keys:
        message.model = str_of(row["model"])
    return message


def _is_uuid(value: str) -> bool:
    return _UUID.fullmatch(value) is not None


def _uuid_for(value: str) -> str:
    """A stable id for a session id that is not a UUID, so children still find their parent."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"prompt-objects:{value}"))
