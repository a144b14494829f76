"""Checkpoints of a streaming reply (DESIGN section 8): while a reply streams, the store holds
one provisional copy of its text at the session's end, marked incomplete; the reply, a cancel or
an error then stores over that copy, so a session never ends up with the reply twice. Both
built-in backends, read back through a second manager as another process would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.context import AppContext
from prompt_sessions.errors import ResponderError, StorageError
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message, Session
from prompt_sessions.plugins import PluginHost
from prompt_sessions.responders import ReplyEnd, ReplyRequest
from prompt_sessions.runtime import Coordinator, RuntimeSettings
from prompt_sessions.runtime.events import (
    MessageAdded,
    RuntimeEvent,
    SessionChanged,
)


class Staged:
    """A responder in stages: it yields ``stages[0]``, then before each later stage waits for
    ``go`` (set by the test). Its first ``fails`` calls raise ``fail`` where the stages end; a
    call after those yields ``retry_text`` (if any) and ends."""

    name = "staged"

    def __init__(
        self,
        *stages: str,
        fail: BaseException | None = None,
        fails: int = 1,
        retry_text: str | None = None,
    ) -> None:
        self.stages = stages
        self.fail = fail
        self.fails = fails
        self.retry_text = retry_text
        self.calls = 0
        self.go = asyncio.Event()

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
        self.calls += 1
        if self.calls > 1 and self.retry_text is not None:
            if self.retry_text:
                yield self.retry_text
            yield ReplyEnd(model="staged-1")
            return
        for i, text in enumerate(self.stages):
            if i:
                await self.go.wait()
                self.go.clear()
            yield text
        if self.fail is not None and self.calls <= self.fails:
            await self.go.wait()
            raise self.fail
        yield ReplyEnd(model="staged-1")


def open_ctx(root: Path, backend: str) -> AppContext:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(f'[storage]\nbackend = "{backend}"\n')
    return AppContext.open(root, host=PluginHost.create(entry_points=False))


@pytest.fixture(params=["json", "sqlite"])
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def ctx(root: Path, backend_name: str) -> AsyncIterator[AppContext]:
    context = open_ctx(root, backend_name)
    yield context
    context.manager.close()


@pytest.fixture
def other(root: Path, backend_name: str) -> Iterator[SessionManager]:
    """A second manager on the same store: what another process sees."""
    manager = SessionManager.open(root, host=PluginHost.create(entry_points=False))
    yield manager
    manager.close()


def coordinator(
    ctx: AppContext, checkpoint_ms: float = 20.0, reply_source: str | None = None, **settings: Any
) -> Coordinator:
    """A coordinator checkpointing every ``checkpoint_ms``."""
    return Coordinator(
        ctx,
        settings=RuntimeSettings(checkpoint_ms=checkpoint_ms, **settings),
        reply_source=reply_source,
    )


def asked(ctx: AppContext, text: str = "question") -> str:
    session = ctx.manager.create("coordinator", "Turn")
    ctx.manager.append(session.id, Message(role="user", content=text))
    return session.id


async def until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        await asyncio.sleep(0.005)


def contents(session: Session) -> list[tuple[str, str, bool]]:
    return [(m.role, m.content, bool(m.incomplete)) for m in session.history]


def copy_holds(other: SessionManager, sid: str, text: str) -> Callable[[], bool]:
    """True once the store ends with the copy ``text`` (an incomplete assistant message)."""
    return lambda: contents(other.get(sid))[-1:] == [("assistant", text, True)]


async def start(coord: Coordinator, sid: str, responder: Staged) -> Any:
    live = coord.open(sid)
    coord.responders.pin(live.po_name, responder)
    assert await coord.resume(sid)
    return live


async def test_the_store_holds_one_copy_while_streaming_and_the_reply_replaces_it(
    ctx: AppContext, other: SessionManager
) -> None:
    """Mid-stream another process sees the text so far as one incomplete assistant message,
    counted in list(); the finished reply takes its place: one complete reply, in the store, in
    memory and in the events (one MessageAdded, none for the copies)."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    events: list[RuntimeEvent] = []
    coord.subscribe(events.append)
    responder = Staged("Hello ", "world")
    live = await start(coord, sid, responder)
    await until(copy_holds(other, sid, "Hello "), "the copy is stored")
    (summary,) = [s for s in other.list() if s.id == sid]
    assert (summary.message_count, summary.preview) == (2, "Hello")
    assert [m.role for m in live.history] == ["user"]  # memory never holds the copy
    responder.go.set()
    await coord.wait_idle(sid)
    stored = other.get(sid)
    assert contents(stored) == [("user", "question", False), ("assistant", "Hello world", False)]
    assert stored.history[-1].model == "staged-1"
    assert live.history == stored.history
    added = [e for e in events if isinstance(e, MessageAdded)]
    assert [(e.message.content, e.external) for e in added] == [("Hello world", False)]
    (summary,) = [s for s in other.list() if s.id == sid]
    assert (summary.message_count, summary.preview) == (2, "Hello world")
    await coord.shutdown()


