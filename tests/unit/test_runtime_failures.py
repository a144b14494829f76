"""Failure handling: retries with backoff, errors that stay in their own session, cancellation,
and replies cut short that are stored as incomplete without touching earlier history."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from prompt_sessions import hookimpl
from prompt_sessions.context import AppContext
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.responders import ReplyEnd, ReplyRequest
from prompt_sessions.runtime import Coordinator, RetryPolicy, Status
from prompt_sessions.runtime.events import (
    ChunkReceived,
    ReplyCancelled,
    ReplyFailed,
    ReplyFinished,
    RuntimeEvent,
    StatusChanged,
)

FAST = "[responders.echo]\nchunk_delay_ms = 0\n"
LONG_TEXT = "one two three four five six seven eight nine ten eleven twelve"
LONG_REPLY = f"You said: {LONG_TEXT}"
PATIENCE = 15.0  # bounds a hang; nothing here measures speed


class BrokenResponder:
    name = "broken"

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
        yield "about to "
        raise ValueError("a bug in the responder")


class WordyResponder:
    """Fails with an exception whose text runs over many lines, as a server's reply may."""

    name = "wordy"

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
        raise ValueError("the server said no\n<html>\n<body>502</body>\n</html>")
        yield ""  # an async generator, as responders are


class BrokenPlugin:
    @hookimpl
    def register_responders(self, register):  # type: ignore[no-untyped-def]
        register("broken", lambda options: BrokenResponder())
        register("wordy", lambda options: WordyResponder())


class RecordingPolicy(RetryPolicy):
    """The real policy, remembering each wait it chose."""

    def delay(self, attempt: int) -> float:
        wait = super().delay(attempt)
        self.waits.append((attempt, wait))
        return wait


def open_ctx(root: Path, config: str = FAST, objects: dict[str, str] | None = None) -> AppContext:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(config)
    for name, front in (objects or {}).items():
        (root / "objects").mkdir(exist_ok=True)
        (root / "objects" / f"{name}.md").write_text(f"---\n{front}\n---\nYou are {name}.\n")
    host = PluginHost.create(entry_points=False, plugins=[BrokenPlugin()])
    return AppContext.open(root, host=host)


def record(coord: Coordinator) -> list[RuntimeEvent]:
    events: list[RuntimeEvent] = []
    coord.subscribe(events.append)
    return events


def statuses(events: list[RuntimeEvent], sid: str) -> list[tuple[Status, int]]:
    return [
        (e.status, e.retry_attempt)
        for e in events
        if isinstance(e, StatusChanged) and e.session_id == sid
    ]


async def test_transient_errors_are_retried_with_growing_backoff_then_succeed(root: Path) -> None:
    """Two transient failures: the session shows RETRYING (1) then (2), waits base then 2x base,
    and the third attempt's reply is stored once."""
    ctx = open_ctx(root, FAST + "fail_times = 2\n")
    policy = RecordingPolicy(attempts=3, base_ms=2, max_ms=100, jitter=0)
    policy.waits = []
    coord = Coordinator(ctx, retry=policy)
    s = ctx.manager.create("po")
    events = record(coord)
    await coord.send(s.id, "hello")
    await coord.wait_idle()
    assert statuses(events, s.id) == [
        (Status.STREAMING, 0),
        (Status.RETRYING, 1),
        (Status.STREAMING, 1),
        (Status.RETRYING, 2),
        (Status.STREAMING, 2),
        (Status.IDLE, 2),
    ]
    assert policy.waits == [(1, 0.002), (2, 0.004)]
    assert [m.content for m in ctx.manager.get(s.id).history] == ["hello", "You said: hello"]
    assert not any(isinstance(e, ReplyFailed) for e in events)
    await coord.shutdown()
    ctx.manager.close()


async def test_retry_settings_come_from_config(root: Path) -> None:
    """[runtime] retry_* keys build the coordinator's policy."""
    ctx = open_ctx(
        root, FAST + "[runtime]\nretry_attempts = 7\nretry_base_ms = 3\nretry_jitter = 0\n"
    )
    coord = Coordinator(ctx)
    assert (coord.retry.attempts, coord.retry.base_ms, coord.retry.jitter) == (7, 3.0, 0.0)
    ctx.manager.close()


