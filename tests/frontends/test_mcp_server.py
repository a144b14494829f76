"""The MCP server (`prompt-sessions serve --mcp`), driven by the SDK's own clients: over stdio as
an MCP client runs it, and in-process for the finer cases."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
from pathlib import Path

import pytest
from mcp_client import SCRIPT, call, connect, refusal

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message

BOTH = pytest.mark.parametrize("transport", ["stdio", "memory"])


@pytest.fixture
def transport() -> str:
    return "memory"


TOOLS = {
    "list_prompt_objects",
    "list_sessions",
    "get_session",
    "search_sessions",
    "create_session",
    "send_message",
}


def seed(store: Path) -> dict[str, str]:
    """Three sessions: two of coordinator (one archived), one of researcher. Returns their ids."""
    with SessionManager.open(store) as mgr:
        plan = mgr.create("coordinator", "Plan the launch", source="cli")
        mgr.append(plan.id, Message(role="user", content="launch checklist please"))
        mgr.append(plan.id, Message(role="assistant", content="Here is the checklist"))
        old = mgr.create("coordinator", "Planning archive", source="cli")
        mgr.archive(old.id)
        notes = mgr.create("researcher", "Notes", source="cli")
        mgr.append(notes.id, Message(role="user", content="what is a launch window"))
        return {"plan": plan.id, "old": old.id, "notes": notes.id}


@BOTH
async def test_lists_every_tool_with_typed_input_schemas(
    store: Path, child_env, transport: str
) -> None:
    """The six tools are listed, each with a JSON input schema naming its typed arguments."""
    async with connect(store, child_env, transport) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    send = tools["send_message"].input_schema
    assert send["required"] == ["po", "message"]
    assert send["properties"]["message"]["type"] == "string"
    assert send["properties"]["session"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert tools["search_sessions"].input_schema["properties"]["limit"]["type"] == "integer"
    assert tools["create_session"].input_schema["required"] == ["po"]
    assert tools["get_session"].input_schema["required"] == ["ref"]
    assert tools["list_prompt_objects"].input_schema["properties"] == {}
    assert all(tool.description for tool in tools.values())


async def test_list_prompt_objects(store: Path, child_env, transport: str) -> None:
    """POs with a file come with their description and responder; POs with only sessions too."""
    with SessionManager.open(store) as mgr:
        mgr.create("loose", "Orphan")
    async with connect(store, child_env, transport) as client:
        found = await call(client, "list_prompt_objects")
    by_name = {po["name"]: po for po in found}
    assert [po["name"] for po in found] == ["coordinator", "researcher", "loose"]
    assert by_name["coordinator"]["description"] == "Plans the work and hands parts to others."
    assert by_name["coordinator"]["responder"] == "echo"
    assert by_name["coordinator"]["has_file"] is True
    assert by_name["loose"] == {
        "name": "loose",
        "description": "",
        "capabilities": [],
        "responder": "echo",
        "has_file": False,
        "sessions": 1,
    }


async def test_list_sessions_by_po_and_query(store: Path, child_env, transport: str) -> None:
    """list_sessions filters by PO and by a query over names and messages; archived ones hide;
    limit keeps the newest."""
    ids = seed(store)
    async with connect(store, child_env, transport) as client:
        everything = await call(client, "list_sessions")
        coordinator = await call(client, "list_sessions", po="coordinator")
        with_archived = await call(client, "list_sessions", po="coordinator", include_archived=True)
        launch = await call(client, "list_sessions", query="launch")
        launch_researcher = await call(client, "list_sessions", po="researcher", query="launch")
        newest = await call(client, "list_sessions", limit=1)
    assert {s["id"] for s in everything} == {ids["plan"], ids["notes"]}
    assert [s["id"] for s in newest] == [everything[0]["id"]]  # at most limit, newest first
    assert [s["id"] for s in coordinator] == [ids["plan"]]
    assert {s["id"] for s in with_archived} == {ids["plan"], ids["old"]}
    assert {s["id"] for s in launch} == {ids["plan"], ids["notes"]}
    assert [s["id"] for s in launch_researcher] == [ids["notes"]]
    plan = next(s for s in everything if s["id"] == ids["plan"])
    assert plan["name"] == "Plan the launch" and plan["message_count"] == 2


async def test_get_session_by_name_and_id_prefix(store: Path, child_env, transport: str) -> None:
    """get_session resolves a name or an id prefix and returns the file's shape with history."""
    ids = seed(store)
    async with connect(store, child_env, transport) as client:
        by_name = await call(client, "get_session", ref="Notes")
        by_prefix = await call(client, "get_session", ref=ids["plan"][:8])
    assert by_name["id"] == ids["notes"] and by_name["po_name"] == "researcher"
    assert by_name["history"][0]["content"] == "what is a launch window"
    assert by_prefix["name"] == "Plan the launch"
    assert [m["role"] for m in by_prefix["history"]] == ["user", "assistant"]
    assert by_prefix["format_version"] == 1


