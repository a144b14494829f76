"""The reply buffer's cap limits what is shown while a reply streams, never what is stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from prompt_sessions import hookimpl
from prompt_sessions.context import AppContext
from prompt_sessions.errors import ResponderError
from prompt_sessions.plugins import PluginHost
from prompt_sessions.responders import ReplyEnd, ReplyRequest
from prompt_sessions.runtime.buffer import ReplyBuffer
from prompt_sessions.runtime.coordinator import Coordinator
from prompt_sessions.runtime.status import Status

LONG = "".join(f"chunk {n:03d} of a long reply. " for n in range(40))  # 1,000 bytes


class ScriptedResponder:
    """Streams LONG in 25-byte chunks; then ends, waits, or fails as ``mode`` says.

    mode: "end" (a whole reply), "wait" (hangs before its end, to be cancelled), "fail" (a
    permanent error after the text), "flaky" (a transient error after the text on the first try
    only, then a whole reply).
    """

    name = "scripted"

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.tries = 0
        self.streamed = asyncio.Event()

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
        self.tries += 1
        prefix = f"try {self.tries}: " if self.mode == "flaky" else ""
        text = prefix + LONG
        for start in range(0, len(text), 25):
            yield text[start : start + 25]
        self.streamed.set()
        if self.mode == "wait":
            await asyncio.Event().wait()
        if self.mode == "fail" or (self.mode == "flaky" and self.tries == 1):
            raise ResponderError("the line dropped", transient=self.mode == "flaky")
        yield ReplyEnd(model="scripted")


class ScriptedPlugin:
    def __init__(self, responder: ScriptedResponder) -> None:
        self.responder = responder

    @hookimpl
    def register_responders(self, register):  # type: ignore[no-untyped-def]
        register("scripted", lambda options: self.responder)


@pytest.fixture(params=["json", "sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def open_coord(
    tmp_path: Path, backend: str, responder: ScriptedResponder
) -> tuple[AppContext, Coordinator]:
    """A runtime on a fresh store of ``backend`` with a 60-byte reply buffer."""
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text(
        'responder = "scripted"\n[runtime]\nbuffer_limit_bytes = 60\nretry_base_ms = 0\n'
        f'[storage]\nbackend = "{backend}"\n'
    )
    host = PluginHost.create(entry_points=False, plugins=[ScriptedPlugin(responder)])
    ctx = AppContext.open(root, host=host)
    assert ctx.manager.backend.name == backend
    return ctx, Coordinator(ctx)


async def test_a_reply_longer_than_the_buffer_is_stored_whole(tmp_path: Path, backend: str) -> None:
    """With buffer_limit_bytes = 60, a 1,000-byte reply is stored whole, with no dropped_bytes
    note (on both backends)."""
    ctx, coord = open_coord(tmp_path, backend, ScriptedResponder("end"))
    s = ctx.manager.create("po")
    await coord.send(s.id, "go")
    await coord.wait_idle()
    reply = ctx.manager.get(s.id).history[-1]
    assert reply.content == LONG
    assert reply.metadata is None and reply.incomplete is None
    await coord.shutdown()
    ctx.manager.close()


async def test_the_display_still_shows_only_the_newest_bytes(tmp_path: Path, backend: str) -> None:
    """While it streams, the buffer a frontend reads holds at most 60 bytes, the newest ones."""
    responder = ScriptedResponder("wait")
    ctx, coord = open_coord(tmp_path, backend, responder)
    s = ctx.manager.create("po")
    await coord.send(s.id, "go")
    await responder.streamed.wait()
    live = coord.get(s.id)
    assert len(live.buffer.encode()) <= 60 and LONG.endswith(live.buffer)
    assert live.buffer_dropped_bytes == len(LONG) - len(live.buffer)
    coord.cancel(s.id)
    await coord.wait_idle()
    await coord.shutdown()
    ctx.manager.close()


async def test_a_cancelled_reply_is_stored_whole_and_incomplete(
    tmp_path: Path, backend: str
) -> None:
    """Cancelling a reply past the buffer cap stores all of its text, marked incomplete."""
    responder = ScriptedResponder("wait")
    ctx, coord = open_coord(tmp_path, backend, responder)
    s = ctx.manager.create("po")
    await coord.send(s.id, "go")
    await responder.streamed.wait()
    assert coord.cancel(s.id)
    await coord.wait_idle()
    reply = ctx.manager.get(s.id).history[-1]
    assert reply.content == LONG and reply.incomplete is True and reply.metadata is None
    await coord.shutdown()
    ctx.manager.close()


async def test_a_failed_reply_is_stored_whole_and_incomplete(tmp_path: Path, backend: str) -> None:
    """A responder failing after 1,000 bytes leaves all of them stored, marked incomplete."""
    ctx, coord = open_coord(tmp_path, backend, ScriptedResponder("fail"))
    s = ctx.manager.create("po")
    await coord.send(s.id, "go")
    await coord.wait_idle()
    assert coord.get(s.id).status is Status.ERROR
    reply = ctx.manager.get(s.id).history[-1]
    assert reply.content == LONG and reply.incomplete is True and reply.metadata is None
    await coord.shutdown()
    ctx.manager.close()


async def test_a_retried_reply_stores_only_the_last_try_whole(tmp_path: Path, backend: str) -> None:
    """After a transient failure the retry's reply is stored whole, without the first try's
    text."""
    responder = ScriptedResponder("flaky")
    ctx, coord = open_coord(tmp_path, backend, responder)
    s = ctx.manager.create("po")
    await coord.send(s.id, "go")
    await coord.wait_idle()
    history = ctx.manager.get(s.id).history
    assert responder.tries == 2
    assert [m.content for m in history] == ["go", "try 2: " + LONG]
    assert history[-1].incomplete is None
    await coord.shutdown()
    ctx.manager.close()


def test_buffer_keeps_the_whole_text_and_shows_the_newest() -> None:
    """ReplyBuffer: ``text`` is capped to the newest bytes, ``whole`` holds every chunk, and
    clear() empties both."""
    buffer = ReplyBuffer(4)
    for part in ("ab", "cd", "ef"):
        buffer.add(part)
    assert buffer.text == "cdef" and buffer.whole == "abcdef" and buffer.dropped_bytes == 2
    buffer.add("g")
    assert buffer.text == "defg" and buffer.whole == "abcdefg"
    buffer.clear()
    assert buffer.text == "" and buffer.whole == "" and not buffer
