"""The ``llm`` responder (DESIGN section 11).

Options (``[responders.llm]`` in config.toml, overridden by a PO's front matter):

- ``model``: an llm model id or alias (``llm models`` lists them); none: llm's default model.
- ``options``: a table of llm options for the model (``temperature``, ``max_tokens`` ...).
- ``log``: also record each reply in llm's own ``logs.db`` (default false; the session file is
  the truth either way).
- ``chain_limit``: how many rounds of tool calls one reply may make (default 10).
- ``timeout``: seconds to wait for the model's next piece of a reply (default 300); a model
  silent that long counts as a dropped connection: transient, retried with the runtime's policy.
- ``title_model``: a model that names auto-named sessions after their first reply (the
  ``session_title`` hook, in ``title.py``); none: they keep the first message's words.

Keys are llm's business: ``llm keys set NAME`` or the provider's environment variable. A key in
config.toml or front matter is refused when the responder is built. A setting it cannot use
raises ``SettingError``, which the core completes with the file the setting was read from.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from prompt_sessions.errors import ResponderError, SettingError
from prompt_sessions.responders import ReplyEnd, ReplyRequest, ToolCall, ToolCalls

from .convert import as_responder_error, llm_messages, usage_of

logger = logging.getLogger(__name__)
KEY_OPTIONS = ("key", "api_key", "openai_api_key", "anthropic_api_key")
DEFAULT_CHAIN_LIMIT = 10
# A server that accepts the request and then says nothing would hold a reply for the HTTP
# client's own limit (10 minutes, with its retries half an hour); a reply waits this long.
DEFAULT_TIMEOUT = 300.0
# llm loads its plugins on first use, process-wide and without a lock: replies starting at once
# in several threads would each see a half-loaded registry and call a real model unknown.
_RESOLVING = threading.Lock()


def sync_model(name: str) -> Any:
    """llm's synchronous model ``name``, looked up under the same lock as every reply's model
    (llm loads its plugins on first use without one). Raises ``llm.UnknownModelError``."""
    import llm

    with _RESOLVING:
        return llm.get_model(name)


class LlmResponder:
    """Answers through an llm model. One instance serves many replies, even at once."""

    name = "llm"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        options = options or {}
        found = [k for k in KEY_OPTIONS if k in options]
        if found:
            raise SettingError(
                found[0],
                "is never read there: keys belong in llm's key store (`llm keys set NAME`) "
                "or the provider's environment variable",
            )
        model = options.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise SettingError("model", f"must be a model id, not {model!r}")
        self.model_id: str | None = model.strip() if isinstance(model, str) else None
        model_options = options.get("options") or {}
        if not isinstance(model_options, dict):
            raise SettingError("options", "must be a table of option names and values")
        self.model_options: dict[str, Any] = dict(model_options)
        log = options.get("log", False)
        if not isinstance(log, bool):
            raise SettingError("log", f"must be true or false, not {log!r}")
        self.log = log
        limit = options.get("chain_limit", DEFAULT_CHAIN_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise SettingError(
                "chain_limit", f"must be a whole number of tool rounds (0 or more), not {limit!r}"
            )
        self.chain_limit = limit
        timeout = options.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise SettingError("timeout", f"must be a number of seconds above 0, not {timeout!r}")
        self.timeout = float(timeout)
        self._resolved: tuple[Any, bool] | None = None  # llm's plugins are read once

    def check(self) -> None:
        """Raise now, before a message is stored, for a setup that cannot answer: an unknown
        model, a model that needs a key llm does not have, or options the model does not take
        (``responders.check_ready``)."""
        if self._resolved is None:
            self._resolved = self.resolve()
        model = self._resolved[0]
        try:
            model.get_key()
            model.Options(**self.model_options)  # a wrong option or value: said now, not later
        except Exception as exc:
            raise as_responder_error(exc, model.model_id) from exc

    def resolve(self) -> tuple[Any, bool]:
        """The llm model and whether it is async. One-line ResponderError if it is unknown."""
        with _RESOLVING:
            return self._resolve()

    def _resolve(self) -> tuple[Any, bool]:
        import llm

        name = self.model_id or llm.get_default_model()
        try:
            return llm.get_async_model(name), True
        except llm.UnknownModelError:
            pass
        try:
            return llm.get_model(name), False
        except llm.UnknownModelError:
            raise ResponderError(
                f"unknown model '{name}': `llm models` lists the installed ones; "
                "a provider plugin may be missing (`llm install llm-anthropic`, ...)"
            ) from None

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd | ToolCalls]:
        if self._resolved is None:  # loading llm's plugins reads files: off the event loop
            self._resolved = await asyncio.to_thread(self.resolve)
        model, is_async = self._resolved
        model_id = model.model_id
        messages = llm_messages(request)
        tools = _llm_tools(request) if model.supports_tools else []
        for _round in range(self.chain_limit + 1):
            try:
                response = model.prompt(
                    messages=messages, tools=tools or None, options=self.model_options or None
                )
            except Exception as exc:
                raise as_responder_error(exc, model_id) from exc
            text: list[str] = []
            stream = _stream_async(response) if is_async else _stream_sync(response)
            try:
                async for chunk in _with_timeout(stream, self.timeout, model_id):
                    text.append(chunk)
                    yield chunk
            except Exception as exc:
                raise as_responder_error(exc, model_id) from exc
            finally:
                await stream.aclose()
            calls, usage = await _finish(response, is_async)
            resolved = getattr(response, "resolved_model", None) or model_id
            if self.log:
                try:
                    await asyncio.to_thread(_log, response, is_async)
                except Exception as exc:  # a copy for llm's tools: never a reason to lose a reply
                    logger.warning(
                        "llm's logs.db was not written (%s: %s); the reply is stored",
                        type(exc).__name__,
                        exc,
                    )
            if not calls:
                if not "".join(text).strip():  # a body that was no event stream reads the same
                    raise ResponderError(
                        f"model '{model_id}' sent an empty reply (no text and no tool calls)"
                    )
                yield ReplyEnd(model=resolved, usage=usage)
                return
            step = ToolCalls(calls=calls, model=resolved, usage=usage)
            yield step
            if step.results is None:
                raise ResponderError("the model called tools but nothing ran them")
            messages = [*messages, *_tool_turn("".join(text), calls, step)]
        raise ResponderError(f"more than {self.chain_limit} rounds of tool calls in one reply")


def _llm_tools(request: ReplyRequest) -> list[Any]:
    import llm

    return [
        llm.Tool(name=spec.name, description=spec.description, input_schema=spec.parameters)
        for spec in request.tools
    ]


def _tool_turn(text: str, calls: list[ToolCall], step: ToolCalls) -> list[Any]:
    """The assistant message that called the tools and the tool message with their results."""
    from llm.parts import Message, TextPart, ToolCallPart, ToolResultPart

    names = {call.id: call.name for call in calls}
    parts: list[Any] = [TextPart(text=text)] if text else []
    parts += [ToolCallPart(name=c.name, arguments=c.arguments, tool_call_id=c.id) for c in calls]
    results: list[Any] = [
        ToolResultPart(
            name=names.get(r.tool_call_id, ""), output=r.content, tool_call_id=r.tool_call_id
        )
        for r in step.results or []
    ]
    return [Message(role="assistant", parts=parts), Message(role="tool", parts=results)]


async def _with_timeout(
    stream: AsyncGenerator[str, None], seconds: float, model_id: str
) -> AsyncGenerator[str, None]:
    """The stream's chunks; a transient ResponderError when none comes for ``seconds``."""
    while True:
        try:
            chunk = await asyncio.wait_for(anext(stream), seconds)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise ResponderError(
                f"model '{model_id}': nothing came from the model for {seconds:g} s "
                "(`timeout` in the PO's front matter or [responders.llm] waits longer)",
                transient=True,
            ) from None
        yield chunk


