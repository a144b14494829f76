"""Tools and delegation through the runtime's reply loop (DESIGN section 11): PO tools run the
called PO in its delegation session, plugin tools run as functions, and the rules (cycles,
depth, unknown names, failures, cancellation) hold. Responders here are scripted."""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from prompt_sessions import hookimpl
from prompt_sessions.context import AppContext
from prompt_sessions.delegation import MAX_DEPTH, function_spec, unknown_capabilities
from prompt_sessions.errors import ResponderError
from prompt_sessions.models import Message, Usage
from prompt_sessions.plugins import PluginHost
from prompt_sessions.reply import run_reply
from prompt_sessions.responders import ReplyEnd, ReplyRequest, ToolCall, ToolCalls


class Caller:
    """Calls every offered tool with the last user message (or the options' ``arguments``),
    then answers with what came back; with no tools it answers "leaf: <message>"."""

    name = "caller"

    def __init__(self, options: dict) -> None:
        self.options = options

    def check(self) -> None:
        """A setup that cannot answer (``unready`` in the options), as llm's unknown model."""
        if self.options.get("unready"):
            raise ResponderError(self.options["unready"])

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd | ToolCalls]:
        last = request.last_user_message
        text = last.content if last else ""
        if self.options.get("fail"):
            raise ResponderError(self.options["fail"])
        if self.options.get("slow"):
            yield "working "
            await asyncio.sleep(30)
        if not request.tools:
            yield f"leaf: {text}"
            return
        arguments = self.options.get("arguments") or {"message": text}
        step = ToolCalls(
            [ToolCall(f"c{n}", spec.name, dict(arguments)) for n, spec in enumerate(request.tools)],
            model="caller-1",
            usage=Usage(input_tokens=4, output_tokens=1),
        )
        yield "asking "
        yield step
        assert step.results is not None
        yield " | ".join(result.content for result in step.results)
        yield ReplyEnd(model="caller-1")


def shout(text: str, times: int = 1) -> str:
    """Say it louder."""
    return "!".join([text.upper()] * times)


def broken(text: str) -> str:
    """Always fails."""
    raise RuntimeError("tool broke")


class Plugin:
    @hookimpl
    def register_responders(self, register):  # type: ignore[no-untyped-def]
        register("caller", Caller)

    @hookimpl
    def register_tools(self, register):  # type: ignore[no-untyped-def]
        register("shout", shout)
        register("broken", broken)


def write_po(root: Path, name: str, front: str = "") -> None:
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)  # private, as the store makes its folder (doctor reports it otherwise)
    folder = root / "objects"
    folder.mkdir(exist_ok=True)
    text = f"---\nname: {name}\nresponder: caller\ndescription: The {name}\n{front}---\n"
    (folder / f"{name}.md").write_text(text, encoding="utf-8")


@pytest.fixture
def ctx(root: Path) -> Iterator[AppContext]:
    context = AppContext.open(root, host=PluginHost.create(entry_points=False, plugins=[Plugin()]))
    context.config["runtime"] = {"retry_base_ms": 1}
    yield context
    context.manager.close()


def ask(ctx: AppContext, po: str, text: str) -> tuple[str, Message]:
    ctx._objects = None
    session = ctx.manager.current(po)
    ctx.manager.append(session.id, Message(role="user", content=text))
    return session.id, asyncio.run(run_reply(ctx, session.id))


def delegations(ctx: AppContext, po: str) -> list[str]:
    return [s.id for s in ctx.manager.list(po) if s.thread_type == "delegation"]


