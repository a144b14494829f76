"""``markdown``: the Markdown export read back (``export --format markdown``, DESIGN 14).

The exporter writes a heading with the session's name, a list of its fields (PO, id, times,
message count, source, parent, tags), then one section per message: a ``---`` rule, a
``## speaker`` heading, the time in italics (and ``*(incomplete)*``), the text, and each tool
call (name, id and arguments as a JSON block) and tool result (a block quote). This reads that
shape back: roles, speakers (``from_po``), texts, times, tool calls and results, and the
session's fields. A section starts only where a ``---`` rule, a speaker heading and a time
line follow each other; the exporter marks the lines of a text that would read as such a start
or as a tool heading, and the closing line it adds to a block a text left open, and
:func:`~prompt_sessions.default_plugins.markdown_text.decode` undoes exactly those marks, so a
text comes back exactly. What the export leaves out (usage, models, metadata) is not recovered.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from ..default_plugins.markdown_text import decode
from ..errors import ImportFormatError
from ..importing import Skipped
from ..models import Message, Role, Session
from ..timeutil import TIMESTAMP_PATTERN
from .common import content_id, mended_json, source, text

_TIME = TIMESTAMP_PATTERN.removeprefix("^").removesuffix("$")
_SECTION = re.compile(
    rf"^---\n\n## (?P<speaker>[^\n]*)\n\n\*(?P<at>{_TIME})\*(?P<incomplete> \*\(incomplete\)\*)?\n",
    re.MULTILINE,
)
_FIELD = re.compile(r"^- \*\*(?P<key>[^*]+):\*\* (?P<value>.*)$")
_CALL = re.compile(r"^\*\*Tool call\*\* `(?P<name>[^`]*)`(?: \(`(?P<id>[^`]*)`\))?:$")
_RESULT = re.compile(r"^\*\*Tool result\*\*(?: for `(?P<id>[^`]*)`)?:$")
_PARENT = re.compile(r"^`(?P<id>[^`]+)` at message (?P<at>[0-9]+|None)$")
_ROLES: dict[str, Role] = {"User": "user", "System": "system", "Tool": "tool"}


class MarkdownImporter:
    name = "markdown"

    def sniff(self, data: bytes, filename: str | None) -> bool:
        head = data[:65536]
        return head.startswith(b"# ") and b"\n- **PO:** " in head and b"\n- **Session:** `" in head

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        try:
            doc = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        if doc.split("\n", 1)[0].endswith("\r"):
            # Saved with CRLF line ends: the export writes LF only, so a CR before every line
            # break was added (a message's own CR stays, with the LF it had).
            doc = doc.replace("\r\n", "\n")
        if not doc.startswith("# "):
            raise ImportFormatError("expected a Markdown export: it starts with '# <name>'")
        sections = list(_SECTION.finditer(doc))
        head_end = sections[0].start() if sections else len(doc)
        fields = _fields(doc[:head_end])
        po_name = fields.get("PO")
        if not po_name:
            raise ImportFormatError("the export names no PO ('- **PO:** ...')")
        history = [
            _message(
                match, _body(doc[match.end() : nxt.start() if nxt else len(doc)], nxt), po_name
            )
            for match, nxt in zip(sections, [*sections[1:], None][: len(sections)], strict=True)
        ]
        first = history[0].created_at if history else None
        original = fields.get("Session", "").strip("`") or content_id(
            po_name, fields.get("Created") or first, history[0].content if history else None
        )
        session = Session(
            id=str(uuid.uuid4()),
            name=doc.split("\n", 1)[0][2:].strip() or "Imported session",
            po_name=po_name,
            created_at=fields.get("Created") or first or "",
            updated_at=fields.get("Updated") or fields.get("Created") or first or "",
            metadata={"import": source(original)},
            history=history,
        )
        if tags := fields.get("Tags"):
            session.tags = [t.strip() for t in tags.split(",") if t.strip()]
        for label, thread in (("Delegated from", "delegation"), ("Forked from", "fork")):
            parent = _PARENT.match(fields.get(label, ""))
            if parent:
                session.thread_type = thread  # type: ignore[assignment]
                session.metadata["import"]["parent_source_id"] = parent["id"]
                if parent["at"].isdigit():
                    session.parent_message_index = int(parent["at"])
        return [session]


def _fields(head: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in head.split("\n")[1:]:
        if match := _FIELD.match(line):
            found.setdefault(match["key"], match["value"])
    return found


def _body(section: str, nxt: re.Match[str] | None) -> str:
    """A section's text and tool blocks without the blank lines the export puts around them:
    one after the time line, one before the next section's rule (the end of the file is one
    line break). A text's own trailing line breaks stay."""
    section = section.removeprefix("\n")
    end = "\n\n" if nxt else "\n"
    if section.endswith(end) or not section:
        return section.removesuffix(end)
    return section.rstrip("\n")  # edited by hand: the blank lines are not the export's