async def _stream_async(response: Any) -> AsyncGenerator[str, None]:
    async for chunk in response:
        if chunk:
            yield chunk


async def _stream_sync(response: Any) -> AsyncGenerator[str, None]:
    """A sync-only model streams in a worker thread; chunks cross over through a queue.

    When the reply is cancelled the thread is told to stop at its next chunk (a blocking call
    inside the model cannot be interrupted from here).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()

    def hand_over(kind: str, value: Any) -> None:
        if stop.is_set():
            return
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
        except RuntimeError:  # the event loop is gone: nobody is listening any more
            stop.set()

    def work() -> None:
        try:
            for chunk in response:
                if stop.is_set():
                    break
                hand_over("chunk", chunk)
        except BaseException as exc:  # handed to the event loop, raised there
            hand_over("error", exc)
        else:
            hand_over("done", None)

    worker = threading.Thread(target=work, name="llm sync model", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = await queue.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            if value:
                yield value
    finally:
        stop.set()


async def _finish(response: Any, is_async: bool) -> tuple[list[ToolCall], Any]:
    """The tool calls the response asked for, and its usage."""
    if is_async:
        raw_calls = await response.tool_calls()
        usage = await response.usage()
    else:
        raw_calls = response.tool_calls()
        usage = response.usage()
    calls = [
        ToolCall(id=c.tool_call_id or f"call_{n}", name=c.name, arguments=_arguments(c.arguments))
        for n, c in enumerate(raw_calls, 1)
    ]
    return calls, usage_of(usage.input, usage.output, usage.details)


def _arguments(given: Any) -> dict[str, Any]:
    """A call's arguments as an object. A model may send any JSON (a list, a number): that is
    kept as ``{"input": ...}``, the way stored calls of other shapes are read back, so the tool
    refuses it to the model instead of the reply failing."""
    if isinstance(given, dict):
        return dict(given)
    return {} if given is None else {"input": given}


def _log(response: Any, is_async: bool) -> None:
    """Record a finished response in llm's logs.db, as ``llm`` itself would."""
    import llm
    import sqlite_utils
    from llm.migrations import migrate

    db = sqlite_utils.Database(llm.user_dir() / "logs.db")
    try:
        migrate(db)
        response.log_to_db(db)
    finally:
        db.close()
