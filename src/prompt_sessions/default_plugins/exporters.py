"""Built-in exporters: ``json`` (full fidelity, re-importable) and ``markdown``."""

from __future__ import annotations

import re

from ..hookspecs import hookimpl
from ..models import Message, Session
from .markdown_blocks import close_open_blocks


class JsonExporter:
    name = "json"
    extension = "json"
    media_type = "application/json"

    def export(self, session: Session) -> str:
        import msgspec

        from ..storage.session_codec import encode_session

        return msgspec.json.format(encode_session(session).decode("utf-8"), indent=2) + "\n"


def one_line(text: str) -> str:
    """A field shown inside one Markdown line (a heading, a list item): line breaks and other
    control characters become spaces, so the field cannot start a block of its own."""
    return _BREAKS.sub(" ", text)


_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class MarkdownExporter:
    name = "markdown"
    extension = "md"
    media_type = "text/markdown"

    def export(self, session: Session) -> str:
        lines = [f"# {one_line(session.name)}", ""]
        lines.append(f"- **PO:** {one_line(session.po_name)}")
        lines.append(f"- **Session:** `{session.id}`")
        lines.append(f"- **Created:** {session.created_at}")
        lines.append(f"- **Updated:** {session.updated_at}")
        lines.append(f"- **Messages:** {len(session.history)}")
        if session.source:
            lines.append(f"- **Source:** {one_line(session.source)}")
        if session.parent_id:
            lines.append(
                f"- **Forked from:** `{session.parent_id}` at message {session.parent_message_index}"
            )
        if session.tags:
            lines.append(f"- **Tags:** {one_line(', '.join(session.tags))}")
        lines.append("")
        for message in session.history:
            lines.append("---")
            lines.append("")
            lines.append(f"## {one_line(self.speaker(session, message))}")
            lines.append("")
            lines.append(
                f"*{message.created_at}*" + (" *(incomplete)*" if message.incomplete else "")
            )
            lines.append("")
            lines.append(close_open_blocks(message.content))
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