def _message(match: re.Match[str], body: str, po_name: str) -> Message:
    speaker = match["speaker"]
    role = _ROLES.get(speaker, "assistant")
    speaker = speaker.removesuffix(" (PO)")  # the exporter's mark on a PO named like a role
    lines = body.split("\n")
    content_lines, calls, results, quoted = _split_tools(lines)
    content = decode("\n".join(content_lines))
    if not content and results and quoted and role == "tool":
        # The export leaves out a tool message's text when it only repeats its results.
        content = "\n\n".join(str(r.get("content", "")) for r in results)
    message = Message(role=role, content=text(content), created_at=match["at"])
    if role == "assistant" and speaker != po_name:
        message.from_po = speaker
    if match["incomplete"]:
        message.incomplete = True
    message.tool_calls = calls or None
    message.tool_results = results or None
    return message


def _split_tools(lines: list[str]) -> tuple[list[str], list[Any], list[Any], bool]:
    """The message's text lines, the tool calls and results written after them, and whether
    every result was a block quote: the tool part starts at the first tool heading from which
    every line to the end reads as tool blocks."""
    for start, line in enumerate(lines):
        if not line.startswith("**Tool "):
            continue
        parsed = _tools(lines[start:])
        if parsed is not None and (start == 0 or lines[start - 1] == ""):
            return lines[: max(start - 1, 0)], *parsed
    return lines, [], [], True


def _tools(lines: list[str]) -> tuple[list[Any], list[Any], bool] | None:
    calls: list[Any] = []
    results: list[Any] = []
    quoted = True
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 >= len(lines) or lines[i + 1] != "":
            return None
        if (call := _CALL.match(line)) or line == "**Tool call:**":
            block = _fenced(lines, i + 2)
            if block is None:
                return None
            value, i = block
            if call:
                entry: dict[str, Any] = {"name": call["name"]}
                if call["id"]:
                    entry["id"] = call["id"]
                entry["arguments"] = value
                calls.append(entry)
            else:
                calls.append(value)
        elif result := _RESULT.match(line):
            said, i = _quoted(lines, i + 2)
            entry = {"content": said}
            if result["id"]:
                entry = {"tool_call_id": result["id"], "content": said}
            results.append(entry)
        elif line == "**Tool result:**":
            block = _fenced(lines, i + 2)
            if block is None:
                return None
            value, i = block
            results.append(value)
            quoted = False
        else:
            return None
        while i < len(lines) and lines[i] == "":
            i += 1
    return calls, results, quoted


def _fenced(lines: list[str], i: int) -> tuple[Any, int] | None:
    """A ```json block starting at line ``i``: its value and the line after its closing fence."""
    if i >= len(lines) or not re.fullmatch(r"`{3,}json", lines[i]):
        return None
    fence = lines[i][: -len("json")]
    try:
        end = lines.index(fence, i + 1)
    except ValueError:
        return None
    try:
        return json.loads(mended_json("\n".join(lines[i + 1 : end]))), end + 1
    except ValueError:
        return None


def _quoted(lines: list[str], i: int) -> tuple[str, int]:
    taken: list[str] = []
    while i < len(lines) and (lines[i] == ">" or lines[i].startswith("> ")):
        taken.append(lines[i][2:])
        i += 1
    return "\n".join(taken), i
