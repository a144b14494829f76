"""One turn run by ``run_reply`` with a given responder: what is stored when the stream ends,
fails part-way or is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from prompt_sessions.context import AppContext
from prompt_sessions.errors import ResponderError
from prompt_sessions.models import Message, Usage
from prompt_sessions.plugins import PluginHost
from prompt_sessions.reply import run_reply
from prompt_sessions.responders import ReplyEnd, ReplyRequest


class Scripted:
    """A responder that yields the given items, then raises ``fail`` if one is given."""

    name = "scripted"

    def __init__(self, *items: str | ReplyEnd, fail: BaseException | None = None) -> None:
        self.items = items
        self.fail = fail
        self.requests: list[ReplyRequest] = []

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
        self.requests.append(request)
        for item in self.items:
            await asyncio.sleep(0)
            yield item
        if self.fail is not None:
            raise self.fail


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = AppContext.open(
        tmp_path / ".prompt_objects", host=PluginHost.create(entry_points=False)
    )
    yield context
    context.manager.close()


def _asked(ctx: AppContext) -> str:
    session = ctx.manager.create("coordinator", "Turn")
    ctx.manager.append(session.id, Message(role="user", content="question"))
    return session.id


def test_a_given_responder_is_used_and_its_reply_stored_whole(ctx: AppContext) -> None:
    """Chunks are joined (empty ones ignored), and the end's model and usage are stored."""
    sid = _asked(ctx)
    responder = Scripted(
        "Hel", "", "lo", ReplyEnd(model="scripted-1", usage=Usage(input_tokens=3, output_tokens=2))
    )
    reply = asyncio.run(run_reply(ctx, sid, responder=responder))
    assert [r.last_user_message.content for r in responder.requests] == ["question"]  # type: ignore[union-attr]
    stored = ctx.manager.get(sid).history[-1]
    assert stored == reply
    assert (stored.role, stored.content, stored.model, stored.incomplete) == (
        "assistant",
        "Hello",
        "scripted-1",
        None,
    )
    assert stored.usage == Usage(input_tokens=3, output_tokens=2)


def test_a_responder_failing_part_way_keeps_the_text_as_incomplete(ctx: AppContext) -> None:
    """A bug in a responder after some text: the text is stored as incomplete, and the failure
    is a ResponderError naming the responder."""
    sid = _asked(ctx)
    chunks: list[str] = []
    responder = Scripted("half an ", "answer", fail=KeyError("gone"))
    with pytest.raises(
        ResponderError, match="responder 'scripted' failed: KeyError: 'gone'"
    ) as caught:
        asyncio.run(run_reply(ctx, sid, responder=responder, on_chunk=chunks.append))
    assert not caught.value.transient
    assert chunks == ["half an ", "answer"]
    stored = ctx.manager.get(sid).history[-1]
    assert (stored.content, stored.incomplete) == ("half an answer", True)


def test_a_transient_error_is_retried_then_reported_and_stores_nothing(ctx: AppContext) -> None:
    """run_reply is the runtime's loop: a transient error is retried ([runtime] retry_attempts,
    3 by default), then its message reaches the caller; nothing is stored."""
    ctx.config["runtime"] = {"retry_base_ms": 1}
    sid = _asked(ctx)
    responder = Scripted(fail=ResponderError("rate limited", transient=True))
    with pytest.raises(ResponderError, match="^rate limited$"):
        asyncio.run(run_reply(ctx, sid, responder=responder))
    assert len(responder.requests) == 4
    assert [m.role for m in ctx.manager.get(sid).history] == ["user"]


def test_a_cancelled_reply_keeps_what_arrived(ctx: AppContext) -> None:
    """Cancelling the turn stores the text so far as incomplete and lets the cancellation through."""
    sid = _asked(ctx)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(
            run_reply(ctx, sid, responder=Scripted("so far", fail=asyncio.CancelledError()))
        )
    stored = ctx.manager.get(sid).history[-1]
    assert (stored.content, stored.incomplete) == ("so far", True)
