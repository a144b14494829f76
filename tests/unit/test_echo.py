"""The echo responder: offline, deterministic, streamed in chunks, with usage and failure switches."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from prompt_sessions.default_plugins.echo import EchoResponder, chunks, echo_text
from prompt_sessions.errors import ResponderError
from prompt_sessions.models import Message, Session
from prompt_sessions.objects import bare
from prompt_sessions.responders import ReplyEnd, ReplyRequest


def request(*texts: tuple[str, str]) -> ReplyRequest:
    history = [Message(role=role, content=text) for role, text in texts]  # type: ignore[arg-type]
    s = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="s",
        po_name="po",
        created_at="2025-01-01T00:00:00Z",
        updated_at="2025-01-01T00:00:00Z",
        history=history,
    )
    return ReplyRequest(po=bare("po"), session=s)


def run(responder: EchoResponder, req: ReplyRequest) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in responder.respond(req)]

    return asyncio.run(collect())


def test_reply_is_deterministic_and_streamed_in_chunks() -> None:
    """The reply echoes the last user message, in several chunks that join to the whole text."""
    req = request(
        ("user", "first"), ("assistant", "x"), ("user", "tell me about the weather today")
    )
    items = run(EchoResponder({"chunk_delay_ms": 0}), req)
    *pieces, end = items
    assert all(isinstance(p, str) for p in pieces) and len(pieces) > 1
    assert "".join(pieces) == echo_text("tell me about the weather today", "po")
    assert "tell me about the weather today" in "".join(pieces)
    assert run(EchoResponder({"chunk_delay_ms": 0}), req)[:-1] == pieces
    assert isinstance(end, ReplyEnd) and end.model == "echo"
    assert end.usage is not None
    assert end.usage.input_tokens == 6
    assert end.usage.output_tokens == len("".join(pieces).split())


def test_no_user_message_still_answers() -> None:
    """With nothing to echo the reply says so instead of failing."""
    items = run(EchoResponder({"chunk_delay_ms": 0}), request())
    assert "(nothing)" in "".join(i for i in items if isinstance(i, str))


def test_chunks_keep_every_character() -> None:
    """Chunking never loses or adds text."""
    text = "a b  c d e f g"
    assert "".join(chunks(text)) == text
    assert chunks("one") == ["one"]


def test_fail_times_then_succeed() -> None:
    """fail_times=N makes the first N replies fail (transient), then replies work."""
    responder = EchoResponder({"chunk_delay_ms": 0, "fail_times": 2})
    req = request(("user", "hi"))
    for _ in range(2):
        with pytest.raises(ResponderError) as info:
            run(responder, req)
        assert info.value.transient
    assert isinstance(run(responder, req)[-1], ReplyEnd)


def test_fail_always() -> None:
    """fail_always makes every reply fail."""
    responder = EchoResponder({"chunk_delay_ms": 0, "fail_always": True})
    for _ in range(3):
        with pytest.raises(ResponderError):
            run(responder, request(("user", "hi")))


def test_registered_as_the_echo_responder() -> None:
    """The built-in plugin registers the echo factory under the name "echo"."""
    from prompt_sessions.plugins import PluginHost

    factory = PluginHost.create(entry_points=False).responder_factory("echo")
    assert isinstance(factory({"chunk_delay_ms": 0}), EchoResponder)
