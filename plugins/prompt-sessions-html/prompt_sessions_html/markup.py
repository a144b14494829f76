"""Message text to HTML: fenced code blocks become ``<pre><code>``, the rest escaped paragraphs.

Only fences and `code spans` are recognised, not the rest of Markdown: what a person typed shows
as typed, and no input can produce markup other than paragraphs, line breaks and code. No text
is dropped: only the fence and code span markers are taken as markup, and a fence's info string
that is more than one plain language word is shown above its code block.
"""

from __future__ import annotations

import re
from html import escape

# A fence opens with three or more backticks or tildes, indented at most three spaces
# (CommonMark). A backtick fence's info string may not contain a backtick.
_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}(?=[^`]*$)|~{3,})(?P<info>.*)$")
# Only the first word of the info string names a language, and only plain words go into a
# class attribute, so the attribute stays a harmless CSS class.
_LANGUAGE = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")
# An inline code span: a run of backticks, text, the same run again (kept to one line).
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def render_text(text: str) -> str:
    """The HTML blocks for one message's text, each on its own lines."""
    blocks: list[str] = []
    paragraph: list[str] = []
    code: list[str] | None = None
    fence = ""
    language = ""
    info = ""

    def end_paragraph() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>\n".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if code is not None:
            if _closes(line, fence):
                blocks.append(_code_block(code, language, info))
                code = None
            else:
                code.append(line)
            continue
        opened = _OPEN.match(line)
        if opened:
            end_paragraph()
            fence = opened["fence"]
            info = opened["info"].strip()
            language = _language(info)
            code = []
        elif line.strip():
            paragraph.append(line)
        else:
            end_paragraph()
    # A fence left open runs to the end of the message, as in CommonMark; the block is still
    # closed in the HTML, so one message never swallows the next.
    if code is not None:
        blocks.append(_code_block(code, language, info))
    end_paragraph()
    return "\n".join(blocks)


def _inline(line: str) -> str:
    """One escaped line of a paragraph, with `code spans` in ``<code>``."""
    out: list[str] = []
    end = 0
    for span in _CODE_SPAN.finditer(line):
        out.append(escape(line[end : span.start()]))
        out.append("<code>" + escape(span.group(2)) + "</code>")
        end = span.end()
    out.append(escape(line[end:]))
    return "".join(out)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip(" \t")
    # CommonMark counts a tab as reaching the next multiple of 4 columns: "\t```" is indented
    # four columns, too deep to close a fence.
    lead = line[: len(line) - len(line.lstrip(" \t"))]
    indent = len(lead.expandtabs(4))
    return indent <= 3 and len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)


def _language(info: str) -> str:
    words = info.split()
    if not words:
        return ""
    match = _LANGUAGE.fullmatch(words[0])
    return match.group(0) if match else ""


def _code_block(lines: list[str], language: str, info: str) -> str:
    """A code block; an info string that is not just its language word (more words, or a word
    that cannot be a class) is shown as a caption line before it, so none of it is lost."""
    attribute = f' class="language-{escape(language)}"' if language else ""
    caption = f'<p class="code-info">{escape(info)}</p>\n' if info and info != language else ""
    return caption + f"<pre><code{attribute}>" + escape("\n".join(lines)) + "</code></pre>"
