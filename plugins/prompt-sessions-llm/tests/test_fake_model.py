"""The llm responder in-process with models from a test llm plugin (``fake_model.py``)
registered through llm's own ``register_models`` hook: streaming, options, sync-only models,
cancellation, retries, llm's logs.db, and what the plugin costs commands that do not answer."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import fake_model
import llm
import prompt_sessions_llm
import pytest
from llm_support import write_po

from prompt_sessions.context import AppContext
from prompt_sessions.errors import ResponderError
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.reply import run_reply


@pytest.fixture
def fake_llm(llm_home: Path) -> Iterator[None]:
    """The fake models registered in llm's plugin manager for one test."""
    llm.get_plugins()  # llm loads its own plugins first, once
    llm.plugins.pm.register(fake_model, name="fake_model")
    fake_model.SCRIPT.clear()
    fake_model.PROMPTS.clear()
    yield
    llm.plugins.pm.unregister(name="fake_model")


@pytest.fixture
def env(tmp_path: Path, fake_llm: None) -> Iterator[AppContext]:
    store = tmp_path / ".prompt_objects"
    write_po(store, "helper", "responder: llm\nmodel: fake\n", "Be brief.\n")
    host = PluginHost.create(entry_points=False, plugins=[prompt_sessions_llm])
    ctx = AppContext.open(store, host=host)
    ctx.config["runtime"] = {"retry_base_ms": 1}
    yield ctx
    ctx.manager.close()


def ask(ctx: AppContext, text: str, po: str = "helper") -> str:
    session = ctx.manager.current(po)
    ctx.manager.append(session.id, Message(role="user", content=text))
    return session.id


def test_chunks_stream_as_the_model_yields_them(env: AppContext) -> None:
    """Each chunk of the model reaches on_chunk as it comes; the reply is stored whole with
    the model id, and usage with cached tokens from the provider's details."""
    fake_model.SCRIPT.append(
        {"chunks": ["one ", "two ", "three"], "usage": (7, 3, {"cache_read_input_tokens": 5})}
    )
    sid = ask(env, "count")
    seen: list[str] = []
    reply = asyncio.run(run_reply(env, sid, on_chunk=seen.append))
    assert seen == ["one ", "two ", "three"]
    assert (reply.content, reply.model) == ("one two three", "fake")
    assert reply.usage is not None
    assert (reply.usage.input_tokens, reply.usage.output_tokens, reply.usage.cached_tokens) == (
        7,
        3,
        5,
    )


def test_the_system_prompt_history_and_options_reach_the_model(env: AppContext) -> None:
    """The PO body is the system message, the history follows in order, and front matter
    ``options:`` arrive as the model's llm options."""
    write_po(
        env.root, "helper", "responder: llm\nmodel: fake-alias\noptions:\n  temperature: 0.5\n"
    )
    env._objects = None
    sid = ask(env, "first")
    asyncio.run(run_reply(env, sid))
    env.manager.append(sid, Message(role="user", content="second"))
    asyncio.run(run_reply(env, sid))
    prompt = fake_model.PROMPTS[-1]
    roles = [(m.role, "".join(p.text for p in m.parts)) for m in prompt.messages]
    assert roles == [("user", "first"), ("assistant", "fake: first"), ("user", "second")]
    assert prompt.options.temperature == 0.5


def test_a_sync_only_model_streams_from_a_thread(env: AppContext) -> None:
    """A model without an async twin runs in a worker thread; its chunks still stream."""
    write_po(env.root, "helper", "responder: llm\nmodel: fake-sync\n", "Be brief.\n")
    env._objects = None
    fake_model.SCRIPT.append({"chunks": ["a", "b"]})
    sid = ask(env, "go")
    seen: list[str] = []
    reply = asyncio.run(run_reply(env, sid, on_chunk=seen.append))
    assert (seen, reply.content, reply.model) == (["a", "b"], "ab", "fake-sync")
    system = fake_model.PROMPTS[-1].messages[0]
    assert (system.role, system.parts[0].text) == ("system", "Be brief.")


@pytest.mark.parametrize("model", ["fake", "fake-sync"])
def test_cancelling_keeps_the_partial_reply_as_incomplete(env: AppContext, model: str) -> None:
    """A reply cancelled mid-stream keeps the text that arrived, marked incomplete."""
    write_po(env.root, "helper", f"responder: llm\nmodel: {model}\n")
    env._objects = None
    fake_model.SCRIPT.append({"chunks": ["early ", "late"], "delay": 0.3})
    sid = ask(env, "go")

    async def cancel_after_first_chunk() -> None:
        task = asyncio.ensure_future(run_reply(env, sid, on_chunk=lambda _: task.cancel()))
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_after_first_chunk())
    last = env.manager.get(sid).history[-1]
    assert (last.role, last.content, last.incomplete) == ("assistant", "early ", True)


def test_a_rate_limited_model_is_retried(env: AppContext) -> None:
    """An error carrying HTTP status 429 is transient: the runtime retries and the retry wins."""
    fake_model.SCRIPT.append({"chunks": [], "fail": fake_model.RateLimited("slow down")})
    sid = ask(env, "hello")
    reply = asyncio.run(run_reply(env, sid))
    assert reply.content == "fake: hello"
    assert len(fake_model.PROMPTS) == 2