async def test_copies_follow_the_text_and_stop_when_it_stops_changing(
    ctx: AppContext, other: SessionManager
) -> None:
    """Each checkpoint rewrites the one copy with the text so far; no second copy appears."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    responder = Staged("one ", "two ", "three")
    await start(coord, sid, responder)
    await until(copy_holds(other, sid, "one "), "the first copy")
    responder.go.set()
    responder.go.clear()
    await until(copy_holds(other, sid, "one two "), "the copy is rewritten")
    assert len(other.get(sid).history) == 2
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid))[1:] == [("assistant", "one two three", False)]
    await coord.shutdown()


async def test_a_cancel_keeps_the_text_once_as_incomplete(
    ctx: AppContext, other: SessionManager
) -> None:
    """Cancelling after a checkpoint stores the partial text over the copy: one incomplete
    reply, in the store and in memory."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    responder = Staged("partial ", "never")
    live = await start(coord, sid, responder)
    await until(copy_holds(other, sid, "partial "), "the copy is stored")
    assert coord.cancel(sid)
    await coord.wait_idle(sid)
    assert contents(other.get(sid))[1:] == [("assistant", "partial ", True)]
    assert live.history == other.get(sid).history
    await coord.shutdown()


async def test_an_error_keeps_the_partial_text_once_as_incomplete(
    ctx: AppContext, other: SessionManager
) -> None:
    """A responder that fails for good after a checkpoint leaves one incomplete reply."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    responder = Staged("so far ", fail=ResponderError("down"))
    live = await start(coord, sid, responder)
    await until(copy_holds(other, sid, "so far "), "the copy is stored")
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid))[1:] == [("assistant", "so far ", True)]
    assert live.history == other.get(sid).history
    assert live.error is not None and "down" in live.error
    await coord.shutdown()


async def test_a_retry_replaces_the_copy_of_the_attempt_that_failed(
    ctx: AppContext, other: SessionManager
) -> None:
    """A transient failure after a checkpoint is retried; the reply of the retry takes the
    copy's place: one complete reply."""
    sid = asked(ctx)
    coord = coordinator(ctx, retry_base_ms=0)
    responder = Staged(
        "first try ", fail=ResponderError("blip", transient=True), retry_text="second try"
    )
    await start(coord, sid, responder)
    await until(copy_holds(other, sid, "first try "), "the copy is stored")
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid))[1:] == [("assistant", "second try", False)]
    assert responder.calls == 2
    await coord.shutdown()


async def test_a_retry_that_ends_without_text_keeps_the_copy_once(
    ctx: AppContext, other: SessionManager
) -> None:
    """When the retry after a checkpointed attempt fails with nothing streamed, the copy is
    what is kept: one incomplete reply, in memory as on disk."""
    sid = asked(ctx)
    coord = coordinator(ctx, retry_base_ms=0, retry_attempts=1)
    responder = Staged("kept text", fail=ResponderError("blip", transient=True), fails=2)
    live = await start(coord, sid, responder)
    await until(copy_holds(other, sid, "kept text"), "the copy is stored")
    responder.stages = ()
    responder.go.set()
    await until(lambda: responder.calls == 2, "the retry runs")
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid))[1:] == [("assistant", "kept text", True)]
    assert live.history == other.get(sid).history
    await coord.shutdown()


