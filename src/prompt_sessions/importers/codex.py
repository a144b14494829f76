"""``codex``: Codex CLI's rollout files, ``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``.

One file is one session. Current versions write each line as ``{"timestamp", "type",
"payload"}``: ``session_meta`` (id, working directory, CLI version, git), ``response_item``
(messages, ``function_call`` / ``custom_tool_call`` and their outputs, ``local_shell_call``,
reasoning), ``turn_context`` (the model) and ``event_msg`` (token counts among them). Older
versions wrote the session's ``{"id", "timestamp", "instructions"}`` first and the response
items bare, one per line, with ``record_type`` lines between. Both are read; the folder moves
with ``CODEX_HOME``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..importing import Skipped
from ..models import Message, Role, Session, Usage
from .common import (
    dict_of,
    files_under,
    fill_times,
    int_of,
    json_lines,
    list_of,
    mended_json,
    name_of,
    source,
    str_of,
    text,
    tool_home,
    when,
)

PO_NAME = "codex"
# Context Codex adds to every session as user turns: kept, but as system messages.
_CONTEXT_TAGS = ("<environment_context>", "<user_instructions>", "# AGENTS.md instructions")
_CALLS = {"function_call", "custom_tool_call", "local_shell_call"}
_OUTPUTS = {"function_call_output", "custom_tool_call_output"}


class CodexImporter:
    name = "codex"
    line_based = True

    def sniff(self, data: bytes, filename: str | None) -> bool:
        first = data.lstrip()[:65536].split(b"\n", 1)[0]
        if not first.startswith(b"{"):
            return False
        if b'"session_meta"' in first and b'"payload"' in first:
            return True
        # Older files: a bare session line, named rollout-*.jsonl.
        named = bool(filename) and Path(filename or "").name.startswith("rollout-")
        return named and b'"instructions"' in first and b'"id"' in first

    def locate(self, base: Path | None = None) -> list[Path]:
        """Every ``rollout-*.jsonl`` under ``sessions/`` of ``$CODEX_HOME`` (``~/.codex``), or
        under ``base``."""
        root = base if base is not None else self.default_folder()[0]
        return files_under(root, "**/rollout-*.jsonl")

    def default_folder(self) -> tuple[Path, str]:
        """The folder :meth:`locate` reads without ``base``, and the variable that moves it."""
        return tool_home("CODEX_HOME", ".codex", None) / "sessions", "CODEX_HOME"

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        state = _Reading()
        skipped: list[Skipped] = []
        for number, value in json_lines(data):
            if isinstance(value, Skipped):
                skipped.append(value)
            elif not isinstance(value, dict):
                skipped.append(Skipped(f"line {number}", "not a JSON object"))
            else:
                state.line(value)
        if not state.messages:
            return skipped  # a rollout with no message yet holds no conversation
        fallback = Path(filename).stem if filename else str(uuid.uuid4())
        return [state.session(fallback), *skipped]


class _Reading:
    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.messages: list[Message] = []
        self.model: str | None = None
        self.thinking: list[str] = []  # reasoning summaries, kept with the next reply

    def line(self, line: dict[str, Any]) -> None:
        kind = line.get("type")
        at = when(line.get("timestamp")) or ""
        if "payload" in line and isinstance(kind, str):
            payload = dict_of(line.get("payload"))
            if kind == "session_meta":
                self.meta = payload
            elif kind == "turn_context":
                self.model = str_of(payload.get("model")) or self.model
            elif kind == "event_msg" and payload.get("type") == "token_count":
                self._usage(payload)
            elif kind == "response_item":
                self._item(payload, at)
        elif "record_type" in line:
            return  # older files' state lines
        elif not self.meta and not self.messages and "id" in line and kind is None:
            self.meta = line  # the older session line
        else:
            self._item(line, at)

    def _item(self, item: dict[str, Any], at: str) -> None:
        kind = item.get("type")
        if kind == "message":
            self._message(item, at)
        elif kind in _CALLS:
            call = {
                "id": text(item.get("call_id") or item.get("id")),
                "name": text(item.get("name")) or "shell",
                "arguments": _arguments(item),
            }
            last = self.messages[-1] if self.messages else None
            if last is None or last.role != "assistant":
                last = Message(role="assistant", content="", created_at=at, model=self.model)
                self.messages.append(last)
            last.tool_calls = [*(last.tool_calls or []), call]
        elif kind in _OUTPUTS:
            output = _output(item.get("output"))
            result = {"tool_call_id": text(item.get("call_id")), "content": output}
            self.messages.append(
                Message(role="tool", content=output, created_at=at, tool_results=[result])
            )
        elif kind == "reasoning":
            summary = [text(dict_of(s).get("text")) for s in list_of(item.get("summary"))]
            self.thinking.extend(s for s in summary if s)

    def _message(self, item: dict[str, Any], at: str) -> None:
        parts = [text(dict_of(p).get("text")) for p in list_of(item.get("content"))]
        content = "\n\n".join(p for p in parts if p)
        if not content:
            return
        role: Role = "assistant"
        if item.get("role") == "user":
            role = "system" if content.lstrip().startswith(_CONTEXT_TAGS) else "user"
        elif item.get("role") in ("developer", "system"):
            role = "system"
        message = Message(role=role, content=content, created_at=at)
        if role == "assistant":
            message.model = self.model
            if self.thinking:
                message.metadata = {"thinking": self.thinking}
                self.thinking = []
        self.messages.append(message)

    def _usage(self, payload: dict[str, Any]) -> None:
        last = dict_of(dict_of(payload.get("info")).get("last_token_usage"))
        target = next((m for m in reversed(self.messages) if m.role == "assistant"), None)
        if last and target is not None and target.usage is None:
            target.usage = Usage(
                input_tokens=int_of(last.get("input_tokens")),
                output_tokens=int_of(last.get("output_tokens")),
                cached_tokens=int_of(last.get("cached_input_tokens")),
            )

    def session(self, fallback_id: str) -> Session:
        meta = self.meta
        session_id = str_of(meta.get("id")) or fallback_id
        stamp = source(session_id)
        start = fill_times(self.messages, when(meta.get("timestamp")), stamp)
        git = dict_of(meta.get("git"))
        details = {
            "session_id": session_id,
            "cli_version": str_of(meta.get("cli_version")),
            "originator": str_of(meta.get("originator")),
            "git_branch": str_of(git.get("branch")),
            "git_commit": str_of(git.get("commit_hash")),
        }
        metadata: dict[str, Any] = {
            "codex": {k: v for k, v in details.items() if v},
            "import": stamp,
        }
        if cwd := str_of(meta.get("cwd")):
            metadata["cwd"] = cwd
        first_user = next((m.content for m in self.messages if m.role == "user"), None)
        return Session(
            id=str(uuid.uuid4()),
            name=name_of(first_user, fallback="Codex session"),
            po_name=PO_NAME,
            created_at=start,
            updated_at=max([start, *(m.created_at for m in self.messages)]),
            metadata=metadata,
            history=self.messages,
        )


def _arguments(item: dict[str, Any]) -> Any:
    """A call's arguments as JSON data: Codex writes them as a JSON text (function calls), a
    plain text (custom tools) or an action object (shell calls)."""
    if isinstance(item.get("action"), dict):
        return item["action"]
    raw = item.get("arguments", item.get("input"))
    if isinstance(raw, str):
        try:
            decoded = json.loads(mended_json(raw))
        except ValueError:
            return {"input": text(raw)}
        return decoded if isinstance(decoded, dict) else {"input": decoded}
    return dict_of(raw)


def _output(value: object) -> str:
    """A call's output as text: a text, or an object whose ``content`` / ``output`` is."""
    if isinstance(value, str):
        return text(value)
    body = dict_of(value)
    return text(body.get("content") or body.get("output"))
