"""The ``markdown`` exporter's writing (DESIGN section 14), loaded on the first export.

``exporters`` registers the exporter; this module holds its work, so commands that never export
do not pay for it and its patterns.
"""

from __future__ import annotations

import re

from ..models import Message, Session
from .markdown_blocks import close_open_blocks
from .markdown_text import encode


def one_line(text: str) -> str:
    """A field shown inside one Markdown line (a heading, a list item): line breaks and other
    control characters become spaces, so the field cannot start a block of its own."""
    return _BREAKS.sub(" ", text)


_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def export_markdown(session: Session) -> str:
    """``session`` as the Markdown export writes it (DESIGN section 14): a heading with its
    fields, then one section per message; the ``markdown`` importer reads it back."""
    lines = [f"# {one_line(session.name)}", ""]
    lines.append(f"- **PO:** {one_line(session.po_name)}")
    lines.append(f"- **Session:** `{session.id}`")
    lines.append(f"- **Created:** {session.created_at}")
    lines.append(f"- **Updated:** {session.updated_at}")
    lines.append(f"- **Messages:** {len(session.history)}")
    if session.source:
        lines.append(f"- **Source:** {one_line(session.source)}")
    if session.parent_id:
        label = "Delegated from" if session.thread_type == "delegation" else "Forked from"
        lines.append(
            f"- **{label}:** `{session.parent_id}` at message {session.parent_message_index}"
        )
    if session.tags:
        lines.append(f"- **Tags:** {one_line(', '.join(session.tags))}")
    lines.append("")
    for message in session.history:
        lines.append("---")
        lines.append("")
        lines.append(f"## {one_line(speaker(session, message))}")
        lines.append("")
        lines.append(f"*{message.created_at}*" + (" *(incomplete)*" if message.incomplete else ""))
        lines.append("")
        repeats, quote = _result_form(message)
        if message.content and not repeats:
            lines.append(encode(message.content))
            lines.append("")
        lines.extend(tool_lines(message, quote_results=quote))
    # Every section ends with a blank line, so the text ends with one line break; a
    # message's own trailing line breaks stay (the importer keeps them).
    return "\n".join(lines)


def speaker(session: Session, message: Message) -> str:
    """The heading's speaker: ``User``, ``System``, ``Tool`` or the PO's name. A PO named
    like a role, or ending in `` (PO)``, gets `` (PO)`` added, so the importer cannot take
    its replies for another role's (it takes one `` (PO)`` off)."""
    if message.role == "user":
        return "User"
    if message.role == "assistant":
        name = message.from_po or session.po_name
        return f"{name} (PO)" if name in _ROLE_SPEAKERS or name.endswith(" (PO)") else name
    return message.role.capitalize()


_ROLE_SPEAKERS = {"User", "System", "Tool"}


def tool_lines(message: Message, *, quote_results: bool = True) -> list[str]:
    """Markdown for a message's tool calls (name, id and arguments as JSON) and tool results
    (DESIGN section 11): a result as a block quote when ``quote_results`` and it reads back the
    same, else shown whole as JSON, like calls of another shape."""
    import json

    lines: list[str] = []
    for call in message.tool_calls or []:
        if _plain_call(call):
            lines.append(f"**Tool call** `{call['name']}`" + _call_id(call.get("id")) + ":")
            shown = call.get("arguments", {})
        else:
            lines.append("**Tool call:**")
            shown = call
        lines.append("")
        lines.extend(_fenced(json.dumps(shown, ensure_ascii=False, indent=2), "json"))
        lines.append("")
    for result in message.tool_results or []:
        if quote_results and _plain_result(result):
            lines.append("**Tool result**" + _call_id(result.get("tool_call_id"), "for") + ":")
            lines.append("")
            text = close_open_blocks(str(result["content"]))
            lines.extend(f"> {line}".rstrip() for line in text.splitlines() or [""])
        else:
            lines.append("**Tool result:**")
            lines.append("")
            lines.extend(_fenced(json.dumps(result, ensure_ascii=False, indent=2), "json"))
        lines.append("")
    return lines


# A name or id shown between backticks on a heading line, as the importer reads it back.
_CODE_WORD = re.compile(r"[^`\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _plain_call(call: object) -> bool:
    """A call shown as a heading and its arguments: one that reads back the same (a name and
    arguments, an id or none, nothing else); any other is shown whole as JSON."""
    if not isinstance(call, dict) or not {"name", "arguments"} <= call.keys() <= _CALL_KEYS:
        return False
    return _code_word(call["name"]) and ("id" not in call or _code_word(call["id"]))


def _plain_result(result: object) -> bool:
    """A result shown as a block quote: one that reads back the same (text content, a call id
    or none, nothing else; no line ending in white space, no block left open)."""
    if not isinstance(result, dict) or not {"content"} <= result.keys() <= _RESULT_KEYS:
        return False
    content = result["content"]
    if "tool_call_id" in result and not _code_word(result["tool_call_id"]):
        return False
    return (
        isinstance(content, str)
        and (content.splitlines() or [""]) == content.split("\n")
        and all(line == line.rstrip() for line in content.split("\n"))
        and close_open_blocks(content) == content
    )


_CALL_KEYS = {"name", "id", "arguments"}
_RESULT_KEYS = {"tool_call_id", "content"}


def _code_word(value: object) -> bool:
    return isinstance(value, str) and _CODE_WORD.fullmatch(value) is not None


def _call_id(value: object, word: str = "") -> str:
    if not value:
        return ""
    return f" {word} `{value}`" if word else f" (`{value}`)"


def _fenced(text: str, info: str) -> list[str]:
    # A fence longer than any run of backticks inside, so the text cannot close it.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", text, fence]


def _result_form(message: Message) -> tuple[bool, bool]:
    """Whether a message's text is left out, and whether its results are block quotes.

    A tool message whose text just repeats its results (as the runtime stores it) leaves the
    text out when every result is a block quote: the importer rebuilds it from them. So a tool
    message with an empty text and quoted results of some text shows its results as JSON, which
    the importer does not rebuild a text from.
    """
    results = message.tool_results or []
    quoted = all(_plain_result(r) for r in results)
    if message.role != "tool" or not results or not quoted:
        return False, quoted
    joined = "\n\n".join(r["content"] for r in results)
    if message.content == joined:
        return True, True
    return False, bool(message.content) or joined == ""
