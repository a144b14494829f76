"""Concurrency and memory limits: replies past max_generating queue; past max_loaded, the least
recently used idle sessions are unloaded to disk and come back when selected."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from prompt_sessions import hookimpl
from prompt_sessions.context import AppContext
from prompt_sessions.plugins import PluginHost
from prompt_sessions.responders import ReplyEnd, ReplyRequest
from prompt_sessions.runtime import Coordinator, Status
from prompt_sessions.runtime.events import RuntimeEvent, SessionChanged, StatusChanged


class GatedResponder:
    """Streams one chunk, then waits until the test opens that session's gate."""

    name = "gated"

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.started: list[str] = []
        self.running = 0
        self.most_running = 0

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
        sid = request.session.id
        self.started.append(sid)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            yield "first half, "
            await self.gates[sid].wait()
            yield "second half"
            yield ReplyEnd(model="gated")
        finally:
            self.running -= 1


class GatedPlugin:
    def __init__(self, responder: GatedResponder) -> None:
        self.responder = responder

    @hookimpl
    def register_responders(self, register):  # type: ignore[no-untyped-def]
        register("gated", lambda options: self.responder)


def open_ctx(root: Path, responder: GatedResponder, runtime: str) -> AppContext:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(f'responder = "gated"\n[runtime]\n{runtime}\n')
    host = PluginHost.create(entry_points=False, plugins=[GatedPlugin(responder)])
    return AppContext.open(root, host=host)


@pytest.fixture
def gated() -> GatedResponder:
    return GatedResponder()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_replies_past_the_limit_are_queued_and_start_in_order(
    root: Path, gated: GatedResponder
) -> None:
    """With max_generating = 2, the third and fourth replies show QUEUED and start first come,
    first served as slots free up; never more than two generate at once."""
    ctx = open_ctx(root, gated, "max_generating = 2")
    coord = Coordinator(ctx)
    ids = [ctx.manager.create("po", f"s{n}").id for n in range(4)]
    for sid in ids:
        await coord.send(sid, "go")
    await settle()
    assert [coord.get(sid).status for sid in ids] == [
        Status.STREAMING,
        Status.STREAMING,
        Status.QUEUED,
        Status.QUEUED,
    ]
    assert gated.started == ids[:2]

    gated.gates[ids[1]].set()
    await coord.wait_idle(ids[1])
    await settle()
    assert gated.started == ids[:3]
    assert coord.get(ids[2]).status is Status.STREAMING
    assert coord.get(ids[3]).status is Status.QUEUED

    for sid in ids:
        gated.gates[sid].set()
    await coord.wait_idle()
    assert gated.started == [ids[0], ids[1], ids[2], ids[3]]
    assert gated.most_running == 2
    for sid in ids:
        assert [m.content for m in ctx.manager.get(sid).history] == [
            "go",
            "first half, second half",
        ]
    await coord.shutdown()
    ctx.manager.close()


async def test_cancelling_a_queued_reply_frees_its_place(root: Path, gated: GatedResponder) -> None:
    """A queued reply that is cancelled never starts, stores nothing, and the next one moves up."""
    ctx = open_ctx(root, gated, "max_generating = 1")
    coord = Coordinator(ctx)
    ids = [ctx.manager.create("po", f"s{n}").id for n in range(3)]
    for sid in ids:
        await coord.send(sid, "go")
    assert coord.cancel(ids[1]) is True
    await coord.wait_idle(ids[1])
    assert coord.get(ids[1]).status is Status.IDLE
    gated.gates[ids[0]].set()
    gated.gates[ids[2]].set()
    await coord.wait_idle()
    assert gated.started == [ids[0], ids[2]]
    assert [m.role for m in ctx.manager.get(ids[1]).history] == ["user"]
    await coord.shutdown()
    ctx.manager.close()


