"""The html exporter through the real plugin path, and hostile input coming out as inert text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.metadata import entry_points

import prompt_sessions_html
import pytest
from prompt_sessions_html import HtmlExporter

from prompt_sessions import Message, Session
from prompt_sessions.plugins import PluginHost

# Every element the page may contain. Anything else in an export means user text became markup.
PAGE_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "dl",
    "dt",
    "dd",
    "code",
    "time",
    "span",
    "main",
    "article",
    "div",
    "p",
    "br",
    "pre",
    "details",
    "summary",
}

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PRE_BREAKOUT = "```\n</pre></code><script>alert(2)</script>\n```"


class PageParser(HTMLParser):
    """Collects what a browser would see: elements with their attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ends: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def hostile_session() -> Session:
    """Hostile text in every place user data reaches the page."""
    return Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name=IMG,
        po_name="<img src=x onerror=alert(3)>",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
        source=SCRIPT,
        tags=[SCRIPT, IMG],
        metadata={IMG: SCRIPT, "nested": {"html": "</code></dd><script>x()</script>"}},
        history=[
            Message(role="user", content=SCRIPT, created_at="2025-01-03T10:00:01Z"),
            Message(
                role="assistant",
                content=PRE_BREAKOUT,
                created_at="2025-01-03T10:00:02Z",
                model=SCRIPT,
                from_po=IMG,
            ),
            Message(
                role="assistant",
                content="```</pre>\n" + IMG,
                created_at="2025-01-03T10:00:03Z",
                tool_calls=[{"name": SCRIPT}],
                tool_results=[IMG],
                metadata={SCRIPT: IMG},
            ),
            Message(
                role="user",
                content="`</code><script>y()</script>`",
                created_at="2025-01-03T10:00:04Z",
            ),
        ],
    )


def test_hostile_text_never_becomes_markup() -> None:
    """Scripts, attribute breakouts and closing tags in any field produce no element or
    attribute of their own: the page holds only its own elements, none with an event handler."""
    page = HtmlExporter().export(hostile_session())
    parsed = parse(page)
    assert {tag for tag, _ in parsed.tags} <= PAGE_TAGS
    for _, attrs in parsed.tags:
        assert not any(name.startswith("on") or name == "src" for name in attrs)
    # Every element that opens also closes, in order: no field broke out of its block.
    void = {"meta", "br"}
    opened = [tag for tag, _ in parsed.tags if tag not in void]
    assert sorted(opened) == sorted(parsed.ends)
    assert "<script" not in page and "<img" not in page and "</pre></code>" not in page


def test_hostile_text_is_shown_as_typed() -> None:
    """Escaped is not dropped: the reader sees every hostile string exactly as it was written."""
    text = "".join(parse(HtmlExporter().export(hostile_session())).text)
    assert IMG in text  # session name and from_po
    assert "<img src=x onerror=alert(3)>" in text  # PO name
    assert SCRIPT in text  # message, model, source, tag, metadata value
    assert "</pre></code><script>alert(2)</script>" in text  # inside the code block
    assert "</code></dd><script>x()</script>" in text  # nested metadata
    assert "</code><script>y()</script>" in text  # inside a code span


def test_code_fence_becomes_a_code_block_and_prose_paragraphs() -> None:
    """Fences become <pre><code> with a language class; text around them becomes paragraphs,
    one per blank-line separated block, single newlines kept as line breaks."""
    session = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Code",
        po_name="dev",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
        history=[
            Message(
                role="assistant",
                content="Try this:\nit works.\n\n```rust\nfn main() {}\n```\nDone.",
                created_at="2025-01-03T10:00:01Z",
            )
        ],
    )
    page = HtmlExporter().export(session)
    assert '<pre><code class="language-rust">fn main() {}</code></pre>' in page
    assert "<p>Try this:<br>\nit works.</p>" in page
    assert "<p>Done.</p>" in page


def test_a_hostile_fence_language_is_not_a_class() -> None:
    """A fence info string that is not a plain word gives a code block without a class; the
    info string is shown as text above it, in no attribute."""
    session = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Code",
        po_name="dev",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
        history=[
            Message(
                role="user",
                content='~~~"onmouseover=alert(1)\nx\n~~~',
                created_at="2025-01-03T10:00:01Z",
            )
        ],
    )
    page = HtmlExporter().export(session)
    assert "<pre><code>x</code></pre>" in page
    parsed = parse(page)
    assert '"onmouseover=alert(1)' in parsed.text
    assert not any("onmouseover" in str(attrs) for _, attrs in parsed.tags)


