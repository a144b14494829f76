"""Built-in exporters: ``json`` (full fidelity, re-importable) and ``markdown``."""

from __future__ import annotations

import re

from ..hookspecs import hookimpl
from ..models import Message, Session


class JsonExporter:
    name = "json"
    extension = "json"
    media_type = "application/json"

    def export(self, session: Session) -> str:
        import msgspec

        from ..storage.session_codec import encode_session

        return msgspec.json.format(encode_session(session).decode("utf-8"), indent=2) + "\n"


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})", re.MULTILINE)


def balance_fences(text: str) -> str:
    """Close a code fence left open, so one message cannot swallow the rest of the document."""
    open_fence: str | None = None
    for m in _FENCE.finditer(text):
        marker = m.group(1)
        if open_fence is None:
            open_fence = marker
        elif marker[0] == open_fence[0] and len(marker) >= len(open_fence):
            open_fence = None
    if open_fence is not None:
        text = text.rstrip("\n") + "\n" + open_fence
    return text


class MarkdownExporter:
    name = "markdown"
    extension = "md"
    media_type = "text/markdown"

    def export(self, session: Session) -> str:
        lines = [f"# {session.name}", ""]
        lines.append(f"- **PO:** {session.po_name}")
        lines.append(f"- **Session:** `{session.id}`")
        lines.append(f"- **Created:** {session.created_at}")
        lines.append(f"- **Updated:** {session.updated_at}")
        lines.append(f"- **Messages:** {len(session.history)}")
        if session.source:
            lines.append(f"- **Source:** {session.source}")
        if session.parent_id:
            label = "Delegated from" if session.thread_type == "delegation" else "Forked from"
            lines.append(
                f"- **{label}:** `{session.parent_id}` at message {session.parent_message_index}"
            )
        if session.tags:
            lines.append(f"- **Tags:** {', '.join(session.tags)}")
        lines.append("")
        for message in session.history:
            lines.append("---")
            lines.append("")
            lines.append(f"## {self.speaker(session, message)}")
            lines.append("")
            lines.append(
                f"*{message.created_at}*" + (" *(incomplete)*" if message.incomplete else "")
            )
            lines.append("")
            if message.content and not _only_results(message):
                lines.append(balance_fences(message.content))
                lines.append("")
            lines.extend(tool_lines(message))
        return "\n".join(lines).rstrip("\n") + "\n"

    @staticmethod
    def speaker(session: Session, message: Message) -> str:
        if message.role == "user":
            return "User"
        if message.role == "assistant":
            return message.from_po or session.po_name
        return message.role.capitalize()


def tool_lines(message: Message) -> list[str]:
    """Markdown for a message's tool calls (name, id and arguments as JSON) and tool results
    (DESIGN section 11); entries of another shape are shown as JSON."""
    import json

    lines: list[str] = []
    for call in message.tool_calls or []:
        if isinstance(call, dict) and "name" in call:
            lines.append(f"**Tool call** `{call['name']}`" + _call_id(call.get("id")) + ":")
            shown = call.get("arguments", {})
        else:
            lines.append("**Tool call:**")
            shown = call
        lines.append("")
        lines.extend(_fenced(json.dumps(shown, ensure_ascii=False, indent=2), "json"))
        lines.append("")
    for result in message.tool_results or []:
        if isinstance(result, dict) and "content" in result:
            lines.append("**Tool result**" + _call_id(result.get("tool_call_id"), "for") + ":")
            lines.append("")
            text = balance_fences(str(result["content"]))
            lines.extend(f"> {line}".rstrip() for line in text.splitlines() or [""])
        else:
            lines.append("**Tool result:**")
            lines.append("")
            lines.extend(_fenced(json.dumps(result, ensure_ascii=False, indent=2), "json"))
        lines.append("")
    return lines


def _call_id(value: object, word: str = "") -> str:
    if not value:
        return ""
    return f" {word} `{value}`" if word else f" (`{value}`)"


def _fenced(text: str, info: str) -> list[str]:
    # A fence longer than any run of backticks inside, so the text cannot close it.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", text, fence]


def _only_results(message: Message) -> bool:
    """A tool message whose content just repeats its results (as the runtime stores it)."""
    results = message.tool_results or []
    texts = [r.get("content") for r in results if isinstance(r, dict)]
    return (
        bool(results)
        and len(texts) == len(results)
        and message.content == "\n\n".join(str(t) for t in texts)
    )


@hookimpl
def register_exporters(register):  # type: ignore[no-untyped-def]
    register(JsonExporter())
    register(MarkdownExporter())
