"""``llm``: the conversations simonw's llm keeps in its ``logs.db`` (SQLite).

One session per row of ``conversations``; each row of ``responses`` in it becomes the prompt as a
user message (after a system message when the system prompt changes, and a tool message for the
tool results sent with the prompt) and the reply as an assistant message carrying the model,
token usage (DESIGN section 11), duration and tool calls. Databases written before llm recorded
tokens (``input_tokens``) or tools (``tool_calls``) are read too. The file is
``$LLM_USER_PATH/logs.db``, else in llm's folder under the home directory.
"""

from __future__ import annotations

import sqlite3
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ImportFormatError
from ..importing import Skipped
from ..models import Message, Session, Usage
from .common import (
    decode_json,
    dict_of,
    fill_times,
    int_of,
    name_of,
    source,
    str_of,
    text,
    when,
)
from .sqlite_source import SQLITE_HEADER, columns, open_sqlite, require_columns, sqlite_head

PO_NAME = "llm"


class LlmImporter:
    name = "llm"
    binary = True  # a SQLite file: no JSON nesting check

    def sniff(self, data: bytes, filename: str | None) -> bool:
        head = sqlite_head(data, filename) if data.startswith(SQLITE_HEADER) else b""
        return (
            data.startswith(SQLITE_HEADER)
            and b"conversations" in head
            and b"responses" in head
            and b"datetime_utc" in head
        )

    def locate(self, base: Path | None = None) -> list[Path]:
        """``logs.db`` in ``base``, else in ``$LLM_USER_PATH``, else in llm's own folder."""
        found = (base if base is not None else self.default_folder()[0]) / "logs.db"
        return [found] if found.is_file() else []

    def default_folder(self) -> tuple[Path, str]:
        """The folder :meth:`locate` reads without ``base``, and the variable that moves it."""
        import os

        named = os.environ.get("LLM_USER_PATH")
        return (Path(named).expanduser() if named else _llm_folder()), "LLM_USER_PATH"

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        conn = open_sqlite(data, filename)
        try:
            require_columns(conn, {"responses": _NEEDED}, "an llm logs.db")
            return list(_conversations(conn))
        finally:
            conn.close()


# The columns of responses in llm's first logs.db schema, which every later one keeps.
_NEEDED = {"id", "model", "prompt", "system", "response"}


def _llm_folder() -> Path:
    """Where click's ``get_app_dir("io.datasette.llm")`` puts llm's files, per platform."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "io.datasette.llm"
    if sys.platform.startswith("win"):
        import os

        return Path(os.environ.get("APPDATA", home)) / "io.datasette.llm"
    import os

    config = os.environ.get("XDG_CONFIG_HOME")
    return (Path(config) if config else home / ".config") / "io.datasette.llm"


def _conversations(conn: sqlite3.Connection) -> Iterable[Session | Skipped]:
    have = columns(conn, "responses")
    names: dict[str, str | None] = {}
    if {"id", "name"} <= columns(conn, "conversations"):
        names = {r["id"]: r["name"] for r in conn.execute("SELECT id, name FROM conversations")}
    order = "datetime_utc, id" if "datetime_utc" in have else "rowid"
    groups: dict[str, list[sqlite3.Row]] = {}
    try:
        for row in conn.execute(f"SELECT * FROM responses ORDER BY {order}"):
            key = row["conversation_id"] if "conversation_id" in have else None
            groups.setdefault(str(key) if key else f"response {row['id']}", []).append(row)
    except sqlite3.Error as exc:
        raise ImportFormatError(f"cannot read the responses ({exc})") from exc
    tools = _tool_rows(conn)
    for key, rows in groups.items():
        try:
            session = _session(key, names.get(key), rows, tools, have)
        except (sqlite3.Error, ValueError, TypeError, IndexError) as exc:
            yield Skipped(f"conversation {key}", str(exc))
            continue
        if session.history:
            yield session
        else:  # every row of it holds something other than text
            yield Skipped(f"conversation {key}", "no prompt or response that can be read")


def _tool_rows(conn: sqlite3.Connection) -> dict[str, dict[str, list[sqlite3.Row]]]:
    """Tool calls and results by response id (none before llm had tools)."""
    found: dict[str, dict[str, list[sqlite3.Row]]] = {"calls": {}, "results": {}}
    for kind, table in (("calls", "tool_calls"), ("results", "tool_results")):
        if not {"id", "response_id"} <= columns(conn, table):
            continue  # none before llm had tools (or not llm's table)
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
            found[kind].setdefault(row["response_id"], []).append(row)
    return found


def _session(
    key: str,
    name: str | None,
    rows: list[sqlite3.Row],
    tools: dict[str, dict[str, list[sqlite3.Row]]],
    have: set[str],
) -> Session:
    history: list[Message] = []
    system = None
    models: list[str] = []
    for row in rows:
        at = when(row["datetime_utc"]) if "datetime_utc" in have else None
        at = at or ""
        if (said := text(row["system"])) and said != system:
            history.append(Message(role="system", content=said, created_at=at))
            system = said
        results = [
            {"tool_call_id": text(r["tool_call_id"]), "content": text(r["output"])}
            for r in tools["results"].get(row["id"], [])
        ]
        if results:
            joined = "\n\n".join(r["content"] for r in results)
            history.append(
                Message(role="tool", content=joined, created_at=at, tool_results=results)
            )
        if prompt := text(row["prompt"]):
            history.append(Message(role="user", content=prompt, created_at=at))
        reply = _reply(row, at, tools["calls"].get(row["id"], []), have)
        if reply is not None:
            history.append(reply)
            if reply.model and reply.model not in models:
                models.append(reply.model)
    stamp = source(key)
    start = fill_times(history, None, stamp)
    first_prompt = next((m.content for m in history if m.role == "user"), None)
    metadata: dict[str, Any] = {"import": stamp}
    if models:
        metadata["llm"] = {"models": models}
    return Session(
        id=str(uuid.uuid4()),
        name=name_of(name, first_prompt, fallback="llm conversation"),
        po_name=PO_NAME,
        created_at=start,
        updated_at=max([start, *(m.created_at for m in history)]),
        metadata=metadata,
        history=history,
    )


def _reply(row: sqlite3.Row, at: str, calls: list[sqlite3.Row], have: set[str]) -> Message | None:
    content = text(row["response"])
    tool_calls = [
        {
            "id": text(c["tool_call_id"]),
            "name": text(c["name"]),
            "arguments": dict_of(decode_json(c["arguments"])),
        }
        for c in calls
    ]
    if not content and not tool_calls:
        return None
    model = (str_of(row["resolved_model"]) if "resolved_model" in have else None) or str_of(
        row["model"]
    )
    message = Message(role="assistant", content=content, created_at=at, model=model)
    if tool_calls:
        message.tool_calls = tool_calls
    if "input_tokens" in have and (row["input_tokens"] or row["output_tokens"]):
        details = dict_of(decode_json(row["token_details"])) if "token_details" in have else {}
        cached = dict_of(details.get("prompt_tokens_details")).get("cached_tokens")
        message.usage = Usage(
            input_tokens=int_of(row["input_tokens"]),
            output_tokens=int_of(row["output_tokens"]),
            cached_tokens=int_of(
                cached if cached is not None else details.get("cache_read_input_tokens")
            ),
        )
    if "duration_ms" in have and isinstance(row["duration_ms"], int | float):
        message.latency_ms = float(row["duration_ms"])
    return message
