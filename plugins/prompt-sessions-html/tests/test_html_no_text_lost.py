"""No text of a message is lost in the HTML page: every word of it is shown (escaped), whatever
Markdown-looking lines it holds; only fence and code span markers are taken as markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prompt_sessions_html import HtmlExporter
from prompt_sessions_html.markup import render_text

from prompt_sessions import Message, Session


class Shown(HTMLParser):
    """The text a browser shows, and the language classes of code blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "class" and value and value.startswith("language-"):
                self.parts.append(" " + value.removeprefix("language-") + " ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown(html: str) -> str:
    parser = Shown()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def words(text: str) -> list[str]:
    """The words of a text: what is left between white space and the fence and code span
    marker characters."""
    return [w for w in re.split(r"[\s`~]+", text) if w]


def missing(content: str, html: str) -> list[str]:
    seen = shown(html)
    return [w for w in words(content) if w not in seen]


def test_text_after_an_opening_fence_is_shown() -> None:
    """A fence's info string with words after the language shows all of them; the first word
    is still the code block's language."""
    content = "```this text after the backticks vanishes\ncode\n```"
    html = render_text(content)
    assert '<pre><code class="language-this">code</code></pre>' in html
    assert "this text after the backticks vanishes" in shown(html)
    assert missing(content, html) == []


INFO_CASES = {
    "words after the language": "```python  title='a b.py'\nx = 1\n```",
    "info string that is no language": '~~~"onmouseover=alert(1) & more\nx\n~~~',
    "word too long for a class": "```" + "a" * 50 + "\nx\n```",
    "open fence with an info string": "```sh run me\necho hi",
    "tilde fence with backticks in its info": "~~~ `quoted` info\nx\n~~~",
}


@pytest.mark.parametrize("content", list(INFO_CASES.values()), ids=list(INFO_CASES))
def test_every_info_string_is_shown(content: str) -> None:
    """Whatever a fence's info string holds, its words appear in the page, as text."""
    html = render_text(content)
    assert missing(content, html) == []
    assert "<pre><code" in html


MARKDOWN_LOOKALIKES = {
    "raw html": "<div>inside</div>\n<span title='x'>t</span>",
    "link reference definition": "[a]: http://x.example/ref 'Title'\n\nsee [a]",
    "lone comment opener": "<!--\nnot hidden\nstill shown",
    "comment": "<!-- a comment --> after",
    "processing instruction": "<?php echo 1; ?>",
    "cdata": "<![CDATA[ data ]]>",
    "heading and rule": "# Title\n\n---\n\n## Sub\n***",
    "html entity": "&amp; &lt;b&gt; &#x41;",
    "backslash escapes": "\\*not emphasis\\* \\`tick\\`",
    "empty code span": "`` `` and ``` x ```",
    "autolink": "<http://x.example> <a@b.example>",
}


@pytest.mark.parametrize(
    "content", list(MARKDOWN_LOOKALIKES.values()), ids=list(MARKDOWN_LOOKALIKES)
)
def test_markdown_that_would_hide_text_is_shown_as_typed(content: str) -> None:
    """Raw HTML, comments, link reference definitions, entities: text a Markdown renderer would
    hide or turn into markup is shown as typed."""
    assert missing(content, render_text(content)) == []


LINES = st.one_of(
    st.sampled_from(
        [
            "```",
            "```py",
            "```py more words",
            "~~~ info ~ here",
            "````",
            "``` a`b",
            "   ```",
            "\t```",
            "<!--",
            "-->",
            "[a]: http://x",
            "<pre>",
            "&amp;",
            "`code`",
            "``",
            "",
        ]
    ),
    st.text(max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=10).map("\n".join))
def test_any_text_keeps_every_word(content: str) -> None:
    """For any text, every word of it is in the page a message with that text exports to."""
    session = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Words",
        po_name="dev",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
        history=[Message(role="user", content=content, created_at="2025-01-03T10:00:01Z")],
    )
    page = HtmlExporter().export(session)
    body = page.split("<main>", 1)[1]
    assert missing(content, body) == []


def test_tool_call_and_result_fields_besides_the_shown_ones_are_kept() -> None:
    """A tool call's ``type`` and a result's ``is_error`` are in the page (folded), not
    dropped; a call or result with only the shown fields gets no extra block."""
    session = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Tools",
        po_name="dev",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
        history=[
            Message(
                role="assistant",
                content="",
                created_at="2025-01-03T10:00:01Z",
                tool_calls=[
                    {"id": "c1", "name": "run", "arguments": {}, "type": "function_special"},
                    {"id": "c2", "name": "plain", "arguments": {}},
                ],
            ),
            Message(
                role="tool",
                content="boom",
                created_at="2025-01-03T10:00:02Z",
                tool_results=[{"tool_call_id": "c1", "content": "boom", "is_error": True}],
            ),
        ],
    )
    page = HtmlExporter().export(session)
    text = shown(page)
    assert '"type": "function_special"' in text
    assert '"is_error": true' in text
    assert page.count("<summary>Fields</summary>") == 2
