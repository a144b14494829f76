"""What the TUI shows when the llm responder cannot answer: one line that says what to do
(`llm models`, `llm keys set`), in the status bar and the conversation, never a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import prompt_sessions_llm
import pytest
from llm_support import write_po

from prompt_sessions.context import AppContext
from prompt_sessions.plugins import PluginHost
from prompt_sessions.tui.app import PromptSessionsApp
from prompt_sessions.tui.widgets.status_bar import StatusBar


@pytest.fixture
def open_ctx(tmp_path: Path, llm_home: Path) -> Iterator[Callable[[str], AppContext]]:
    """``open_ctx(front_matter)``: a store with PO ``helper`` answered by llm."""
    opened: list[AppContext] = []

    def make(front: str) -> AppContext:
        store = tmp_path / ".prompt_objects"
        write_po(store, "helper", f"responder: llm\n{front}", "Be brief.\n")
        host = PluginHost.create(entry_points=False, plugins=[prompt_sessions_llm])
        ctx = AppContext.open(store, host=host)
        ctx.config["runtime"] = {"retry_base_ms": 1, "retry_max_ms": 1}
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.manager.close()


async def _send(ctx: AppContext, tmp_path: Path, text: str) -> tuple[str, list[str]]:
    """Type ``text`` and Enter in the TUI; the status bar and the notes shown, once idle."""
    app = PromptSessionsApp(ctx, export_dir=tmp_path, cursor_blink=False)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press(*text, "enter")
        await app.coord.wait_idle()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        notes = [str(n.message) for n in app._notifications]
        return str(app.screen.query_one(StatusBar).render()), notes


@pytest.mark.parametrize(
    ("front", "hint"),
    [
        ("model: no-such-model\n", "`llm models`"),
        ("model: gpt-4o-mini\n", "llm keys set openai"),
    ],
    ids=["unknown model", "missing key"],
)
async def test_a_reply_that_cannot_start_is_one_line_naming_the_fix(
    open_ctx, tmp_path: Path, front: str, hint: str
) -> None:
    """The person's message is kept; the reply's error is shown in one line that names the
    llm command to run, and nothing of a traceback reaches the screen or the store."""
    ctx = open_ctx(front)
    status, notes = await _send(ctx, tmp_path, "hello")
    assert "error" in status and "/retry" in status, status
    [note] = [n for n in notes if hint in n]
    assert "\n" not in note.strip() and "Traceback" not in note, note
    [summary] = ctx.manager.list()
    history = ctx.manager.get(summary.id).history
    assert [(m.role, m.content) for m in history] == [("user", "hello")]
