"""The Markdown export is right for any content, judged by a CommonMark parser: every message
renders as it would on its own, and none leaks into the next."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from prompt_sessions.default_plugins.exporters import MarkdownExporter
from prompt_sessions.default_plugins.markdown_blocks import close_open_blocks
from prompt_sessions.models import Message, Session

MD = MarkdownIt("commonmark")
T = "2025-01-03T14:29:58Z"
AFTER = "The next message, as plain text."


def export(*contents: str, **fields: object) -> str:
    history = [Message(role="user", content=c, created_at=T) for c in contents]
    history.append(Message(role="assistant", content=AFTER, created_at=T))
    values: dict = dict(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Fences",
        po_name="coordinator",
        created_at=T,
        updated_at=T,
        history=history,
    )
    values.update(fields)
    return MarkdownExporter().export(Session(**values))


def sections(markdown: str) -> list[str]:
    """The rendered HTML of each message: what follows its heading and time, up to the next
    thematic break. A message that leaked would swallow the breaks and headings after it."""
    html = MD.render(markdown)
    parts = html.split("<hr />\n")[1:]
    bodies = []
    for part in parts:
        heading, when, body = part.split("\n", 2)
        assert heading.startswith("<h2>") and when == f"<p><em>{T}</em></p>"
        bodies.append(body)
    return bodies


def alone(content: str) -> str:
    """How the message renders as a document of its own, ending in a line break (an open fence
    ends with the document)."""
    return MD.render(content if content.endswith("\n") else content + "\n")


FENCE_CASES = {
    # A fence with an info string cannot close a fence: B is code, the last ``` closes it.
    "info string inside a fence": "```\nA\n```py\nB\n```",
    "info string inside, never closed": "```\nA\n```py\nB",
    "unclosed with info string": "```python\nprint('never closed')",
    "tab-indented fence is indented code": "\t```\ncode?\n\t```\nafter",
    "tab-indented opener then a real fence": "text\n\t```\n```\nopen now",
    "closing fence with trailing text": "```\nA\n``` not a closer\nB",
    "tildes": "~~~\nopen tilde",
    "tildes closed by backticks are not closed": "~~~\nA\n```\nB",
    "longer opener, shorter inner fence": "````\nfour then three\n```\nstill open",
    "closed": "```\nclosed\n```",
    "closer indented three spaces": "```\nA\n   ```",
    "closer indented four spaces is content": "```\nA\n    ```",
    "fence in a block quote": "> ```\n> quoted code",
    "backticks in an info string are not a fence": "``` a`b\nnot code",
    "no fence": "just *text*",
    "trailing blank lines in an open fence": "```\ncode\n\n\n",
}


@pytest.mark.parametrize("content", list(FENCE_CASES.values()), ids=list(FENCE_CASES))
def test_each_message_renders_as_on_its_own_and_none_leaks(content: str) -> None:
    """Parsed as CommonMark, each message's section renders exactly like the message alone,
    and the next message is still a heading and a paragraph of its own."""
    bodies = sections(export(content, content))
    assert bodies == [alone(content), alone(content), f"<p>{AFTER}</p>\n"]


def test_a_fence_open_in_a_list_item_ends_with_the_item() -> None:
    """A fence left open inside a list item is closed by the end of the item (the export's
    thematic break): one code block, and the next message renders on its own."""
    bodies = sections(export("- item\n  ```\n  code"))
    assert bodies[0].count("<pre><code>") == 1 and "code" in bodies[0]
    assert bodies[1] == f"<p>{AFTER}</p>\n"


HTML_CASES = {
    "comment": ("<!--\nhidden", "-->"),
    "pre": ("<pre>\nraw", "</pre>"),
    "script": ("<SCRIPT>\nx = 1", "</script>"),
    "processing instruction": ("<?php\necho 1;", "?>"),
    "declaration": ("<!DOCTYPE html", ">"),
    "cdata": ("<![CDATA[\ndata", "]]>"),
}


@pytest.mark.parametrize(("content", "closer"), list(HTML_CASES.values()), ids=list(HTML_CASES))
def test_an_html_block_left_open_is_closed(content: str, closer: str) -> None:
    """HTML blocks that end only at a marker (a comment, <pre>, <script>, <?, <!X, CDATA) are
    closed with that marker, so the next message is not hidden inside them."""
    assert close_open_blocks(content) == f"{content}\n{closer}"
    bodies = sections(export(content))
    assert bodies[-1] == f"<p>{AFTER}</p>\n"
    closed = "<!-- shown -->\nafter"
    assert close_open_blocks(closed) == closed


def test_the_issue_example_keeps_later_messages_out_of_code() -> None:
    """The fence-in-fence message exports unchanged and every later message renders as text."""
    content = "```\nA\n```py\nB\n```"
    assert close_open_blocks(content) == content
    bodies = sections(export(content, "plain", "also *plain*"))
    assert bodies[1:] == ["<p>plain</p>\n", "<p>also <em>plain</em></p>\n", f"<p>{AFTER}</p>\n"]


def test_one_line_fields_cannot_start_blocks() -> None:
    """A speaker (from_po) or tag with a line break stays on its heading or list line."""
    s = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="N",
        po_name="po",
        created_at=T,
        updated_at=T,
        tags=["a\n```"],
        history=[
            Message(role="assistant", content="x", from_po="bot\n```", created_at=T),
            Message(role="user", content=AFTER, created_at=T),
        ],
    )
    text = MarkdownExporter().export(s)
    assert "## bot ```\n" in text and "- **Tags:** a ```\n" in text
    assert sections(text)[-1] == f"<p>{AFTER}</p>\n"


LINES = st.sampled_from(
    [
        "```",
        "````",
        "~~~",
        "```py",
        "``` x",
        "\t```",
        "   ```",
        "    ```",
        "> ```",
        "- ```",
        "<!--",
        "-->",
        "<pre>",
        "</pre>",
        "text",
        "",
        "  code",
        "* item",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=8).map("\n".join))
def test_any_mix_of_fence_lines_never_leaks(content: str) -> None:
    """Whatever fence, HTML and container lines a message holds, the message after it still
    renders as its own paragraph, and a message with nothing open is exported unchanged."""
    bodies = sections(export(content))
    assert bodies[-1] == f"<p>{AFTER}</p>\n"
    fixed = close_open_blocks(content)
    assert fixed.startswith(content.rstrip("\n"))
