"""Keeping one message's Markdown inside its own section of a Markdown export.

A message is Markdown and is exported as such, so what it opens must be closed before the next
message starts. By CommonMark, only two kinds of block run on past a blank line and a thematic
break: a fenced code block without its closing fence, and the HTML blocks that end at a marker
(``<!--`` ... ``-->``, ``<pre>`` ... ``</pre>``, ``<?`` ... ``?>``, ``<!X`` ... ``>``,
``<![CDATA[`` ... ``]]>``). Blocks inside a list item or a block quote end with their container.
Which block is open is decided by a CommonMark parser (markdown-it-py), not by a pattern: a fence
with an info string never closes one, a tab-indented fence is indented code, a closing fence may
carry only spaces after it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# Only text with one of these at a line start can leave a block open; the rest skips the parser.
_MAY_LEAK = re.compile(r"(?:^|(?<=\r)) {0,3}(?:`{3,}|~{3,}|<)", re.MULTILINE)
_LINE_END = re.compile(r"\r\n?|\n")
# CommonMark's HTML block starts that end at a marker (types 1 to 5), with their end markers.
_HTML_ENDS: list[tuple[re.Pattern[str], str | None]] = [
    (re.compile(r" {0,3}<(script|pre|style|textarea)(?:[ \t>]|$)", re.IGNORECASE), None),
    (re.compile(r" {0,3}<!--"), "-->"),
    (re.compile(r" {0,3}<\?"), "?>"),
    (re.compile(r" {0,3}<![A-Za-z]"), ">"),
    (re.compile(r" {0,3}<!\[CDATA\["), "]]>"),
]


@cache
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def close_open_blocks(text: str) -> str:
    """``text`` with a fenced code block or HTML block left open at its end closed.

    :param text: one message's Markdown.
    :returns: the text unchanged when nothing is left open (the usual case), else the text
        followed by a line that closes the open block: the opening fence's character repeated
        as often as in the opening fence (CommonMark: at least as long), or the HTML block's end
        marker.
    """
    if not _MAY_LEAK.search(text):
        return text
    top = [t for t in _parser().parse(text) if t.level == 0 and t.map is not None]
    if not top:
        return text
    last = top[-1]
    # Lines as the parser counts them: CommonMark ends a line at CR, LF or CRLF.
    lines = _LINE_END.split(text)
    start, end = last.map
    if end < len(lines) and any(line.strip() for line in lines[end:]):
        return text  # the block ended before the text did
    closer = None
    if last.type == "fence":
        closer = _fence_closer(last.markup, lines[start + 1 : end])
    elif last.type == "html_block":
        closer = _html_closer(lines[start], "\n".join(lines[start:end]))
    if closer is None:
        return text
    return text + ("" if text.endswith("\n") else "\n") + closer


def _fence_closer(markup: str, body: list[str]) -> str | None:
    """None when the fence's last line closes it; else the line that does."""
    closing = re.compile(rf" {{0,3}}{re.escape(markup[0])}{{{len(markup)},}}[ \t]*")
    lines = [line for line in body if line.strip()]
    if lines and closing.fullmatch(lines[-1]):
        return None
    return markup


def _html_closer(first_line: str, block: str) -> str | None:
    for start, end in _HTML_ENDS:
        found = start.match(first_line)
        if found is None:
            continue
        if end is None:
            end = f"</{found.group(1).lower()}>"
        rest = block[found.end() :]
        return None if end.lower() in rest.lower() else end
    return None  # the other HTML blocks end at a blank line, which the export puts after it