async def test_the_sync_knows_the_copy_as_our_own(ctx: AppContext, other: SessionManager) -> None:
    """Store syncs while a copy is stored report no external message (the TUI would show the
    text twice) and no change of the history."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    await coord.start_watching()
    events: list[RuntimeEvent] = []
    coord.subscribe(events.append)
    responder = Staged("Hello ", "world")
    live = await start(coord, sid, responder)
    await until(copy_holds(other, sid, "Hello "), "the copy is stored")
    await coord.refresh()
    await asyncio.sleep(0.1)  # let a checkpoint or two more land, then sync again
    await coord.refresh()
    assert [m.role for m in live.history] == ["user"]
    assert not [e for e in events if isinstance(e, MessageAdded)]
    # No history change either. (A SessionsChanged, a cue to list the sessions again, may come
    # when a sync's read of the catalog races a checkpoint's write: it shows nothing twice.)
    assert not [e for e in events if isinstance(e, SessionChanged)]
    responder.go.set()
    await coord.wait_idle(sid)
    await coord.refresh()
    assert [m.content for m in live.history] == ["question", "Hello world"]
    await coord.shutdown()


async def test_another_writer_after_the_copy_loses_nothing(
    ctx: AppContext, other: SessionManager
) -> None:
    """A message another process appends after the copy is kept: the copy stays as an
    ordinary incomplete message and the reply is appended after it; memory ends as the store."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    responder = Staged("Hello ", "world")
    live = await start(coord, sid, responder)
    await until(copy_holds(other, sid, "Hello "), "the copy is stored")
    other.append(sid, Message(role="user", content="from elsewhere"))
    await coord.refresh()
    responder.go.set()
    await coord.wait_idle(sid)
    await coord.refresh()
    assert contents(other.get(sid)) == [
        ("user", "question", False),
        ("assistant", "Hello ", True),
        ("user", "from elsewhere", False),
        ("assistant", "Hello world", False),
    ]
    assert live.history == other.get(sid).history
    await coord.shutdown()


async def test_checkpoint_ms_zero_turns_checkpoints_off(
    ctx: AppContext, other: SessionManager
) -> None:
    """With ``checkpoint_ms = 0`` nothing is stored until the reply ends."""
    sid = asked(ctx)
    coord = coordinator(ctx, checkpoint_ms=0)
    responder = Staged("Hello ", "world")
    await start(coord, sid, responder)
    await asyncio.sleep(0.1)
    assert contents(other.get(sid)) == [("user", "question", False)]
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid))[1:] == [("assistant", "Hello world", False)]
    await coord.shutdown()


async def test_the_reply_source_is_stamped_on_the_copy(
    ctx: AppContext, other: SessionManager
) -> None:
    """A frontend that marks its turn (MCP's ``mcp``) marks the copy too, so what a crash
    leaves says where it came from."""
    sid = asked(ctx)
    coord = coordinator(ctx, reply_source="mcp")
    responder = Staged("Hello ", "world")
    await start(coord, sid, responder)
    await until(copy_holds(other, sid, "Hello "), "the copy is stored")
    assert other.get(sid).history[-1].source == "mcp"
    responder.go.set()
    await coord.wait_idle(sid)
    assert [m.source for m in other.get(sid).history] == [None, "mcp"]
    await coord.shutdown()