async def test_search_sessions(store: Path, child_env, transport: str) -> None:
    """search_sessions returns hits with the session, a snippet and the message index."""
    ids = seed(store)
    async with connect(store, child_env, transport) as client:
        hits = await call(client, "search_sessions", query="checklist")
        limited = await call(client, "search_sessions", query="launch", limit=1)
        none = await call(client, "search_sessions", query="nothing like this")
    assert [(h["id"], h["message_index"]) for h in hits] == [(ids["plan"], 0), (ids["plan"], 1)]
    assert "checklist" in hits[0]["snippet"]
    assert len(limited) == 1
    assert none == []


async def test_create_session_is_marked_mcp_and_current(
    store: Path, child_env, transport: str
) -> None:
    """create_session makes a session with source mcp and makes it the PO's current one."""
    async with connect(store, child_env, transport) as client:
        made = await call(client, "create_session", po="researcher", name="From a client")
        unnamed = await call(client, "create_session", po="coordinator")
    assert made["name"] == "From a client" and made["source"] == "mcp"
    assert unnamed["name"] == "New Session"
    with SessionManager.open(store) as mgr:
        assert mgr.get(made["id"]).source == "mcp"
        assert mgr.peek_current("researcher").id == made["id"]


@BOTH
async def test_send_message_runs_the_echo_responder(store: Path, child_env, transport: str) -> None:
    """send_message stores the message and the reply (both source mcp), runs echo and returns
    the stored reply."""
    async with connect(store, child_env, transport) as client:
        answer = await call(client, "send_message", po="coordinator", message="hello there")
        again = await call(client, "send_message", po="coordinator", message="second turn")
    assert answer["reply"] == "You said: hello there"
    assert answer["model"] == "echo"
    assert answer["usage"]["output_tokens"] > 0
    assert again["session"]["id"] == answer["session"]["id"]
    with SessionManager.open(store) as mgr:
        session = mgr.get(answer["session"]["id"])
    assert session.source == "mcp"  # made by the server: the PO had no session
    assert [(m.role, m.content, m.source) for m in session.history] == [
        ("user", "hello there", "mcp"),
        ("assistant", "You said: hello there", "mcp"),
        ("user", "second turn", "mcp"),
        ("assistant", "You said: second turn", "mcp"),
    ]
    assert session.history[1].model == "echo"


async def test_send_message_into_a_named_session(store: Path, child_env, transport: str) -> None:
    """send_message with a session ref talks in that session, not the current one."""
    ids = seed(store)
    with SessionManager.open(store) as mgr:
        other = mgr.create("coordinator", "Other")
        mgr.switch("coordinator", other.id)
    async with connect(store, child_env, transport) as client:
        answer = await call(
            client, "send_message", po="coordinator", message="one more", session="Plan the"
        )
    assert answer["session"] == {
        "id": ids["plan"],
        "name": "Plan the launch",
        "po_name": "coordinator",
    }
    with SessionManager.open(store) as mgr:
        assert mgr.get(ids["plan"]).history[-1].content == "You said: one more"
        assert mgr.get(other.id).history == []


