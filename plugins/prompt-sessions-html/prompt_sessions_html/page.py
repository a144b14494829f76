"""The whole page: a header describing the session, then one article per message.

Every value taken from the session passes through ``_text`` or ``render_text`` on its way into
the page; the only unescaped strings are the literals written here.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from prompt_sessions import Message, Session

from .markup import render_text
from .style import STYLESHEET

# The page needs nothing from anywhere: forbid every fetch, allow only the inline stylesheet.
# A browser then refuses scripts even if some escaping were ever missed.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_ROLES = ("user", "assistant", "system", "tool")


def render_page(session: Session) -> str:
    title = f"{session.name} · {session.po_name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="prompt-sessions-html">',
        f"<title>{_text(title)}</title>",
        f"<style>\n{STYLESHEET}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_text(session.name)}</h1>",
        _details(session),
        "</header>",
        "<main>",
    ]
    if not session.history:
        parts.append('<p class="empty">No messages yet.</p>')
    for number, message in enumerate(session.history, start=1):
        parts.append(_article(session, message, number))
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _details(session: Session) -> str:
    rows: list[tuple[str, str]] = [
        ("PO", _text(session.po_name)),
        ("Session", f"<code>{_text(session.id)}</code>"),
        ("Created", _time(session.created_at)),
        ("Updated", _time(session.updated_at)),
        ("Messages", str(len(session.history))),
    ]
    if session.source:
        rows.append(("Source", _text(session.source)))
    if session.thread_type:
        rows.append(("Thread", _text(session.thread_type)))
    if session.parent_id:
        at = (
            f" at message {session.parent_message_index}"
            if session.parent_message_index is not None
            else ""
        )
        label = "Delegated from" if session.thread_type == "delegation" else "Forked from"
        rows.append((label, f"<code>{_text(session.parent_id)}</code>{at}"))
    if session.tags:
        rows.append(
            ("Tags", " ".join(f'<span class="tag">{_text(t)}</span>' for t in session.tags))
        )
    if session.archived:
        rows.append(("Archived", "yes"))
    if session.pinned:
        rows.append(("Pinned", "yes"))
    for key in sorted(session.metadata):
        rows.append((f"metadata: {key}", _value(session.metadata[key])))
    body = "\n".join(f"<dt>{_text(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="details">\n{body}\n</dl>'


def _article(session: Session, message: Message, number: int) -> str:
    role = message.role if message.role in _ROLES else "other"
    facts = [f'<span class="speaker">{_text(speaker(session, message))}</span>']
    facts.append(_time(message.created_at))
    if message.model:
        facts.append(f'<span class="model">{_text(message.model)}</span>')
    if message.usage is not None:
        facts.append(
            f'<span class="usage">{message.usage.input_tokens} in · '
            f"{message.usage.output_tokens} out tokens</span>"
        )
    if message.incomplete:
        facts.append('<span class="incomplete">incomplete</span>')
    lines = [
        f'<article class="message {role}" id="m{number}">',
        "<header>" + " ".join(facts) + "</header>",
    ]
    calls, odd_calls = _split(message.tool_calls, "name")
    results, odd_results = _split(message.tool_results, "content")
    repeated = (
        bool(results)
        and not odd_results
        and message.content == "\n\n".join(str(r["content"]) for r in results)
    )  # a tool message whose content only repeats its results (as the runtime stores it)
    if message.content and not repeated or not (calls or results):
        lines.append(f'<div class="content">\n{render_text(message.content)}\n</div>')
    # Tool calls and results are part of the conversation: shown, with name and arguments.
    for call in calls:
        lines.append(
            f'<div class="tool-call"><span class="tool-name">→ {_text(str(call["name"]))}</span>'
            + _call_id(call.get("id"))
            + f"<pre><code>{_text(_json(call.get('arguments', {})))}</code></pre>"
            + _other_fields(call, ("name", "id", "arguments"))
            + "</div>"
        )
    for result in results:
        lines.append(
            '<div class="tool-result"><span class="tool-name">Result</span>'
            + _call_id(result.get("tool_call_id"))
            + f'\n<div class="content">\n{render_text(str(result["content"]))}\n</div>'
            + _other_fields(result, ("tool_call_id", "content"))
            + "</div>"
        )
    # Other structured extras stay folded away: they matter for debugging, not for reading.
    for label, value in (
        ("Tool calls", odd_calls),
        ("Tool results", odd_results),
        ("Metadata", message.metadata),
    ):
        if value:
            lines.append(
                f"<details><summary>{label}</summary>"
                f"<pre><code>{_text(_json(value))}</code></pre></details>"
            )
    lines.append("</article>")
    return "\n".join(lines)


def _split(entries: list[Any] | None, key: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """Entries in DESIGN section 11's shape (dicts with ``key``), and the rest."""
    good = [e for e in entries or [] if isinstance(e, dict) and key in e]
    return good, [e for e in entries or [] if not (isinstance(e, dict) and key in e)]


def _other_fields(entry: dict[str, Any], shown: tuple[str, ...]) -> str:
    """A tool call's or result's fields besides the shown ones (``is_error``, a call's
    ``type`` ...), folded away like other extras, so none is lost."""
    other = {key: value for key, value in entry.items() if key not in shown}
    if not other:
        return ""
    return (
        f"<details><summary>Fields</summary><pre><code>{_text(_json(other))}</code></pre></details>"
    )


def _call_id(value: Any) -> str:
    return f' <code class="call-id">{_text(str(value))}</code>' if value else ""


def speaker(session: Session, message: Message) -> str:
    """Who said it: the user, the PO (or the PO that delegated the answer), System or Tool."""
    if message.role == "user":
        return "User"
    if message.role == "assistant":
        return message.from_po or session.po_name
    return message.role.capitalize()


def _time(stamp: str) -> str:
    # "2025-01-03T14:29:58.123Z" reads as "2025-01-03 14:29:58 UTC"; the exact value stays in
    # the datetime attribute.
    shown = stamp.replace("T", " ", 1).removesuffix("Z").split(".", 1)[0] + " UTC"
    return f'<time datetime="{_text(stamp)}">{_text(shown)}</time>'


def _value(value: Any) -> str:
    if isinstance(value, str):
        return _text(value)
    return f"<code>{_text(_json(value, indent=None))}</code>"


def _json(value: Any, indent: int | None = 2) -> str:
    # default=str: metadata is free-form JSON from files, but a session built in code may hold
    # anything; show it rather than fail the export.
    return json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True, default=str)


def _text(value: str) -> str:
    return escape(value, quote=True)
