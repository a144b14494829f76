"""A reply that delegates streams in the TUI, its call shows as one foldable line
``-> worker: ...``, and Enter on that line opens the delegation session."""

from __future__ import annotations

from collections.abc import AsyncIterator

from textual.widgets import Collapsible, Static

from prompt_sessions import hookimpl
from prompt_sessions.responders import ReplyEnd, ReplyRequest, ToolCall, ToolCalls
from prompt_sessions.tui.widgets.delegation_line import DelegationLine
from prompt_sessions.tui.widgets.message_box import MessageBox
from prompt_sessions.tui.widgets.message_view import MessageView
from prompt_sessions.tui.widgets.status_bar import StatusBar

from .conftest import settle, wait_until


class Delegating:
    """Calls every tool it is offered with the user's text, then repeats what came back."""

    name = "delegating"

    def __init__(self, options: dict) -> None:
        pass

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd | ToolCalls]:
        last = request.last_user_message
        text = last.content if last else ""
        if not request.tools:
            yield f"worked on {text}"
            return
        step = ToolCalls([ToolCall("c1", request.tools[0].name, {"message": text})])
        yield "Asking. "
        yield step
        yield f"Got: {step.results[0].content}" if step.results else "nothing"


class Plugin:
    @hookimpl
    def register_responders(self, register):  # type: ignore[no-untyped-def]
        register("delegating", Delegating)


async def test_a_delegation_line_opens_the_delegation_session(make_ctx, make_app, root):
    """The caller's reply streams to its end through the delegation; the call is one line
    naming the worker and the message; space unfolds it; Enter shows the worker's delegation
    session, whose first message came from the caller."""
    folder = root / "objects"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "boss.md").write_text(
        "---\nname: boss\nresponder: delegating\ncapabilities: [worker]\n---\n"
    )
    (folder / "worker.md").write_text("---\nname: worker\nresponder: delegating\n---\n")
    ctx = make_ctx()
    ctx.host.register(Plugin(), "delegating-test")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        screen.show_po("boss")
        await pilot.pause()
        box = screen.query_one(MessageBox)
        box.focus()
        box.text = "sort the " + "very long " * 12 + "list"
        await pilot.press("enter")
        await settle(pilot)
        boss_id = screen.session_id
        history = ctx.manager.get(boss_id).history
        assert [m.role for m in history] == ["user", "assistant", "tool", "assistant"]
        assert history[-1].content.startswith("Got: worked on sort the very long")
        await wait_until(pilot, lambda: bool(screen.query(DelegationLine)))
        # The call is drawn as the line alone (no "(empty)" body), and the result as the tool
        # message's text, not again in a folded section.
        views = {view.index: view for view in screen.query(MessageView)}
        assert "(empty)" not in str(views[1].query_one(".body", Static).render())
        assert not screen.query(Collapsible)
        line = screen.query_one(DelegationLine)
        assert str(line.render()).startswith("▸ -> worker: sort the very long")
        assert str(line.render()).endswith("…")
        line.focus()
        await pilot.pause()
        # Where the line has the focus, the status bar says what Enter does there.
        assert "Enter open the delegation" in str(screen.query_one(StatusBar).render())
        await pilot.press("space")
        assert str(line.render()).endswith("very long list")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.po_name == "worker"
        shown = ctx.manager.get(screen.session_id)
        assert (shown.thread_type, shown.parent_id) == ("delegation", boss_id)
        assert shown.history[0].from_po == "boss"
