"""An llm plugin for tests: models registered through llm's own ``register_models`` hook.

``fake`` (async, with a sync twin) and ``fake-sync`` (sync only) play the turns queued in
:data:`SCRIPT` and record every prompt they get in :data:`PROMPTS`. A turn is a dict with
``chunks`` (text pieces), ``delay`` (seconds before each), ``fail`` (an exception raised after
the chunks), ``tool_calls`` (``[(name, arguments)]``) and ``usage`` (``(input, output,
details)``). With nothing queued a model answers "fake: <last user text>".
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import llm

SCRIPT: list[dict[str, Any]] = []
PROMPTS: list[Any] = []


class RateLimited(Exception):
    """Looks like a provider SDK's rate-limit error: it carries the HTTP status."""

    status_code = 429


def _turn(prompt: Any) -> dict[str, Any]:
    PROMPTS.append(prompt)
    if SCRIPT:
        return SCRIPT.pop(0)
    last = prompt.messages[-1]
    text = "".join(
        getattr(part, "text", None) or getattr(part, "output", "") for part in last.parts
    )
    return {"chunks": ["fake: ", text]}


def _finish(turn: dict[str, Any], response: Any) -> None:
    for n, (name, arguments) in enumerate(turn.get("tool_calls") or []):
        response.add_tool_call(llm.ToolCall(name=name, arguments=arguments, tool_call_id=f"t{n}"))
    given = turn.get("usage")
    if given:
        response.set_usage(input=given[0], output=given[1], details=given[2])


class FakeOptions(llm.Options):
    temperature: float | None = None


class Fake(llm.Model):
    model_id = "fake"
    can_stream = True
    supports_tools = True
    Options = FakeOptions

    def execute(self, prompt, stream, response, conversation):  # type: ignore[no-untyped-def]
        turn = _turn(prompt)
        for chunk in turn.get("chunks", []):
            time.sleep(turn.get("delay", 0))
            yield chunk
        if turn.get("fail"):
            raise turn["fail"]
        _finish(turn, response)


class FakeAsync(llm.AsyncModel):
    model_id = "fake"
    can_stream = True
    supports_tools = True
    Options = FakeOptions

    async def execute(self, prompt, stream, response, conversation):  # type: ignore[no-untyped-def]
        turn = _turn(prompt)
        for chunk in turn.get("chunks", []):
            await asyncio.sleep(turn.get("delay", 0))
            yield chunk
        if turn.get("fail"):
            raise turn["fail"]
        _finish(turn, response)


class FakeSync(Fake):
    model_id = "fake-sync"


@llm.hookimpl
def register_models(register):  # type: ignore[no-untyped-def]
    register(Fake(), FakeAsync(), aliases=("fake-alias",))
    register(FakeSync())