def test_tool_calls_and_results_are_shown_escaped() -> None:
    """A tool call shows its name and arguments, a result shows under its call's id (once, not
    again as the message's content), and hostile names and arguments stay text."""
    session = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Tools",
        po_name="coordinator",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
        history=[
            Message(
                role="assistant",
                content="",
                created_at="2025-01-03T10:00:01Z",
                tool_calls=[{"id": "call_1", "name": SCRIPT, "arguments": {"message": IMG}}],
            ),
            Message(
                role="tool",
                content="found " + SCRIPT,
                created_at="2025-01-03T10:00:02Z",
                tool_results=[{"tool_call_id": "call_1", "content": "found " + SCRIPT}],
            ),
        ],
    )
    page = HtmlExporter().export(session)
    parsed = parse(page)
    assert {tag for tag, _ in parsed.tags} <= PAGE_TAGS
    text = "".join(parsed.text)
    assert "→ " + SCRIPT in text
    assert '"message": "\\"><img src=x onerror=alert(1)>"' in text
    assert text.count("found " + SCRIPT) == 1
    assert "Tool calls" not in text and "Tool results" not in text  # nothing left folded away


def test_messages_are_labelled_by_speaker() -> None:
    """User, the PO (or the PO that answered for it), System and Tool head their messages."""
    session = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Who",
        po_name="coordinator",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
        history=[
            Message(role=role, content="hi", from_po=from_po, created_at="2025-01-03T10:00:01Z")
            for role, from_po in [
                ("user", None),
                ("assistant", None),
                ("assistant", "reviewer"),
                ("system", None),
                ("tool", None),
            ]
        ],
    )
    page = HtmlExporter().export(session)
    assert re.findall(r'<span class="speaker">([^<]*)</span>', page) == [
        "User",
        "coordinator",
        "reviewer",
        "System",
        "Tool",
    ]


def test_exports_through_the_session_manager(session_manager, registered_plugin) -> None:
    """Registered as a plugin, html is an export format of SessionManager and exports a stored
    session, hostile name and all."""
    session = session_manager.create("coordinator", name=IMG)
    session_manager.append(session.id, Message(role="user", content=SCRIPT))
    session_manager.append(session.id, Message(role="assistant", content="```\n</pre>\n```"))
    with registered_plugin(prompt_sessions_html):
        assert "html" in session_manager.formats()["export"]
        page = session_manager.export(session.id, format="html")
        exporter = session_manager.host.exporter("html")
    assert (exporter.extension, exporter.media_type) == ("html", "text/html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<h1>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</h1>" in page
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in page
    assert "<pre><code>&lt;/pre&gt;</code></pre>" in page
    assert "html" not in session_manager.formats()["export"]


def test_installed_entry_point_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed distribution declares the html entry point, and a host that loads entry
    points (limited to this one) offers the format."""
    declared = {ep.name: ep.value for ep in entry_points(group="prompt_sessions")}
    assert declared.get("html") == "prompt_sessions_html"
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "html")
    monkeypatch.delenv("PROMPT_SESSIONS_DISABLE_PLUGINS", raising=False)
    host = PluginHost.create()
    assert isinstance(host.exporter("html"), HtmlExporter)


FENCE_CASES = {
    "info string inside a fence": "```\nA\n```py\nB\n```",
    "closing fence with trailing text": "```\nA\n``` not a closer\nB",
    "tab-indented closer is content": "```\nA\n\t```\nB",
    "spaces and a tab reach column four": "```\nA\n  \t```\nB",
    "four spaces is content": "```\nA\n    ```\nB",
    "three spaces close": "```\nA\n   ```\nafter",
    "closer with trailing tab": "```\nA\n```\t\nafter",
    "tildes are not closed by backticks": "~~~\nA\n```\nB",
    "shorter closer is content": "````\nA\n```\nB",
    "backtick in a backtick info string": "``` a`b\nnot code",
}


@pytest.mark.parametrize("content", list(FENCE_CASES.values()), ids=list(FENCE_CASES))
def test_code_blocks_follow_commonmark_fence_rules(content: str) -> None:
    """The code blocks of a message are the ones a CommonMark parser finds: the same number,
    holding the same text (a fence with an info string, trailing text or a tab-indented fence
    never closes a block)."""
    from html import unescape

    from markdown_it import MarkdownIt
    from prompt_sessions_html.markup import render_text

    def code_blocks(html: str) -> list[str]:
        found = re.findall(r"<pre><code[^>]*>(.*?)</code></pre>", html, re.DOTALL)
        return [unescape(block).rstrip("\n") for block in found]

    expected = code_blocks(MarkdownIt("commonmark").render(content + "\n"))
    assert code_blocks(render_text(content)) == expected