async def test_least_recently_used_idle_sessions_are_unloaded_past_the_limit(
    root: Path, gated: GatedResponder
) -> None:
    """With max_loaded = 2, opening a third session unloads the least recently used idle one; its
    file stays, its summary stays, and reading its history loads it back."""
    ctx = open_ctx(root, gated, "max_loaded = 2")
    coord = Coordinator(ctx)
    a, b, c = (ctx.manager.create("po", name) for name in "abc")
    for s in (a, b, c):
        from prompt_sessions.models import Message

        ctx.manager.append(s.id, Message(role="user", content=f"note in {s.name}"))
    events: list[RuntimeEvent] = []
    coord.subscribe(events.append)
    coord.open(a.id)
    coord.open(b.id)
    coord.open(c.id)
    live_a = coord.get(a.id)
    assert live_a.status is Status.UNLOADED and not live_a.loaded
    assert coord.get(b.id).loaded and coord.get(c.id).loaded
    assert live_a.preview == "note in a" and live_a.message_count == 1
    assert ctx.manager.get(a.id).history[0].content == "note in a"
    assert StatusChanged(a.id, Status.UNLOADED, Status.IDLE) in events

    coord.show(a.id)  # selecting it reloads it and unloads the next least recently used (b)
    assert live_a.loaded and live_a.status is Status.IDLE
    assert [m.content for m in live_a.history] == ["note in a"]
    assert coord.get(b.id).status is Status.UNLOADED
    assert SessionChanged(a.id, "loaded") in events

    assert [m.content for m in coord.get(b.id).history] == ["note in b"]  # lazy reload on read
    assert coord.get(b.id).loaded
    assert sum(live.loaded for live in coord.open_sessions()) == 2
    await coord.shutdown()
    ctx.manager.close()


async def test_busy_and_shown_sessions_are_never_unloaded(
    root: Path, gated: GatedResponder
) -> None:
    """Streaming sessions and the shown one stay loaded even past the limit; once a reply ends the
    limit applies again to idle ones, and an unloaded session's status comes back on reload."""
    ctx = open_ctx(root, gated, "max_loaded = 1")
    coord = Coordinator(ctx)
    a, b, c = (ctx.manager.create("po", name) for name in "abc")
    coord.show(a.id)
    await coord.send(b.id, "go")
    await coord.send(c.id, "go")
    await settle()
    assert all(coord.get(s.id).loaded for s in (a, b, c))
    gated.gates[b.id].set()
    await coord.wait_idle(b.id)
    assert coord.get(b.id).status is Status.UNLOADED
    assert coord.get(c.id).loaded and coord.get(a.id).loaded
    assert coord.get(b.id).unread == 1
    assert coord.get(b.id).preview == "first half, second half"
    gated.gates[c.id].set()
    await coord.wait_idle()
    assert coord.get(c.id).status is Status.UNLOADED
    assert coord.get(a.id).loaded
    assert [m.content for m in coord.get(b.id).history] == ["go", "first half, second half"]
    assert coord.get(b.id).status is Status.IDLE
    await coord.shutdown()
    ctx.manager.close()


async def test_buffer_cap_drops_the_oldest_text_of_a_long_reply(
    root: Path, gated: GatedResponder
) -> None:
    """A reply outgrowing buffer_limit_bytes shows only its newest text while it streams; the
    stored reply is whole, with no note of anything dropped."""
    ctx = open_ctx(root, gated, "buffer_limit_bytes = 8")
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    await coord.send(s.id, "go")
    await settle()
    assert coord.get(s.id).buffer == "t half, "  # "first half, " is 12 bytes; the newest 8 stay
    gated.gates[s.id].set()
    await coord.wait_idle()
    reply = ctx.manager.get(s.id).history[-1]
    assert reply.content == "first half, second half"
    assert reply.metadata is None
    await coord.shutdown()
    ctx.manager.close()


async def test_a_reply_cancelled_before_it_starts_gives_its_slot_back(
    root: Path, gated: GatedResponder
) -> None:
    """Cancelling a reply in the same instant it was started frees its generation slot at once."""
    ctx = open_ctx(root, gated, "max_generating = 1")
    coord = Coordinator(ctx)
    a, b = (ctx.manager.create("po", name) for name in "ab")
    await coord.send(a.id, "go")
    assert coord.cancel(a.id)
    await coord.wait_idle(a.id)
    assert coord.get(a.id).status is Status.IDLE
    await coord.send(b.id, "go")
    assert coord.get(b.id).status is Status.STREAMING
    gated.gates[b.id].set()
    await coord.wait_idle()
    assert gated.started == [b.id]
    await coord.shutdown()
    ctx.manager.close()
