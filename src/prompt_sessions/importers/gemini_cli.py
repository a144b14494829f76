"""``gemini-cli``: Gemini CLI's saved chats, checkpoints and recorded sessions.

Gemini CLI keeps per-project files under ``~/.gemini/tmp/<project hash>/``:

- ``checkpoint-<tag>.json``, written by ``/chat save <tag>``: the conversation as the Gemini
  API's list of contents (``role`` user or model, ``parts`` with ``text``, ``thought``,
  ``functionCall`` and ``functionResponse``); some versions wrap it as ``{"history": [...]}``.
  It has no times, so its messages take the file's time and a later import matches them by
  role and text.
- ``checkpoints/*.json``, written before a tool changes files (for ``/restore``): the same
  contents under ``clientHistory``.
- ``chats/session-*.json``, recorded sessions: ``sessionId``, ``startTime`` and ``messages``
  of type user or gemini with times, ``toolCalls`` (arguments and results), ``thoughts``,
  ``tokens`` and ``model``.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ImportFormatError
from ..importing import Skipped
from ..models import Message, Session, Usage
from ..timeutil import now_iso
from .common import (
    content_id,
    dict_of,
    files_under,
    fill_times,
    int_of,
    list_of,
    load_json,
    name_of,
    source,
    str_of,
    text,
    when,
)

PO_NAME = "gemini"
_SAVED = re.compile(rb'(\{\s*"history"\s*:\s*)?\[\s*\{\s*"(role|parts)"\s*:')


class GeminiCliImporter:
    name = "gemini-cli"

    def sniff(self, data: bytes, filename: str | None) -> bool:
        head = data[:1_000_000].lstrip()
        if head[:1] not in (b"[", b"{"):
            return False
        recorded = b'"sessionId"' in head and b'"projectHash"' in head
        checkpoint = b'"clientHistory"' in head and b'"parts"' in head
        # A saved chat starts with its first content's role or parts, bare or under "history";
        # other tools' exports (ChatGPT's parts sit deep in a mapping) do not.
        return recorded or checkpoint or _SAVED.match(head) is not None

    def locate(self, base: Path | None = None) -> list[Path]:
        """Saved chats, checkpoints and recorded sessions of every project under ``tmp/`` of
        Gemini CLI's folder (``~/.gemini``, or ``$GEMINI_CLI_HOME/.gemini``), or under
        ``base``."""
        if base is None:
            base = self.default_folder()[0]
        return sorted(
            {
                *files_under(base, "**/checkpoint-*.json"),
                *files_under(base, "**/checkpoints/*.json"),
                *files_under(base, "**/chats/session-*.json"),
            }
        )

    def default_folder(self) -> tuple[Path, str]:
        """The folder :meth:`locate` reads without ``base``, and the variable that moves it."""
        home = os.environ.get("GEMINI_CLI_HOME")
        return (Path(home) if home else Path.home()) / ".gemini" / "tmp", "GEMINI_CLI_HOME"

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        doc = load_json(data)
        if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
            return [_recorded(doc, filename)]
        contents = doc
        if isinstance(doc, dict):
            contents = doc.get("clientHistory", doc.get("history"))
        if not isinstance(contents, list):
            raise ImportFormatError("expected a saved chat (a list of contents) or a session")
        saved = _saved(contents, filename)
        return [saved] if saved is not None else []


def _saved(contents: list[Any], filename: str | None) -> Session | None:
    """A ``/chat save`` file or a checkpoint: contents without times."""
    at = _file_time(filename)
    history: list[Message] = []
    for content in contents:
        history.extend(_content(dict_of(content), at))
    if not history:
        return None  # an empty saved chat holds no conversation
    path = Path(filename) if filename else None
    tag = path.stem.removeprefix("checkpoint-") if path else None
    first_user = next((m.content for m in history if m.role == "user"), None)
    source_id = f"{path.parent.name}/{path.stem}" if path else content_id(first_user)
    return Session(
        id=str(uuid.uuid4()),
        name=name_of(
            tag if path and path.stem.startswith("checkpoint-") else None,
            first_user,
            fallback="Gemini chat",
        ),
        po_name=PO_NAME,
        created_at=at,
        updated_at=at,
        metadata={"import": {**source(source_id), "timed": False}},
        history=history,
    )


def _content(content: dict[str, Any], at: str) -> list[Message]:
    words: list[str] = []
    thoughts: list[str] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for part in list_of(content.get("parts")):
        part = dict_of(part)
        if isinstance(part.get("text"), str):
            (thoughts if part.get("thought") is True else words).append(text(part["text"]))
        elif call := dict_of(part.get("functionCall")):
            name = text(call.get("name"))
            calls.append(
                {
                    "id": text(call.get("id")) or name,
                    "name": name,
                    "arguments": dict_of(call.get("args")),
                }
            )
        elif response := dict_of(part.get("functionResponse")):
            name = text(response.get("name"))
            results.append(
                {
                    "tool_call_id": text(response.get("id")) or name,
                    "content": _shown(response.get("response")),
                }
            )
    found: list[Message] = []
    if results:
        joined = "\n\n".join(r["content"] for r in results)
        found.append(Message(role="tool", content=joined, created_at=at, tool_results=results))
    said = "\n\n".join(w for w in words if w)
    if content.get("role") == "model" and (said or calls or thoughts):
        message = Message(role="assistant", content=said, created_at=at)
        message.tool_calls = calls or None
        message.metadata = {"thinking": thoughts} if thoughts else None
        found.append(message)
    elif content.get("role") == "user" and said:
        found.append(Message(role="user", content=said, created_at=at))
    return found


def _recorded(doc: dict[str, Any], filename: str | None) -> Session:
    """A recorded session (``chats/session-*.json``)."""
    history: list[Message] = []
    for record in list_of(doc.get("messages")):
        record = dict_of(record)
        at = when(record.get("timestamp")) or ""
        said = _parts_text(record.get("content"))
        if record.get("type") == "user" and said:
            history.append(Message(role="user", content=said, created_at=at))
        elif record.get("type") == "gemini":
            history.extend(_reply(record, said, at))
    session_id = str_of(doc.get("sessionId")) or (Path(filename).stem if filename else None)
    first_user = next((m.content for m in history if m.role == "user"), None)
    stamp = source(session_id or content_id(doc.get("startTime"), first_user))
    start = fill_times(history, when(doc.get("startTime")), stamp)
    return Session(
        id=str(uuid.uuid4()),
        name=name_of(first_user, fallback="Gemini session"),
        po_name=PO_NAME,
        created_at=start,
        updated_at=max(
            [start, when(doc.get("lastUpdated")) or start, *(m.created_at for m in history)]
        ),
        metadata={
            "gemini_cli": {"project_hash": str_of(doc.get("projectHash"))},
            "import": stamp,
        },
        history=history,
    )


def _reply(record: dict[str, Any], said: str, at: str) -> list[Message]:
    calls = [dict_of(c) for c in list_of(record.get("toolCalls"))]
    message = Message(
        role="assistant", content=said, created_at=at, model=str_of(record.get("model"))
    )
    if calls:
        message.tool_calls = [
            {
                "id": text(c.get("id")),
                "name": text(c.get("name")),
                "arguments": dict_of(c.get("args")),
            }
            for c in calls
        ]
    thoughts = [
        " ".join(
            x for x in (text(dict_of(t).get("subject")), text(dict_of(t).get("description"))) if x
        )
        for t in list_of(record.get("thoughts"))
    ]
    if any(thoughts):
        message.metadata = {"thinking": [t for t in thoughts if t]}
    tokens = dict_of(record.get("tokens"))
    if tokens:
        message.usage = Usage(
            input_tokens=int_of(tokens.get("input")),
            output_tokens=int_of(tokens.get("output")),
            cached_tokens=int_of(tokens.get("cached")),
        )
    found = [message]
    results = [
        {"tool_call_id": text(c.get("id")), "content": _result_text(c)}
        for c in calls
        if "result" in c or "resultDisplay" in c
    ]
    if results:
        joined = "\n\n".join(r["content"] for r in results)
        found.append(Message(role="tool", content=joined, created_at=at, tool_results=results))
    return found


def _result_text(call: dict[str, Any]) -> str:
    """A recorded tool call's result: the function response's output, else what was shown."""
    outputs = []
    for part in list_of(call.get("result")):
        response = dict_of(dict_of(dict_of(part).get("functionResponse")).get("response"))
        if response:
            outputs.append(_shown(response))
    return "\n\n".join(outputs) or text(call.get("resultDisplay"))


def _parts_text(content: object) -> str:
    """A message's content: a text (older recordings) or a list of parts (newer ones)."""
    if isinstance(content, str):
        return text(content)
    parts = [dict_of(p) for p in list_of(content)]
    return "\n\n".join(
        t for p in parts if (t := text(p.get("text"))) and p.get("thought") is not True
    )


def _shown(response: object) -> str:
    """A function response as text: its ``output`` (or ``error``) when it has one, else JSON."""
    body = dict_of(response)
    for key in ("output", "error"):
        if isinstance(body.get(key), str):
            return text(body[key])
    return text(json.dumps(response, ensure_ascii=False, default=str))


def _file_time(filename: str | None) -> str:
    """The saved file's time, so its messages keep one time across imports of the same file."""
    if filename:
        try:
            return when(os.stat(filename).st_mtime) or now_iso()
        except OSError:
            pass
    return now_iso()
