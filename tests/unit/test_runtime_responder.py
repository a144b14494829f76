"""The responder interface as the runtime uses it, through the configurable ``echo`` responder;
and the runtime's promise to stay free of Textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

from prompt_sessions.default_plugins.echo import EchoResponder
from prompt_sessions.errors import ResponderError
from prompt_sessions.models import Message, Session
from prompt_sessions.objects import bare
from prompt_sessions.responders import ReplyEnd, ReplyRequest


def request(text: str) -> ReplyRequest:
    session = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="t",
        po_name="po",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
        history=[Message(role="user", content=text)],
    )
    return ReplyRequest(po=bare("po"), session=session)


async def collect(responder: EchoResponder, text: str) -> tuple[list[str], ReplyEnd | None]:
    chunks: list[str] = []
    end = None
    async for item in responder.respond(request(text)):
        if isinstance(item, ReplyEnd):
            end = item
        else:
            chunks.append(item)
    return chunks, end


async def test_echo_streams_chunks_then_usage_and_model() -> None:
    """Echo streams its text a few words at a time and ends with the model and token usage."""
    chunks, end = await collect(EchoResponder({"chunk_delay_ms": 0}), "a b c d")
    assert chunks == ["You said: a ", "b c d"]
    assert end is not None and end.model == "echo" and not end.awaiting_input
    assert end.usage is not None and (end.usage.input_tokens, end.usage.output_tokens) == (4, 6)


async def test_echo_fails_n_times_then_succeeds() -> None:
    """fail_times = 2: the first two replies raise a transient ResponderError, the third works."""
    echo = EchoResponder({"chunk_delay_ms": 0, "fail_times": 2})
    for call in (1, 2):
        with pytest.raises(ResponderError, match=f"call {call}") as info:
            await collect(echo, "hi")
        assert info.value.transient
    chunks, _ = await collect(echo, "hi")
    assert "".join(chunks) == "You said: hi"


async def test_echo_can_fail_permanently_part_way() -> None:
    """fail_after_chunks streams that many chunks first; transient = false marks it permanent."""
    echo = EchoResponder(
        {"chunk_delay_ms": 0, "fail_always": True, "fail_after_chunks": 1, "transient": False}
    )
    seen: list[str] = []
    with pytest.raises(ResponderError) as info:
        async for item in echo.respond(request("one two three four five")):
            seen.append(item)  # type: ignore[arg-type]
    assert seen == ["You said: one "]
    assert not info.value.transient


async def test_echo_shorter_than_fail_after_chunks_still_fails() -> None:
    """A failing reply with fewer chunks than fail_after_chunks fails at its end, not silently."""
    echo = EchoResponder({"chunk_delay_ms": 0, "fail_always": True, "fail_after_chunks": 50})
    with pytest.raises(ResponderError):
        await collect(echo, "short")


async def test_echo_can_end_awaiting_input() -> None:
    """awaiting_input = true marks each reply as one that waits for the user's answer."""
    _, end = await collect(EchoResponder({"chunk_delay_ms": 0, "awaiting_input": True}), "q")
    assert end is not None and end.awaiting_input


def test_the_runtime_never_imports_textual() -> None:
    """Importing the runtime (and running its coordinator module) pulls in no Textual module."""
    code = (
        "import sys, prompt_sessions.runtime, prompt_sessions.runtime.events;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
