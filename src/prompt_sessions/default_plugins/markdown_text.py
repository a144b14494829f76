"""A message's text as the Markdown export writes it, and back, exactly (DESIGN section 14).

The export shows a message's text as Markdown, so a person reads it rendered. Three kinds of
line in a text could be misread by the ``markdown`` importer; the export changes only those,
and only in ways that do not change how the Markdown renders:

- A line of three or more dashes followed by a blank line, a ``## speaker`` line, a blank line
  and a time line in italics reads as the start of a new message when it is ``---``. Such a
  line gets one more dash (still a rule, or a heading's underline); the importer takes one off
  a line of four or more dashes followed the same way.
- A tool heading line (``**Tool call** `name`:``, ``**Tool result:**`` ...) reads as the start
  of the message's tool calls. Every such line gets one more trailing space; the importer takes
  one off.
- A fenced code block or HTML block left open is closed (:func:`close_open_blocks`), so the next
  message is not swallowed. The closing line the export adds ends in one space (two when the
  text ended with a line break), and a last line of the text's own that closes a block and
  already ends in spaces or tabs gets two more spaces; the importer drops the added line, or
  takes the two spaces off. (An editor that strips trailing spaces undoes these two marks:
  the text then keeps the closing line the export added.)

A text's line breaks are kept as they are, trailing ones included.
"""

from __future__ import annotations

import re

from ..timeutil import TIMESTAMP_PATTERN
from .markdown_blocks import close_open_blocks

_TIME = TIMESTAMP_PATTERN.removeprefix("^").removesuffix("$")
# A line of dashes that starts what reads as a message's header (the export's is ``---``).
_RULE = re.compile(
    rf"^(?P<rule>-{{3,}})(?=\n\n## [^\n]*\n\n\*{_TIME}\*(?: \*\(incomplete\)\*)?(?:\n|\Z))",
    re.MULTILINE,
)
# A line the importer reads as a tool call or tool result heading, with its trailing spaces.
_TOOL_HEADING = re.compile(
    r"^(?P<line>\*\*Tool call\*\* `[^`\n]*`(?: \(`[^`\n]*`\))?:|\*\*Tool result\*\*"
    r"(?: for `[^`\n]*`)?:|\*\*Tool call:\*\*|\*\*Tool result:\*\*)(?P<pad> *)$",
    re.MULTILINE,
)
_TRAILING = re.compile(r"[ \t]*\Z")


def encode(text: str) -> str:
    """``text`` as the Markdown export writes it: the rules of this module's docstring.

    :param text: one message's text, any characters.
    :returns: the text to put in the export; :func:`decode` gives ``text`` back.
    """
    text = _close(text)
    text = _RULE.sub(lambda m: m["rule"] + "-", text)
    return _TOOL_HEADING.sub(lambda m: f"{m['line']}{m['pad']} ", text)


def decode(text: str) -> str:
    """The message text :func:`encode` made ``text`` from.

    :param text: a message's text as read from a Markdown export.
    :returns: the original text; a text :func:`encode` could not have written is returned with
        the same rules undone where they apply.
    """
    text = _TOOL_HEADING.sub(lambda m: m["line"] + m["pad"][1:], text)
    text = _RULE.sub(lambda m: m["rule"][1:] if len(m["rule"]) > 3 else m["rule"], text)
    return _reopen(text)


def _closes(head: str, last: str) -> bool:
    """Whether the line ``last`` closes a block that ``head`` leaves open."""
    if close_open_blocks(head) == head:
        return False
    whole = f"{head}\n{last}"
    return close_open_blocks(whole) == whole


def _split_last(text: str) -> tuple[str, str] | None:
    if "\n" not in text:
        return None
    head, last = text.rsplit("\n", 1)
    return head, last


def _close(text: str) -> str:
    closed = close_open_blocks(text)
    if closed != text:
        return closed + ("  " if text.endswith("\n") else " ")
    parts = _split_last(text)
    if parts and _TRAILING.search(parts[1]).group() and _closes(*parts):  # type: ignore[union-attr]
        return text + "  "
    return text


def _reopen(text: str) -> str:
    parts = _split_last(text)
    if parts is None:
        return text
    head, last = parts
    pad = _TRAILING.search(last).group()  # type: ignore[union-attr]
    if not pad or not _closes(head, last):
        return text
    if pad == " ":
        return head
    if pad == "  ":
        return head + "\n"
    return text[:-2] if pad.endswith("  ") else text