@BOTH
async def test_refusals_are_one_line_tool_errors(store: Path, child_env, transport: str) -> None:
    """Unknown POs and sessions, ambiguous refs and bad arguments are isError results of one
    line, and nothing is written."""
    ids = seed(store)
    with SessionManager.open(store) as mgr:
        mgr.create("researcher", "Notes on launch")
        before = {s.id: s.message_count for s in mgr.list()}
    async with connect(store, child_env, transport) as client:
        unknown_po = await refusal(client, "send_message", po="nobody", message="hi")
        unknown_po_list = await refusal(client, "list_sessions", po="nobody")
        unknown_po_create = await refusal(client, "create_session", po="nobody")
        unknown_session = await refusal(client, "get_session", ref="no such session")
        wrong_po = await refusal(
            client, "send_message", po="researcher", message="hi", session="Plan the launch"
        )
        ambiguous = await refusal(client, "get_session", ref="Plan")
        ambiguous_prefix = await refusal(
            client, "send_message", po="researcher", message="hi", session="No"
        )
        empty = await refusal(client, "send_message", po="coordinator", message="   ")
        missing = await refusal(client, "send_message", po="coordinator")
        wrong_type = await refusal(client, "search_sessions", query="x", limit="many")
        bad_name = await refusal(client, "create_session", po="coordinator", name="a\x00b")
    assert "unknown prompt object 'nobody'; known: coordinator, researcher" in unknown_po
    assert "unknown prompt object 'nobody'" in unknown_po_list
    assert "unknown prompt object 'nobody'" in unknown_po_create
    assert "no session matches 'no such session'" in unknown_session
    assert "no session matches 'Plan the launch' for PO 'researcher'" in wrong_po
    assert "'Plan' matches several sessions" in ambiguous
    assert "'No' matches several sessions" in ambiguous_prefix
    assert "message is empty" in empty
    assert "invalid arguments: message: Field required" in missing
    assert "invalid arguments: limit:" in wrong_type
    assert "name" in bad_name
    with SessionManager.open(store) as mgr:
        assert {s.id: s.message_count for s in mgr.list()} == before
    assert ids  # the seeded sessions are the ones compared above


@BOTH
async def test_a_failing_responder_is_a_tool_error(store: Path, child_env, transport: str) -> None:
    """A responder that fails makes send_message an isError result saying the user's message
    is kept (so a client does not send it twice); it stays, once."""
    (store / "config.toml").write_text(
        "[responders.echo]\nchunk_delay_ms = 0\nfail_always = true\n"
    )
    async with connect(store, child_env, transport) as client:
        text = await refusal(client, "send_message", po="coordinator", message="are you there")
    assert "echo" in text
    # A client must not send it again: the error says the message is stored.
    assert text.endswith("; the message is kept in 'New Session' without a reply")
    with SessionManager.open(store) as mgr:
        (summary,) = mgr.list("coordinator")
        history = mgr.get(summary.id).history
    assert [(m.role, m.content) for m in history] == [("user", "are you there")]


NOISY_PLUGIN = """
import os, sys, warnings
print("noisy: imported")
from prompt_sessions import hookimpl
from prompt_sessions.responders import ReplyEnd


class Loud:
    name = "loud"

    async def respond(self, request):
        print("noisy: replying")
        os.write(1, b"noisy: raw bytes on descriptor 1\\n")
        warnings.warn("noisy: a warning")
        yield "quiet answer"
        yield ReplyEnd(model="loud")


@hookimpl
def register_responders(register):
    print("noisy: registering")
    register("loud", lambda options: Loud())
"""


def noisy_plugin(tmp_path: Path) -> Path:
    """An installed plugin (a dist-info with an entry point) that prints wherever it can."""
    site = tmp_path / "site"
    dist = site / "noisy_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: noisy-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[prompt_sessions]\nnoisy = noisy_plugin\n")
    (site / "noisy_plugin.py").write_text(NOISY_PLUGIN)
    return site


