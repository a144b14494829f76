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
            lines.append(
                f"- **Forked from:** `{session.parent_id}` at message {session.parent_message_index}"
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
            lines.append(balance_fences(message.content))
            lines.append("")
        return "\n".join(lines).rstrip("\n") + "\n"

    @staticmethod
    def speaker(session: Session, message: Message) -> str:
        if message.role == "user":
            return "User"
        if message.role == "assistant":
            return message.from_po or session.po_name
        return message.role.capitalize()


@hookimpl
def register_exporters(register):  # type: ignore[no-untyped-def]
    register(JsonExporter())
    register(MarkdownExporter())
