"""The built-in importers: ``json`` (our own session files and exports, one or many per file)
here, and the other tools' formats of ``prompt_sessions.importers`` (DESIGN section 16)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import msgspec

from ..errors import ImportFormatError
from ..hookspecs import hookimpl
from ..models import Session, validation_message

if TYPE_CHECKING:
    from ..importing import Skipped
    from ..protocols import Importer


class JsonImporter:
    name = "json"

    def sniff(self, data: bytes, filename: str | None) -> bool:
        """JSON naming a ``po_name``: every session has one (an empty history is left out of
        the file), and other tools' chat exports do not use that key."""
        head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        return head.startswith((b"{", b"[")) and b'"po_name"' in data[:1_000_000]

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        # Loaded here, not with the plugin: commands that import nothing never pay for it.
        from ..importers.common import mended_json
        from ..importing import Skipped, text_bytes

        try:
            doc = msgspec.json.decode(mended_json(text_bytes(data)))
        except msgspec.DecodeError as exc:
            raise ImportFormatError(f"not valid JSON: {exc}") from exc
        if isinstance(doc, dict) and isinstance(doc.get("sessions"), list):
            items = doc["sessions"]
        elif isinstance(doc, list):
            items = doc
        else:
            items = [doc]
        if not items:
            raise ImportFormatError("the file holds no sessions")
        if len(items) == 1:
            return [_session(items[0], 0)]
        sessions: list[Session | Skipped] = []
        for i, item in enumerate(items):
            try:
                sessions.append(_session(item, i))
            except ImportFormatError as exc:
                # One bad entry is skipped with its reason; the others are still imported.
                sessions.append(Skipped(f"session {i}", str(exc)))
        return sessions


# Fields with a default that hand-edited or other tools' files write as null: null means absent.
_DEFAULTED = ("metadata", "history", "archived", "pinned", "format_version")


def _session(item: object, i: int) -> Session:
    if not isinstance(item, dict):
        raise ImportFormatError(f"item {i} is not a session object")
    item = {k: v for k, v in item.items() if not (v is None and k in _DEFAULTED)}
    history = item.get("history")
    if isinstance(history, list):
        item["history"] = _timed(history, item.get("created_at"))
    try:
        return msgspec.convert(item, Session)
    except msgspec.ValidationError as exc:
        raise ImportFormatError(validation_message(exc)) from exc


@hookimpl
def register_importers(register: Callable[[Importer], None]) -> None:
    from ..importers.claude_code import ClaudeCodeImporter
    from ..importers.codex import CodexImporter
    from ..importers.gemini_cli import GeminiCliImporter
    from ..importers.llm_logs import LlmImporter
    from ..importers.markdown import MarkdownImporter
    from ..importers.open_webui import OpenWebUiImporter
    from ..importers.prompt_objects import PromptObjectsImporter

    register(JsonImporter())
    register(ClaudeCodeImporter())
    register(CodexImporter())
    register(LlmImporter())
    register(PromptObjectsImporter())
    register(OpenWebUiImporter())
    register(GeminiCliImporter())
    register(MarkdownImporter())


def _timed(history: list[object], start: object) -> list[object]:
    """Messages whose time is null or missing take the time of the one before (the session's
    start for the first), so one message without a time does not sink the session."""
    previous = start
    timed: list[object] = []
    for message in history:
        if isinstance(message, dict):
            if message.get("created_at") is None and isinstance(previous, str):
                message = {**message, "created_at": previous}
            previous = message.get("created_at", previous)
        timed.append(message)
    return timed