async def test_a_failure_mid_stream_is_retried_without_keeping_the_broken_attempt(
    root: Path,
) -> None:
    """A transient error after some text: the retry starts the reply afresh, and history holds one
    complete reply, no incomplete fragment."""
    ctx = open_ctx(
        root, FAST + "fail_times = 1\nfail_after_chunks = 2\n[runtime]\nretry_base_ms = 1\n"
    )
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    events = record(coord)
    await coord.send(s.id, LONG_TEXT)
    await coord.wait_idle()
    history = ctx.manager.get(s.id).history
    assert [(m.content, m.incomplete) for m in history] == [(LONG_TEXT, None), (LONG_REPLY, None)]
    finished = [e.message.content for e in events if isinstance(e, ReplyFinished)]
    assert finished == [LONG_REPLY]
    await coord.shutdown()
    ctx.manager.close()


async def test_retries_run_out_and_the_session_shows_the_error(root: Path) -> None:
    """A responder that always fails transiently is tried 1 + retry_attempts times, then ERROR."""
    ctx = open_ctx(
        root, FAST + "fail_always = true\n[runtime]\nretry_attempts = 2\nretry_base_ms = 1\n"
    )
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    events = record(coord)
    await coord.send(s.id, "hello")
    await coord.wait_idle()
    live = coord.get(s.id)
    assert live.status is Status.ERROR
    assert live.error == "echo failed on purpose (call 3)"
    assert [e.status for e in events if isinstance(e, StatusChanged)].count(Status.RETRYING) == 2
    failed = [e for e in events if isinstance(e, ReplyFailed)]
    assert [(f.error, f.partial) for f in failed] == [("echo failed on purpose (call 3)", None)]
    assert [m.role for m in ctx.manager.get(s.id).history] == ["user"]
    await coord.shutdown()
    ctx.manager.close()


async def test_permanent_errors_are_not_retried(root: Path) -> None:
    """A non-transient error goes straight to ERROR; the next message clears it and succeeds."""
    ctx = open_ctx(root, FAST + "fail_times = 1\ntransient = false\n")
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    events = record(coord)
    await coord.send(s.id, "hello")
    await coord.wait_idle()
    assert statuses(events, s.id) == [(Status.STREAMING, 0), (Status.ERROR, 0)]
    await coord.send(s.id, "again")
    assert coord.get(s.id).error is None
    await coord.wait_idle()
    assert coord.get(s.id).status is Status.IDLE
    assert [m.role for m in ctx.manager.get(s.id).history] == ["user", "user", "assistant"]
    await coord.shutdown()
    ctx.manager.close()


async def test_a_failure_stays_in_its_own_session(root: Path) -> None:
    """One PO's responder fails while two others stream: only its session shows ERROR, the others
    finish normally, and only it gets a ReplyFailed."""
    objects = {
        "bad": "fail_always: true\ntransient: false",
        "good": "chunk_delay_ms: 1",
        "fine": "chunk_delay_ms: 1",
    }
    ctx = open_ctx(root, FAST, objects)
    coord = Coordinator(ctx)
    bad, good, fine = (ctx.manager.create(po) for po in ("bad", "good", "fine"))
    events = record(coord)
    for s in (bad, good, fine):
        await coord.send(s.id, f"to {s.po_name}")
    await coord.wait_idle()
    assert coord.get(bad.id).status is Status.ERROR
    assert coord.get(good.id).status is Status.IDLE
    assert coord.get(fine.id).status is Status.IDLE
    assert {e.session_id for e in events if isinstance(e, ReplyFailed)} == {bad.id}
    assert ctx.manager.get(good.id).history[-1].content == "You said: to good"
    assert ctx.manager.get(fine.id).history[-1].content == "You said: to fine"
    await coord.shutdown()
    ctx.manager.close()