def test_a_model_error_is_one_permanent_line(env: AppContext) -> None:
    """Any other model error fails the reply at once with one line naming the model."""
    fake_model.SCRIPT.append({"chunks": [], "fail": ValueError("bad request\nmore detail")})
    sid = ask(env, "hello")
    with pytest.raises(ResponderError, match=r"^model 'fake': ValueError: bad request$"):
        asyncio.run(run_reply(env, sid))
    assert len(fake_model.PROMPTS) == 1


def test_an_unknown_option_is_one_line(env: AppContext) -> None:
    """An option the model does not take is refused in one line naming it."""
    write_po(env.root, "helper", "responder: llm\nmodel: fake\noptions:\n  colour: blue\n")
    env._objects = None
    sid = ask(env, "hello")
    with pytest.raises(ResponderError, match=r"model 'fake': invalid options: colour"):
        asyncio.run(run_reply(env, sid))


def test_logs_db_is_written_only_when_asked(env: AppContext, llm_home: Path) -> None:
    """llm's logs.db stays untouched by default; with ``log = true`` the reply is logged."""
    sid = ask(env, "hello")
    asyncio.run(run_reply(env, sid))
    assert not (llm_home / "logs.db").exists()
    env.config["responders"] = {"llm": {"log": True}}
    env.manager.append(sid, Message(role="user", content="again"))
    asyncio.run(run_reply(env, sid))
    import sqlite_utils

    db = sqlite_utils.Database(llm_home / "logs.db")
    texts = [str(row) for table in db.tables for row in table.rows]
    assert any("fake: again" in text for text in texts)


def test_tool_calls_round_trip_through_the_model(env: AppContext) -> None:
    """The model calls a PO tool; the tool turn goes back as llm tool messages (call and
    result paired by id) and the final answer is stored after them."""
    write_po(env.root, "helper", "responder: llm\nmodel: fake\ncapabilities: [checker]\n")
    write_po(env.root, "checker", "description: Checks things\n")  # answers with echo
    env._objects = None
    fake_model.SCRIPT.append(
        {"chunks": ["Let me ask. "], "tool_calls": [("checker", {"message": "ok?"})]}
    )
    sid = ask(env, "is it ok")
    reply = asyncio.run(run_reply(env, sid))
    assert reply.content == "fake: You said: ok?"
    sent = fake_model.PROMPTS[-1].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool"]
    call = sent[1].parts[1]
    result = sent[2].parts[0]
    assert (call.name, call.arguments, call.tool_call_id) == ("checker", {"message": "ok?"}, "t0")
    assert (result.name, result.output, result.tool_call_id) == ("checker", "You said: ok?", "t0")
    history = env.manager.get(sid).history
    assert [m.role for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[1].content == "Let me ask. "


def test_a_key_in_front_matter_is_refused(env: AppContext) -> None:
    """A key in a PO file is refused like one in config.toml, without showing it."""
    write_po(env.root, "helper", "responder: llm\nmodel: fake\napi_key: sk-123\n")
    env._objects = None
    with pytest.raises(ResponderError, match="llm keys set") as caught:
        prompt_sessions_llm.LlmResponder(env.prompt_object("helper").options)
    assert "sk-123" not in str(caught.value)


def test_listing_sessions_does_not_import_llm(tmp_path: Path) -> None:
    """`prompt-sessions list` with the plugin installed never imports llm."""
    code = (
        "import sys\n"
        "from prompt_sessions.cli import main\n"
        "try:\n"
        f"    main(['--dir', {str(tmp_path)!r}, 'list', '--json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LLM' if 'llm' in sys.modules else 'CLEAN', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stderr.strip().splitlines()[-1] == "CLEAN"


def test_twenty_replies_starting_at_once_all_find_their_model(llm_home: Path) -> None:
    """llm loads its plugins on first use without a lock; twenty replies (and session titles,
    which look up their model the same way) resolving it in threads at the same moment, in a
    fresh process, all find it (none says "unknown")."""
    (llm_home / "extra-openai-models.yaml").write_text(
        "- model_id: local\n  model_name: local\n  api_base: http://127.0.0.1:9/v1\n"
    )
    code = (
        "import threading\n"
        "from prompt_sessions_llm.responder import LlmResponder, sync_model\n"
        "barrier = threading.Barrier(20)\n"
        "errors = []\n"
        "def work(n):\n"
        "    responder = LlmResponder({'model': 'local'})\n"
        "    barrier.wait()\n"
        "    try:\n"
        "        responder.resolve() if n % 2 else sync_model('local')\n"
        "    except Exception as exc:\n"
        "        errors.append(str(exc))\n"
        "threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]\n"
        "for t in threads: t.start()\n"
        "for t in threads: t.join()\n"
        "print(len(errors), errors[:1])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "0 []", done.stdout + done.stderr


@pytest.mark.parametrize("model", ["fake", "fake-sync"])
def test_a_silent_model_is_given_up_on_after_the_timeout(env: AppContext, model: str) -> None:
    """A model (async, or sync-only in its thread) that is silent for longer than ``timeout``:
    the attempt is dropped as transient, retried (here once), and the error names the wait."""
    write_po(env.root, "helper", f"responder: llm\nmodel: {model}\ntimeout: 0.2\n")
    env._objects = None
    env.config["runtime"] = {"retry_base_ms": 1, "retry_attempts": 1}
    fake_model.SCRIPT.extend([{"chunks": ["late"], "delay": 1.0}] * 2)
    sid = ask(env, "go")
    with pytest.raises(ResponderError, match=r"nothing came from the model for 0.2 s"):
        asyncio.run(run_reply(env, sid))
    assert len(fake_model.PROMPTS) == 2