def test_a_po_tool_runs_the_called_po_in_its_delegation_session(ctx: AppContext) -> None:
    """The caller's session holds the call, the result and the final reply; the called PO's
    delegation session points back at the assistant message that called it, and is reused by
    the next call from the same session."""
    write_po(ctx.root, "boss", "capabilities: [worker]\n")
    write_po(ctx.root, "worker")
    sid, reply = ask(ctx, "boss", "dig")
    assert reply.content == "leaf: dig"
    history = ctx.manager.get(sid).history
    assert [m.role for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[1].content == "asking "
    assert history[1].tool_calls == [
        {"id": "c0", "name": "worker", "arguments": {"message": "dig"}}
    ]
    assert (history[1].model, history[1].usage) == (
        "caller-1",
        Usage(input_tokens=4, output_tokens=1),
    )
    assert history[2].tool_results == [{"tool_call_id": "c0", "content": "leaf: dig"}]
    (child_id,) = delegations(ctx, "worker")
    child = ctx.manager.get(child_id)
    assert (child.parent_id, child.parent_message_index, child.source) == (sid, 1, "delegation")
    assert [(m.role, m.from_po, m.source) for m in child.history] == [
        ("user", "boss", "delegation"),
        ("assistant", None, None),
    ]
    ask(ctx, "boss", "again")
    assert delegations(ctx, "worker") == [child_id]
    assert len(ctx.manager.get(child_id).history) == 4


def test_delegations_nest_and_a_cycle_is_refused_as_a_tool_error(ctx: AppContext) -> None:
    """a -> b -> a: the inner call back to a is refused as a tool error naming the path, b
    answers with it, and a's reply still completes."""
    write_po(ctx.root, "a", "capabilities: [b]\n")
    write_po(ctx.root, "b", "capabilities: [a]\n")
    sid, reply = ask(ctx, "a", "loop")
    assert reply.content == "Error: refused: a -> b -> a is a cycle"
    (b_session,) = delegations(ctx, "b")
    b_history = ctx.manager.get(b_session).history
    assert b_history[2].tool_results == [
        {"tool_call_id": "c0", "content": "Error: refused: a -> b -> a is a cycle"}
    ]
    assert delegations(ctx, "a") == []


def test_delegation_depth_is_limited(ctx: AppContext) -> None:
    """A chain of POs each calling the next stops after MAX_DEPTH nested delegations."""
    names = [f"p{n}" for n in range(MAX_DEPTH + 2)]
    for name, following in zip(names, names[1:], strict=False):
        write_po(ctx.root, name, f"capabilities: [{following}]\n")
    write_po(ctx.root, names[-1])
    _, reply = ask(ctx, "p0", "deep")
    assert reply.content == f"Error: refused: delegations may nest at most {MAX_DEPTH} deep"
    reached = [name for name in names if delegations(ctx, name)]
    assert reached == names[1 : MAX_DEPTH + 1]


def test_plugin_tools_run_as_functions(ctx: AppContext) -> None:
    """A capability naming a registered tool calls the function with the model's arguments;
    what it raises goes back to the model as a tool error."""
    write_po(ctx.root, "boss", "capabilities: [shout, broken]\narguments: {text: hey}\n")
    _, reply = ask(ctx, "boss", "go")
    assert reply.content == "HEY | Error: RuntimeError: tool broke"


def test_unknown_capabilities_are_skipped_with_a_warning(ctx: AppContext) -> None:
    """A capability that is neither a PO nor a tool is left out of the tools, warned about,
    and listed by unknown_capabilities (what doctor reports)."""
    write_po(ctx.root, "boss", "capabilities: [nowhere, shout]\narguments: {text: hi}\n")
    _, reply = ask(ctx, "boss", "go")
    assert reply.content == "HI"
    assert any("capability 'nowhere'" in w for w in ctx.warnings)
    assert unknown_capabilities(ctx) == [
        ("boss", "capability 'nowhere' is neither a PO nor a tool")
    ]


def test_a_failing_delegate_is_a_tool_error(ctx: AppContext) -> None:
    """The called PO's failure reaches the caller's model as a tool error, not a crash."""
    write_po(ctx.root, "boss", "capabilities: [worker]\n")
    write_po(ctx.root, "worker", "fail: no luck\n")
    _, reply = ask(ctx, "boss", "dig")
    assert reply.content == "Error: worker failed: no luck"


def test_a_delegate_that_cannot_answer_stores_nothing(ctx: AppContext) -> None:
    """A called PO whose setup cannot answer (an unknown model, a missing key) is a tool error
    naming why, and no delegation session is left holding a message without its reply."""
    write_po(ctx.root, "boss", "capabilities: [worker]\n")
    write_po(ctx.root, "worker", "unready: unknown model 'nope'\n")
    _, reply = ask(ctx, "boss", "dig")
    assert reply.content == "Error: worker cannot answer: unknown model 'nope'"
    assert ctx.manager.list("worker") == []


def test_cancelling_the_caller_cancels_the_delegate(ctx: AppContext) -> None:
    """Cancelling a reply that waits on a delegation cancels the delegation too; the text each
    had streamed is kept as incomplete."""
    write_po(ctx.root, "boss", "capabilities: [worker]\n")
    write_po(ctx.root, "worker", "slow: true\n")
    ctx._objects = None
    session = ctx.manager.current("boss")
    ctx.manager.append(session.id, Message(role="user", content="dig"))

    async def run_then_cancel() -> None:
        task = asyncio.ensure_future(run_reply(ctx, session.id))
        while (
            not delegations(ctx, "worker")
            or len(ctx.manager.get(delegations(ctx, "worker")[0]).history) < 1
        ):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_then_cancel())
    (child_id,) = delegations(ctx, "worker")
    child = ctx.manager.get(child_id).history
    assert (child[-1].content, child[-1].incomplete) == ("working ", True)
    assert [m.role for m in ctx.manager.get(session.id).history] == ["user", "assistant"]


def test_function_specs_follow_annotations_and_defaults() -> None:
    """A tool's schema comes from its annotations; parameters without defaults are required."""

    def f(name: str, count: int, ratio: float | None = None, flags: list | None = None) -> str:
        """Do f."""
        return name

    spec = function_spec("f", f)
    assert spec.description == "Do f."
    assert spec.parameters == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer"},
            "ratio": {"type": "number"},
            "flags": {"type": "array"},
        },
        "required": ["name", "count"],
    }


