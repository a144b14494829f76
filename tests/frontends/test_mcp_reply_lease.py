"""The MCP server's `send_message` takes turns with other processes' sends to one session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from prompt_sessions.context import AppContext
from prompt_sessions.frontends.mcp_tools import SessionTools
from prompt_sessions.plugins import PluginHost
from prompt_sessions.reply_lease import ReplyLease, first_session_path


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[AppContext]:
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    context = AppContext.open(root, host=PluginHost.create(entry_points=False))
    yield context
    context.manager.close()


async def test_send_message_waits_for_another_holder_of_the_session(ctx: AppContext) -> None:
    """While another holder keeps the session's reply lease (another process's turn),
    `send_message` stores nothing and keeps the event loop running; once the lease is free it
    stores its message and the reply to it."""
    sid = ctx.manager.create("coordinator", "Busy").id
    tools = SessionTools(ctx)
    other = ReplyLease(ctx.manager.root, sid, "Busy")
    other.acquire(0)
    try:
        call = asyncio.create_task(tools.send_message("coordinator", "hello", session="Busy"))
        await asyncio.sleep(0.5)  # the loop runs on while the call waits
        assert not call.done()
        assert ctx.manager.get(sid).history == []
    finally:
        other.release()
    result = await asyncio.wait_for(call, timeout=30)
    assert result["reply"] == "You said: hello"
    history = [(m.role, m.content) for m in ctx.manager.get(sid).history]
    assert history == [("user", "hello"), ("assistant", "You said: hello")]


async def test_send_message_to_a_po_without_a_session_joins_the_one_being_made(
    ctx: AppContext,
) -> None:
    """Another process is making the first session of a PO (it holds the PO's first-session
    lease, as ``send`` does): `send_message` without a session waits for it, keeps the loop
    running, and talks in that session instead of making a second one."""
    mgr = ctx.manager
    (mgr.root / "objects").mkdir()
    (mgr.root / "objects" / "fresh.md").write_text("---\nname: fresh\n---\nA new PO.\n")
    tools = SessionTools(ctx)
    other = ReplyLease(mgr.root, "", "fresh", path=first_session_path(mgr.root, "fresh"))
    other.acquire(0)
    try:
        call = asyncio.create_task(tools.send_message("fresh", "hello"))
        await asyncio.sleep(0.5)  # the loop runs on while the call waits
        assert not call.done()
        made = mgr.create("fresh", "Made elsewhere")
        mgr.backend.set_current("fresh", made.id)
    finally:
        other.release()
    result = await asyncio.wait_for(call, timeout=30)
    assert result["session"]["id"] == made.id
    assert [s.id for s in mgr.list("fresh")] == [made.id]


async def test_send_message_returns_the_name_the_message_gave(ctx: AppContext) -> None:
    """A session made unnamed is named after its first message (DESIGN section 14): the
    answer carries that name, not the placeholder it had before."""
    ctx.manager.create("coordinator", "Elsewhere")  # the PO is known
    tools = SessionTools(ctx)
    made = tools.create_session("coordinator")
    result = await tools.send_message("coordinator", "Crème brûlée recipe for six")
    [summary] = [s for s in ctx.manager.list("coordinator") if s.id == made["id"]]
    assert result["session"]["name"] == summary.name
    assert summary.name != "New Session"
