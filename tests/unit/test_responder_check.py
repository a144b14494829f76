"""A responder's optional ``check()`` (``responders.check_ready``): ``send`` from the CLI and the
MCP server runs it before storing, so a setup that cannot answer leaves nothing behind."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cli_runner import Run
from prompt_sessions.context import AppContext
from prompt_sessions.errors import ResponderError
from prompt_sessions.frontends.mcp_tools import SessionTools
from prompt_sessions import hookimpl
from prompt_sessions.plugins import PluginHost
from prompt_sessions.responders import ReplyEnd, check_ready


class Broken:
    """Answers nothing: its model is unknown, which ``check`` says."""

    name = "broken"

    def check(self) -> None:
        raise ResponderError("unknown model 'nope': `llm models` lists the installed ones")

    async def respond(self, request: Any) -> AsyncIterator[str | ReplyEnd]:
        yield "never"
        yield ReplyEnd(model="nope")


def _plugin() -> types.ModuleType:
    module = types.ModuleType("broken_responder_plugin")

    @hookimpl
    def register_responders(register):  # type: ignore[no-untyped-def]
        register("broken", lambda options: Broken())

    module.register_responders = register_responders  # type: ignore[attr-defined]
    return module


def test_check_ready_runs_check_where_there_is_one() -> None:
    """A responder without ``check`` is ready; one whose check raises is not."""
    check_ready(object())
    with pytest.raises(ResponderError, match="unknown model"):
        check_ready(Broken())


def test_cli_send_with_a_setup_that_cannot_answer_stores_nothing(
    run: Run, fake_entry_points: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One error line, exit 1, and no session or message made (not even a PO's first)."""
    fake_entry_points(broken=_plugin())
    monkeypatch.delenv("PROMPT_SESSIONS_PLUGINS")
    (run.store / "config.toml").write_text('responder = "broken"\n')
    code, _, err = run("send", "writer", "hello")
    assert code == 1
    assert err.startswith("Error: unknown model 'nope'") and err.count("\n") == 1
    assert run.json("list", "--json") == []


async def test_mcp_send_message_with_a_setup_that_cannot_answer_stores_nothing(
    tmp_path: Path,
) -> None:
    root = tmp_path / ".prompt_objects"
    (root / "objects").mkdir(parents=True)
    (root / "objects" / "writer.md").write_text("---\nname: writer\n---\nWrite.\n")
    (root / "config.toml").write_text('responder = "broken"\n')
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False, plugins=[_plugin()]))
    try:
        with pytest.raises(ResponderError, match="unknown model"):
            await SessionTools(ctx).send_message("writer", "hello")
        assert ctx.manager.list() == []
    finally:
        ctx.manager.close()


def test_cli_send_whose_reply_fails_says_the_message_is_kept(run: Run) -> None:
    """A reply that fails for good (after its retries) leaves the person's message stored; the
    one error line says so, where, and how it gets its reply."""
    (run.store / "config.toml").write_text(
        "[responders.echo]\nchunk_delay_ms = 0\nfail_always = true\ntransient = false\n"
    )
    run("new", "writer", "--name", "Draft")
    code, _, err = run("send", "writer", "hello")
    assert code == 1
    assert err.count("\n") == 1, err
    assert "the message is kept in 'Draft' without a reply (ctrl+r in the TUI answers it)" in err
    [session] = run.json("list", "--json")
    assert session["message_count"] == 1


class Offline:
    """Ready, but its every reply fails as a provider's client does with no network."""

    name = "offline"

    async def respond(self, request: Any) -> AsyncIterator[str | ReplyEnd]:
        raise ResponderError("APIConnectionError: Connection error.")
        yield "never"


def test_a_failed_reply_error_reads_as_one_sentence(
    run: Run, fake_entry_points: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider's message, ending in a full stop, joins what the program adds without a
    stray ".;" between them."""
    module = types.ModuleType("offline_responder_plugin")

    @hookimpl
    def register_responders(register):  # type: ignore[no-untyped-def]
        register("offline", lambda options: Offline())

    module.register_responders = register_responders  # type: ignore[attr-defined]
    fake_entry_points(offline=module)
    monkeypatch.delenv("PROMPT_SESSIONS_PLUGINS")
    (run.store / "config.toml").write_text('responder = "offline"\n')
    code, _, err = run("send", "writer", "hello")
    assert code == 1 and err.count("\n") == 1, err
    assert "Connection error; the message is kept in" in err
