"""prompt-sessions-chatgpt: import the ``conversations.json`` of a ChatGPT data export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import prompt_sessions
from prompt_sessions.errors import ImportFormatError
from prompt_sessions.importers.common import mended_json
from prompt_sessions.importing import Skipped
from prompt_sessions.timeutil import now_iso

from .conversation import to_session
from .values import kind

__all__ = ["ChatGptImporter", "register_importers"]

# Enough of the file to find the first conversation's first message without reading it all.
_SNIFF_BYTES = 1_000_000


class ChatGptImporter:
    name = "chatgpt"  # prompt-sessions import conversations.json --format chatgpt

    def __init__(self, po_name: str = "imported") -> None:
        # The PO the conversations belong to; `import --po NAME` overrides it per import.
        self.po_name = po_name

    def sniff(self, data: bytes, filename: str | None) -> bool:
        head = data[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
        return head[:1] in (b"[", b"{") and b'"mapping"' in head and b'"author"' in head

    def load(
        self, data: bytes, filename: str | None
    ) -> Iterable[prompt_sessions.Session | Skipped]:
        try:
            # A lone surrogate escape reads as U+FFFD, as in every importer (DESIGN section 16).
            doc = json.loads(mended_json(data), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportFormatError(f"not valid JSON: {exc}") from exc
        if isinstance(doc, dict) and "mapping" in doc:
            doc = [doc]  # one conversation on its own, as shared or saved singly
        if not isinstance(doc, list):
            raise ImportFormatError(
                "expected a list of conversations (the conversations.json of a ChatGPT "
                f"export), found {kind(doc)}"
            )
        if not doc:
            raise ImportFormatError("the file holds no conversations")
        imported_at = now_iso()
        found: list[prompt_sessions.Session | Skipped] = []
        for number, conversation in enumerate(doc, start=1):
            try:
                found.append(to_session(conversation, number, self.po_name, imported_at))
            except ImportFormatError as exc:
                # One odd conversation is reported and skipped; the others are still imported.
                found.append(Skipped("", str(exc)))
        return found


def _refuse_constant(name: str) -> float:
    # Python's json accepts NaN and Infinity, which are not JSON and not times.
    raise ImportFormatError(f"not valid JSON: {name} is not a JSON number")


@prompt_sessions.hookimpl
def register_importers(register: Callable[[Any], None]) -> None:
    register(ChatGptImporter())