def test_doctor_reports_unknown_capabilities(run) -> None:  # type: ignore[no-untyped-def]
    """doctor names each capability that is neither a PO nor a tool; the store stays healthy."""
    write_po(run.store, "boss", "capabilities: [worker, nowhere]\n")
    write_po(run.store, "worker")
    code, out, _ = run("doctor")
    assert code == 0, out
    assert "UNKNOWN CAPABILITY boss: capability 'nowhere' is neither a PO nor a tool" in out
    assert "'worker'" not in out


def test_doctor_says_why_a_capability_gives_no_tool(run) -> None:  # type: ignore[no-untyped-def]
    """doctor says what to fix for each capability that gives no tool: a PO naming itself,
    a PO whose file cannot be read (its problem named), a name that is neither."""
    write_po(run.store, "boss", "capabilities: [boss, broken, nowhere]\n")
    (run.store / "objects" / "broken.md").write_text("---\nname: broken\nmodel: [\n---\nHi\n")
    code, out, _ = run("doctor")
    lines = [x for x in out.splitlines() if x.startswith("UNKNOWN CAPABILITY")]
    assert lines[0] == (
        "UNKNOWN CAPABILITY boss: capability 'boss' is boss itself (a PO cannot call itself)"
    )
    assert lines[1].startswith(
        "UNKNOWN CAPABILITY boss: capability 'broken' names a PO whose file cannot be read: "
    )
    assert "broken.md" in lines[1]
    assert lines[2] == "UNKNOWN CAPABILITY boss: capability 'nowhere' is neither a PO nor a tool"
    assert len(lines) == 3


def test_send_shows_a_delegation_and_show_json_has_the_parent(  # type: ignore[no-untyped-def]
    run, fake_entry_points, monkeypatch
) -> None:
    """`send` to a PO that delegates notes the delegation on stderr and prints only its own
    reply; `show --json` of the delegation session carries thread_type and the parent."""
    module = types.ModuleType("delegation_test_plugin")
    plugin = Plugin()
    module.register_responders = plugin.register_responders  # type: ignore[attr-defined]
    fake_entry_points(delegating=module)
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "delegating")
    write_po(run.store, "boss", "capabilities: [worker]\n")
    write_po(run.store, "worker")
    code, out, err = run("send", "boss", "hello")
    assert (code, out) == (0, "asking leaf: hello\n")
    assert "-> worker: hello" in err
    sessions = {s["po_name"]: s for s in run.json("list", "--json")}
    shown = run.json("show", sessions["worker"]["id"], "--json")
    assert (shown["thread_type"], shown["parent_id"], shown["parent_message_index"]) == (
        "delegation",
        sessions["boss"]["id"],
        1,
    )
    assert shown["source"] == "delegation"


def test_a_delegated_reply_is_checkpointed_in_its_own_session(ctx: AppContext) -> None:
    """A delegate's reply streaming in its delegation session is checkpointed there (one
    incomplete copy while the caller waits); cancelling keeps that text once."""
    ctx.config["runtime"] = {"retry_base_ms": 1, "checkpoint_ms": 20}
    write_po(ctx.root, "boss", "capabilities: [worker]\n")
    write_po(ctx.root, "worker", "slow: true\n")
    ctx._objects = None
    session = ctx.manager.current("boss")
    ctx.manager.append(session.id, Message(role="user", content="dig"))

    def child_history() -> list[Message]:
        found = delegations(ctx, "worker")
        return ctx.manager.get(found[0]).history if found else []

    async def run_then_cancel() -> None:
        task = asyncio.ensure_future(run_reply(ctx, session.id))
        for _ in range(500):
            history = child_history()
            if history and history[-1].role == "assistant":
                break
            await asyncio.sleep(0.01)
        assert not task.done()
        assert [(m.role, m.content, m.incomplete) for m in child_history()[1:]] == [
            ("assistant", "working ", True)
        ]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_then_cancel())
    assert [(m.role, m.content, m.incomplete) for m in child_history()] == [
        ("user", "dig", None),
        ("assistant", "working ", True),
    ]


def test_a_skipped_capability_says_why(ctx: AppContext) -> None:
    """The warning for a capability that gives no tool names the reason a person can act on:
    the PO itself, a PO whose file cannot be read (with the file's problem), or neither."""
    write_po(ctx.root, "boss", "capabilities: [boss, scribe, nowhere]\n")
    (ctx.root / "objects" / "scribe.md").write_text("---\nname: [unclosed\n---\n")
    _, reply = ask(ctx, "boss", "go")
    assert reply.content == "leaf: go"
    warned = [w for w in ctx.warnings if w.startswith("boss: capability")]
    assert warned[0] == "boss: capability 'boss' is boss itself (a PO cannot call itself); skipped"
    assert warned[1].startswith("boss: capability 'scribe' names a PO whose file cannot be read: ")
    assert "scribe.md" in warned[1] and warned[1].endswith("; skipped")
    assert warned[2] == "boss: capability 'nowhere' is neither a PO nor a tool; skipped"