async def test_a_failed_reply_keeps_its_partial_text_marked_incomplete(root: Path) -> None:
    """A permanent failure after two chunks stores those chunks with incomplete: true."""
    ctx = open_ctx(
        root, FAST, {"half": "fail_always: true\ntransient: false\nfail_after_chunks: 2"}
    )
    coord = Coordinator(ctx)
    s = ctx.manager.create("half")
    events = record(coord)
    await coord.send(s.id, LONG_TEXT)
    await coord.wait_idle()
    partial = ctx.manager.get(s.id).history[-1]
    assert partial.role == "assistant" and partial.incomplete is True
    assert partial.content == "You said: one two three four "
    failed = next(e for e in events if isinstance(e, ReplyFailed))
    assert failed.partial == partial
    await coord.shutdown()
    ctx.manager.close()


async def test_a_responder_bug_is_reported_as_an_error_of_that_session(root: Path) -> None:
    """An exception that is not a ResponderError is named in the session's error, never raised."""
    ctx = open_ctx(root, 'responder = "broken"\n')
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    await coord.send(s.id, "hello")
    await coord.wait_idle()
    live = coord.get(s.id)
    assert live.status is Status.ERROR
    assert live.error == "responder 'broken' failed: ValueError: a bug in the responder"
    assert ctx.manager.get(s.id).history[-1].content == "about to "
    await coord.shutdown()
    ctx.manager.close()


async def test_a_responder_bug_is_one_line_however_long_its_text(root: Path) -> None:
    """An exception whose text has many lines is reported by its first line only: the error
    is one line wherever it is shown (the CLI's error line, the status bar)."""
    ctx = open_ctx(root, 'responder = "wordy"\n')
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    await coord.send(s.id, "hello")
    await coord.wait_idle()
    assert coord.get(s.id).error == "responder 'wordy' failed: ValueError: the server said no"
    await coord.shutdown()
    ctx.manager.close()


async def test_cancel_mid_stream_keeps_the_partial_reply_after_existing_history(root: Path) -> None:
    """Cancelling after two chunks stores them as an incomplete reply, appended after everything
    the session already held."""
    ctx = open_ctx(root, "[responders.echo]\nchunk_delay_ms = 5\n")
    coord = Coordinator(ctx)
    earlier = [Message(role="user", content="earlier"), Message(role="assistant", content="answer")]
    s = ctx.manager.create("po", history=earlier)
    chunks = 0

    def cancel_after_two(event: RuntimeEvent) -> None:
        nonlocal chunks
        if isinstance(event, ChunkReceived):
            chunks += 1
            if chunks == 2:
                assert coord.cancel(s.id)

    events = record(coord)
    coord.subscribe(cancel_after_two)
    await coord.send(s.id, LONG_TEXT)
    await coord.wait_idle()
    history = ctx.manager.get(s.id).history
    assert [m.content for m in history] == [
        "earlier",
        "answer",
        LONG_TEXT,
        "You said: one two three four ",
    ]
    assert history[-1].incomplete is True
    assert coord.get(s.id).status is Status.IDLE
    assert coord.get(s.id).buffer == ""
    cancelled = [e for e in events if isinstance(e, ReplyCancelled)]
    assert len(cancelled) == 1 and cancelled[0].partial == history[-1]
    assert coord.cancel(s.id) is False  # nothing left to cancel
    await coord.shutdown()
    ctx.manager.close()


async def test_cancel_before_any_text_stores_nothing(root: Path) -> None:
    """A reply cancelled before its first chunk leaves only the user's message."""
    ctx = open_ctx(root, "[responders.echo]\nchunk_delay_ms = 60000\n")
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    events = record(coord)
    await coord.send(s.id, "hello")
    assert coord.cancel(s.id)
    await coord.wait_idle()
    assert [m.role for m in ctx.manager.get(s.id).history] == ["user"]
    assert [e for e in events if isinstance(e, ReplyCancelled)] == [ReplyCancelled(s.id, None)]
    assert await coord.resume(s.id) is True  # the unanswered message can be answered again
    assert coord.cancel(s.id)
    await coord.shutdown()
    ctx.manager.close()


