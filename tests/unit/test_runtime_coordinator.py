"""The coordinator through its public API: routing, unread counts, state transitions, sending."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from prompt_sessions.context import AppContext
from prompt_sessions.errors import InvalidName, SessionNotFound, UnknownFormat, UsageError
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.runtime import Coordinator, SessionBusy, SessionNotOpen, Status
from prompt_sessions.runtime.events import (
    ChunkReceived,
    MessageAdded,
    ReplyFinished,
    RuntimeEvent,
    SessionChanged,
    SessionOpened,
    SessionRemoved,
    StatusChanged,
)


def open_ctx(root: Path, config: str = "[responders.echo]\nchunk_delay_ms = 1\n") -> AppContext:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(config)
    return AppContext.open(root, host=PluginHost.create(entry_points=False))


@pytest.fixture
async def ctx(root: Path) -> AsyncIterator[AppContext]:
    context = open_ctx(root)
    yield context
    context.manager.close()


@pytest.fixture
async def coord(ctx: AppContext) -> AsyncIterator[Coordinator]:
    coordinator = Coordinator(ctx)
    yield coordinator
    await coordinator.shutdown()


def record(coord: Coordinator) -> list[RuntimeEvent]:
    events: list[RuntimeEvent] = []
    coord.subscribe(events.append)
    return events


async def test_switching_while_three_replies_stream_keeps_every_message_in_its_own_session(
    ctx: AppContext, coord: Coordinator
) -> None:
    """Three replies stream at once while the shown session changes on every chunk; each history
    ends up with exactly its own user message and reply, in memory and on disk."""
    sessions = [ctx.manager.create("po", f"thread {n}") for n in range(3)]
    ids = [s.id for s in sessions]
    switches = 0

    def switch_on_chunk(event: RuntimeEvent) -> None:
        nonlocal switches
        if isinstance(event, ChunkReceived):
            switches += 1
            coord.show(ids[switches % 3])

    events = record(coord)
    coord.subscribe(switch_on_chunk)
    for n, sid in enumerate(ids):
        await coord.send(sid, f"message for thread {n} " + "word " * 20)
    assert all(coord.get(sid).status is Status.STREAMING for sid in ids)
    await coord.wait_idle()

    assert switches > 10  # the view really moved while the replies were streaming
    for n, sid in enumerate(ids):
        expected = [
            f"message for thread {n} " + "word " * 20,
            f"You said: message for thread {n} " + "word " * 19 + "word",
        ]
        assert [m.content for m in coord.get(sid).history] == expected
        assert [m.content for m in ctx.manager.get(sid).history] == expected
        streamed = "".join(
            e.text for e in events if isinstance(e, ChunkReceived) and e.session_id == sid
        )
        assert streamed == expected[1]
        finished = [e for e in events if isinstance(e, ReplyFinished) and e.session_id == sid]
        assert [e.message.content for e in finished] == [expected[1]]


async def test_several_turns_per_session_with_constant_switching_stay_in_order(
    ctx: AppContext, coord: Coordinator
) -> None:
    """Three sessions hold three turns each, every next message sent the moment the previous reply
    lands, while the view hops on every event: each history alternates its own messages and
    replies in order, with nothing from another session."""
    ids = [ctx.manager.create("po", f"thread {n}").id for n in range(3)]
    turns = dict.fromkeys(ids, 1)
    pending: list[asyncio.Task[object]] = []
    hops = 0

    def on_event(event: RuntimeEvent) -> None:
        nonlocal hops
        hops += 1
        coord.show(ids[hops % 3])
        if isinstance(event, ReplyFinished) and turns[event.session_id] < 3:
            turns[event.session_id] += 1
            text = f"{event.session_id[:8]} turn {turns[event.session_id]}"
            pending.append(asyncio.create_task(coord.send(event.session_id, text)))

    coord.subscribe(on_event)
    for sid in ids:
        await coord.send(sid, f"{sid[:8]} turn 1")
    while pending or any(coord.get(sid).busy for sid in ids):
        await coord.wait_idle()
        done, pending[:] = [t for t in pending if t.done()], [t for t in pending if not t.done()]
        for task in done:
            task.result()
        await asyncio.sleep(0)
    for sid in ids:
        expected = []
        for turn in (1, 2, 3):
            expected += [f"{sid[:8]} turn {turn}", f"You said: {sid[:8]} turn {turn}"]
        assert [m.content for m in ctx.manager.get(sid).history] == expected
        assert [m.content for m in coord.get(sid).history] == expected


async def test_unread_counts_replies_that_finish_in_sessions_not_shown(
    ctx: AppContext, coord: Coordinator
) -> None:
    """A reply finishing in a background session adds one unread; showing the session clears it."""
    a = ctx.manager.create("po", "a")
    b = ctx.manager.create("po", "b")
    coord.show(a.id)
    events = record(coord)
    await coord.send(a.id, "shown one")
    await coord.send(b.id, "background one")
    await coord.wait_idle()
    assert coord.get(a.id).unread == 0
    assert coord.get(b.id).unread == 1
    background = {e.session_id: e.background for e in events if isinstance(e, ReplyFinished)}
    assert background == {a.id: False, b.id: True}
    await coord.send(b.id, "again")
    await coord.wait_idle()
    assert coord.get(b.id).unread == 2
    coord.show(b.id)
    assert coord.get(b.id).unread == 0
    assert SessionChanged(b.id, "unread") in events
    assert coord.shown == b.id


async def test_state_transitions_of_a_reply(ctx: AppContext, coord: Coordinator) -> None:
    """A reply goes idle -> streaming -> idle, and the events report each change once."""
    s = ctx.manager.create("po")
    live = coord.open(s.id)
    assert live.status is Status.IDLE
    events = record(coord)
    await coord.send(s.id, "hello")
    assert live.status is Status.STREAMING and live.busy
    await coord.wait_idle(s.id)
    changes = [(e.previous, e.status) for e in events if isinstance(e, StatusChanged)]
    assert changes == [(Status.IDLE, Status.STREAMING), (Status.STREAMING, Status.IDLE)]
    assert live.status is Status.IDLE and not live.busy
    assert live.buffer == ""
    assert live.preview == "You said: hello"
    assert live.message_count == 2


async def test_messages_added_carry_their_index_and_reply_metadata(
    ctx: AppContext, coord: Coordinator
) -> None:
    """The user's message and the reply are announced with their positions; the reply records model,
    usage and latency from the responder."""
    s = ctx.manager.create("po")
    events = record(coord)
    stored = await coord.send(s.id, "one two three", source="tui")
    assert stored.role == "user" and stored.source == "tui"
    await coord.wait_idle()
    added = [(e.index, e.message.role, e.external) for e in events if isinstance(e, MessageAdded)]
    assert added == [(0, "user", False), (1, "assistant", False)]
    reply = ctx.manager.get(s.id).history[1]
    assert reply.model == "echo"
    assert reply.usage is not None and reply.usage.input_tokens == 3
    assert reply.latency_ms is not None and reply.latency_ms >= 0
    assert reply.incomplete is None


async def test_a_reply_that_asks_for_input_leaves_the_session_waiting(root: Path) -> None:
    """A responder ending with awaiting_input puts the session in WAITING until the next message."""
    ctx = open_ctx(root, "[responders.echo]\nchunk_delay_ms = 0\nawaiting_input = true\n")
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    await coord.send(s.id, "ask me")
    await coord.wait_idle()
    assert coord.get(s.id).status is Status.WAITING
    await coord.send(s.id, "answer")
    assert coord.get(s.id).status is Status.STREAMING
    await coord.shutdown()
    ctx.manager.close()


async def test_send_refuses_empty_text_and_a_busy_session(
    ctx: AppContext, coord: Coordinator
) -> None:
    """An empty message, and a second one while the reply streams, are clear errors; nothing is
    stored."""
    s = ctx.manager.create("po", "Busy one")
    with pytest.raises(UsageError, match="empty"):
        await coord.send(s.id, "   ")
    await coord.send(s.id, "first " * 30)
    with pytest.raises(SessionBusy, match="'Busy one' is still replying"):
        await coord.send(s.id, "second")
    await coord.wait_idle()
    assert [m.role for m in ctx.manager.get(s.id).history] == ["user", "assistant"]


async def test_send_with_an_unknown_responder_fails_before_storing(root: Path) -> None:
    """A PO naming a responder nobody provides is refused up front, listing the known ones."""
    ctx = open_ctx(root, 'responder = "nowhere"\n')
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    with pytest.raises(UnknownFormat, match="known: echo"):
        await coord.send(s.id, "hello")
    assert ctx.manager.get(s.id).history == []
    assert not coord.get(s.id).busy
    await coord.shutdown()
    ctx.manager.close()


async def test_open_show_and_close(ctx: AppContext, coord: Coordinator) -> None:
    """open() loads once and keeps open order; close removes it and clears the shown id."""
    a = ctx.manager.create("po", "a")
    b = ctx.manager.create("po", "b")
    events = record(coord)
    live_a = coord.open(a.id)
    assert coord.open(a.id) is live_a
    coord.show(b.id)
    assert [live.session_id for live in coord.open_sessions()] == [a.id, b.id]
    assert [e for e in events if isinstance(e, SessionOpened)] == [
        SessionOpened(a.id),
        SessionOpened(b.id),
    ]
    coord.close_session(b.id)
    assert coord.shown is None
    assert [live.session_id for live in coord.open_sessions()] == [a.id]
    assert SessionRemoved(b.id, "b", "po", deleted=False) in events
    with pytest.raises(SessionNotOpen):
        coord.close_session(b.id)


async def test_open_reports_bad_ids_and_missing_sessions(coord: Coordinator) -> None:
    """Opening a malformed id or a session that does not exist is a clear error."""
    from prompt_sessions.errors import InvalidSessionId

    with pytest.raises(InvalidSessionId):
        coord.open("../../etc/passwd")
    with pytest.raises(SessionNotFound):
        coord.open("6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11")
    assert coord.open_sessions() == []


async def test_a_failing_subscriber_does_not_stop_the_reply(
    ctx: AppContext, coord: Coordinator
) -> None:
    """An exception in one subscriber is logged; the reply and the other subscribers carry on."""
    s = ctx.manager.create("po")

    def broken(event: RuntimeEvent) -> None:
        raise RuntimeError("subscriber bug")

    coord.subscribe(broken)
    events = record(coord)
    await coord.send(s.id, "still works")
    await coord.wait_idle()
    assert any(isinstance(e, ReplyFinished) for e in events)
    assert len(ctx.manager.get(s.id).history) == 2


async def test_unsubscribe_stops_events(ctx: AppContext, coord: Coordinator) -> None:
    """After unsubscribing, a callback gets nothing more."""
    s = ctx.manager.create("po")
    events: list[RuntimeEvent] = []
    unsubscribe = coord.subscribe(events.append)
    coord.open(s.id)
    unsubscribe()
    await coord.send(s.id, "quiet")
    await coord.wait_idle()
    assert events == [SessionOpened(s.id)]


async def test_rename_through_the_coordinator_updates_the_open_session(
    ctx: AppContext, coord: Coordinator
) -> None:
    """coord.rename writes the store and renames the open session at once, with one event."""
    s = ctx.manager.create("po", "before")
    live = coord.open(s.id)
    events = record(coord)
    assert coord.rename(s.id, "  after  ") is live
    assert live.name == "after" and ctx.manager.get(s.id).name == "after"
    assert events == [SessionChanged(s.id, "name")]
    with pytest.raises(InvalidName):
        coord.rename(s.id, "")
    assert live.name == "after"


async def test_delete_through_the_coordinator_cancels_closes_and_removes(
    ctx: AppContext, coord: Coordinator
) -> None:
    """coord.delete cancels a streaming reply, closes the session and deletes its file; the
    removal is this process's own (``deleted=False``: no other program deleted it)."""
    s = ctx.manager.create("po", "doomed")
    await coord.send(s.id, "long " * 50)
    events = record(coord)
    await coord.delete(s.id)
    assert coord.get(s.id) is None
    assert SessionRemoved(s.id, "doomed", "po", deleted=False) in events
    with pytest.raises(SessionNotFound):
        ctx.manager.get(s.id)


async def test_resume_answers_a_turn_cut_short_and_keeps_the_cut_text(
    ctx: AppContext, coord: Coordinator
) -> None:
    """resume runs the reply again after an incomplete one: the responder is asked without the
    cut-short text (echo answers the user's message) and both replies stay stored."""
    s = ctx.manager.create("po", "cut")
    ctx.manager.append(s.id, Message(role="user", content="hello"))
    ctx.manager.append(s.id, Message(role="assistant", content="You sa", incomplete=True))
    assert await coord.resume(s.id) is True
    await coord.wait_idle(s.id)
    history = ctx.manager.get(s.id).history
    assert [(m.content, bool(m.incomplete)) for m in history] == [
        ("hello", False),
        ("You sa", True),
        ("You said: hello", False),
    ]
    assert await coord.resume(s.id) is False  # the turn has its reply now