def test_stdout_carries_only_the_protocol(store: Path, child_env, tmp_path: Path) -> None:
    """A plugin that prints at import, at registration and while replying (even straight to
    file descriptor 1) cannot corrupt the protocol: every stdout line is a JSON-RPC message,
    and the noise goes to stderr."""
    (store / "objects" / "loud.md").write_text("---\nname: loud\nresponder: loud\n---\nShout.\n")
    env = {
        **child_env,
        "PYTHONPATH": str(noisy_plugin(tmp_path)),
        "PROMPT_SESSIONS_PLUGINS": "noisy",
    }
    from mcp_types import LATEST_PROTOCOL_VERSION

    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": LATEST_PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "send_message", "arguments": {"po": "loud", "message": "hey"}},
        },
    ]
    errlog = (tmp_path / "stderr.txt").open("w")
    proc = subprocess.Popen(
        [SCRIPT, "--dir", str(store), "serve", "--mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errlog,
        env=env,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    responses = []
    try:
        for request in requests:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            if "id" in request:
                responses.append(json.loads(proc.stdout.readline()))
        proc.stdin.close()  # the client hangs up: the server ends
        rest = proc.stdout.read()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errlog.close()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == 0
    for line in io.StringIO(rest):
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert [r["id"] for r in responses] == [1, 2]
    result = responses[1]["result"]
    assert not result.get("isError"), result
    assert result["structuredContent"]["reply"] == "quiet answer"
    for noise in ("imported", "registering", "replying", "raw bytes on descriptor 1", "a warning"):
        assert f"noisy: {noise}" in stderr


def test_serve_needs_a_protocol(store: Path, child_env) -> None:
    """`serve` without --mcp is a usage error (exit 2) that says what to add."""
    result = subprocess.run(
        [SCRIPT, "--dir", str(store), "serve"],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--mcp" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("backend", ["sqlite"])
@BOTH
async def test_send_message_on_the_sqlite_backend(
    store: Path, child_env, backend: str, transport: str
) -> None:
    """The server works the same on the other built-in backend."""
    (store / "config.toml").write_text(
        f'[storage]\nbackend = "{backend}"\n[responders.echo]\nchunk_delay_ms = 0\n'
    )
    async with connect(store, child_env, transport) as client:
        answer = await call(client, "send_message", po="researcher", message="over sqlite")
        hits = await call(client, "search_sessions", query="sqlite")
    assert answer["reply"] == "You said: over sqlite"
    assert {h["id"] for h in hits} == {answer["session"]["id"]}
    with SessionManager.open(store) as mgr:
        assert mgr.get(answer["session"]["id"]).history[0].source == "mcp"


async def test_a_po_added_while_serving_is_known(store: Path, child_env, transport: str) -> None:
    """A server runs for long: a PO file added after it started is listed and can be talked to."""
    async with connect(store, child_env, transport) as client:
        before = await call(client, "list_prompt_objects")
        (store / "objects" / "writer.md").write_text(
            "---\nname: writer\ndescription: Writes.\n---\n"
        )
        after = await call(client, "list_prompt_objects")
        answer = await call(client, "send_message", po="writer", message="a draft")
    assert "writer" not in [po["name"] for po in before]
    assert {"name": "writer", "description": "Writes."}.items() <= after[-1].items()
    assert answer["reply"] == "You said: a draft"


async def test_turns_in_one_session_do_not_interleave(
    store: Path, child_env, transport: str
) -> None:
    """Two send_message calls into one session at once run one after the other: each reply
    follows its own message."""
    (store / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 20\n")
    async with connect(store, child_env, transport) as client:
        made = await call(client, "create_session", po="coordinator", name="Busy")
        await asyncio.gather(
            *(
                call(client, "send_message", po="coordinator", message=f"turn {n} of the test")
                for n in (1, 2)
            )
        )
    with SessionManager.open(store) as mgr:
        history = mgr.get(made["id"]).history
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]
    for asked, answered in ((history[0], history[1]), (history[2], history[3])):
        assert answered.content == f"You said: {asked.content}"


def test_a_server_on_a_missing_folder_says_so_on_stderr(tmp_path: Path, child_env) -> None:
    """`serve --mcp` on a folder that does not exist (a mistyped path in a client's
    configuration) notes it on stderr and still serves, writing nothing on stdout but the
    protocol (here: nothing, as the client hangs up at once)."""
    missing = tmp_path / "no-such-env"
    result = subprocess.run(
        [SCRIPT, "--dir", str(missing), "serve", "--mcp"],
        input="",
        capture_output=True,
        text=True,
        env=child_env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"Note: {missing} does not exist yet" in result.stderr
    assert result.stdout == ""
    assert not missing.exists()