async def test_cancel_during_a_retry_wait_stores_nothing(root: Path) -> None:
    """Cancelling while the session waits to retry ends the reply with nothing stored."""
    ctx = open_ctx(root, FAST + "fail_always = true\n[runtime]\nretry_base_ms = 60000\n")
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    retrying = asyncio.Event()
    coord.subscribe(
        lambda e: (
            retrying.set() if isinstance(e, StatusChanged) and e.status is Status.RETRYING else None
        )
    )
    await coord.send(s.id, "hello")
    await retrying.wait()
    assert coord.get(s.id).status is Status.RETRYING and coord.get(s.id).retry_attempt == 1
    assert coord.cancel(s.id)
    await coord.wait_idle()
    assert coord.get(s.id).status is Status.IDLE
    assert [m.role for m in ctx.manager.get(s.id).history] == ["user"]
    await coord.shutdown()
    ctx.manager.close()


async def test_shutdown_saves_streaming_replies_as_incomplete(root: Path) -> None:
    """Shutting down while a reply streams stores what arrived, marked incomplete, and flushes."""
    ctx = open_ctx(root, "[responders.echo]\nchunk_delay_ms = 20\n")
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    first_chunk = asyncio.Event()
    coord.subscribe(lambda e: first_chunk.set() if isinstance(e, ChunkReceived) else None)
    await coord.send(s.id, LONG_TEXT)
    await first_chunk.wait()
    await coord.shutdown()
    reply = ctx.manager.get(s.id).history[-1]
    assert reply.incomplete is True
    assert reply.content and LONG_REPLY.startswith(reply.content) and reply.content != LONG_REPLY
    assert not (root / "sessions" / "index.journal").exists()  # the catalog was folded at rest
    ctx.manager.close()


async def test_resume_answers_the_last_user_message_only(root: Path) -> None:
    """resume() replies when the session ends with the user's message, and refuses otherwise."""
    ctx = open_ctx(root, FAST + "fail_times = 1\ntransient = false\n")
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    await coord.send(s.id, "hello")
    await coord.wait_idle()
    assert coord.get(s.id).status is Status.ERROR
    assert await coord.resume(s.id) is True
    await coord.wait_idle()
    assert [m.content for m in ctx.manager.get(s.id).history] == ["hello", "You said: hello"]
    assert await coord.resume(s.id) is False
    await coord.shutdown()
    ctx.manager.close()


async def test_a_cancel_during_the_final_write_keeps_the_reply_once(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling while the finished reply is being written: the write completes, the reply is
    in memory and on disk exactly once and complete, and it is reported as finished."""
    ctx = open_ctx(root)
    coord = Coordinator(ctx)
    s = ctx.manager.create("po")
    entered, release = threading.Event(), threading.Event()
    real_append = ctx.manager.append

    def slow_append(session_id: str, message: Message) -> Message:
        if message.role == "assistant":
            entered.set()
            release.wait(PATIENCE)
        return real_append(session_id, message)

    monkeypatch.setattr(ctx.manager, "append", slow_append)
    events = record(coord)
    await coord.send(s.id, "hello")
    assert await asyncio.to_thread(entered.wait, PATIENCE)
    assert coord.cancel(s.id)
    release.set()
    await coord.wait_idle()
    on_disk = ctx.manager.get(s.id).history
    assert [(m.content, m.incomplete) for m in on_disk] == [
        ("hello", None),
        ("You said: hello", None),
    ]
    assert coord.get(s.id).history == on_disk
    assert [type(e).__name__ for e in events if isinstance(e, ReplyFinished | ReplyCancelled)] == [
        "ReplyFinished"
    ]
    assert coord.get(s.id).status is Status.IDLE
    await coord.shutdown()
    ctx.manager.close()


async def test_an_error_survives_unloading_and_reloading(root: Path) -> None:
    """A failed session pushed out of memory keeps its error text, and shows ERROR again when
    it is selected."""
    ctx = open_ctx(
        root, FAST + "fail_always = true\ntransient = false\n[runtime]\nmax_loaded = 1\n"
    )
    coord = Coordinator(ctx)
    a, b = (ctx.manager.create("po", name) for name in "ab")
    await coord.send(a.id, "hello")
    await coord.wait_idle()
    error = coord.get(a.id).error
    assert error and coord.get(a.id).status is Status.ERROR
    coord.show(b.id)
    assert coord.get(a.id).status is Status.UNLOADED and coord.get(a.id).error == error
    coord.show(a.id)
    assert coord.get(a.id).status is Status.ERROR and coord.get(a.id).error == error
    await coord.shutdown()
    ctx.manager.close()