async def test_a_reply_stored_after_another_writer_appended_to_the_copy(
    ctx: AppContext, other: SessionManager
) -> None:
    """When another process appends after the copy and the reply ends before the sync or a
    checkpoint noticed, the reply is appended after that message (the copy stays, an
    incomplete message), and the next sync brings memory in line with the store."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    responder = Staged("Hello ", "")  # the last stage adds no text: no checkpoint after it
    live = await start(coord, sid, responder)
    await until(copy_holds(other, sid, "Hello "), "the copy is stored")
    other.append(sid, Message(role="user", content="from elsewhere"))
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid)) == [
        ("user", "question", False),
        ("assistant", "Hello ", True),
        ("user", "from elsewhere", False),
        ("assistant", "Hello ", False),
    ]
    await coord.refresh()
    assert live.history == other.get(sid).history
    await coord.shutdown()


async def test_a_checkpoint_after_another_writer_stops_checkpointing(
    ctx: AppContext, other: SessionManager
) -> None:
    """A checkpoint that finds another process's message after the copy stops: the copy stays
    an ordinary incomplete message and the reply is appended at the end."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    responder = Staged("Hello ", "wide ", "world")
    await start(coord, sid, responder)
    await until(copy_holds(other, sid, "Hello "), "the copy is stored")
    other.append(sid, Message(role="user", content="from elsewhere"))
    responder.go.set()  # new text: the next checkpoint meets the other message
    await asyncio.sleep(0.2)
    assert [m.content for m in other.get(sid).history][-1] == "from elsewhere"
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid))[1:] == [
        ("assistant", "Hello ", True),
        ("user", "from elsewhere", False),
        ("assistant", "Hello wide world", False),
    ]
    await coord.shutdown()


async def test_a_failing_checkpoint_warns_and_never_fails_the_reply(
    ctx: AppContext, other: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint the store refuses (a full disk, say) is one warning; checkpointing stops,
    and the reply is still stored, once."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    backend = ctx.manager.backend
    real = backend.replace_last  # type: ignore[attr-defined]
    failures = [StorageError("the disk is full")]

    def flaky(session_id: str, message: Message, *, index: int) -> Any:
        if failures:
            raise failures.pop()
        return real(session_id, message, index=index)

    monkeypatch.setattr(backend, "replace_last", flaky)
    responder = Staged("Hello ", "wide ", "world")
    await start(coord, sid, responder)
    await until(copy_holds(other, sid, "Hello "), "the copy is stored")
    responder.go.set()
    await until(lambda: not failures, "the checkpoint fails")
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid))[1:] == [("assistant", "Hello wide world", False)]
    assert any("could not be checkpointed" in w for w in ctx.warnings)
    await coord.shutdown()


async def test_a_backend_without_the_capability_is_not_checkpointed(
    ctx: AppContext, other: SessionManager
) -> None:
    """A store that cannot rewrite a message in place gets no copies; the reply is stored
    when it ends, as ever."""

    class Plain:
        """The store with its ``replace_last`` hidden."""

        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, attr: str) -> Any:
            if attr == "replace_last":
                raise AttributeError(attr)
            return getattr(self._inner, attr)

    sid = asked(ctx)
    ctx.manager.backend = Plain(ctx.manager.backend)  # type: ignore[assignment]
    coord = coordinator(ctx)
    responder = Staged("Hello ", "world")
    await start(coord, sid, responder)
    await asyncio.sleep(0.1)
    assert contents(other.get(sid)) == [("user", "question", False)]
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid))[1:] == [("assistant", "Hello world", False)]
    ctx.manager.backend = ctx.manager.backend._inner  # type: ignore[attr-defined]
    await coord.shutdown()


async def test_another_writer_before_the_first_checkpoint(
    ctx: AppContext, other: SessionManager
) -> None:
    """A message another process appends before any text streamed comes first; the copy is
    stored after it, left out of memory by the sync (which shows the other message), and the
    reply takes the copy's place."""
    sid = asked(ctx)
    coord = coordinator(ctx)
    responder = Staged("", "Hello ", "world")  # nothing to checkpoint until "Hello "
    live = await start(coord, sid, responder)
    await asyncio.sleep(0.1)
    other.append(sid, Message(role="user", content="from elsewhere"))
    responder.go.set()
    await until(copy_holds(other, sid, "Hello "), "the copy is stored")
    await coord.refresh()
    assert [m.content for m in live.history] == ["question", "from elsewhere"]
    responder.go.set()
    await coord.wait_idle(sid)
    assert contents(other.get(sid)) == [
        ("user", "question", False),
        ("user", "from elsewhere", False),
        ("assistant", "Hello world", False),
    ]
    assert live.history == other.get(sid).history
    await coord.shutdown()
