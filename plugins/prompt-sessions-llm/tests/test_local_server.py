"""The llm responder end to end over HTTP: ``prompt-sessions send`` in its own process, llm's
real OpenAI client, and a local OpenAI-compatible server (a real process on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from llm_support import write_po

from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost

CLI = shutil.which("prompt-sessions", path=os.path.dirname(sys.executable)) or "prompt-sessions"


def send(store: Path, po: str, message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "--dir", str(store), "send", po, message],
        capture_output=True,
        text=True,
        timeout=120,
    )


def open_store(store: Path) -> SessionManager:
    return SessionManager.open(store, host=PluginHost.create(entry_points=False))


def test_system_prompt_and_history_go_in_order_and_usage_is_stored(tmp_path, local_server):
    """Two turns: the second request holds the PO body as system prompt, then the first turn
    and the new message in order; each reply stores the model id, usage with cached tokens
    (the server reports them) and latency."""
    server = local_server()
    store = tmp_path / ".prompt_objects"
    write_po(store, "coordinator", "responder: llm\nmodel: local\n", "You coordinate.\n")
    first = send(store, "coordinator", "hello there")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "local-model heard: hello there\n"
    second = send(store, "coordinator", "and again")
    assert second.returncode == 0, second.stderr
    sent = server.requests()[1]["messages"]
    assert sent == [
        {"role": "system", "content": "You coordinate."},
        {"role": "user", "content": "hello there"},
        {"role": "assistant", "content": "local-model heard: hello there"},
        {"role": "user", "content": "and again"},
    ]
    with open_store(store) as mgr:
        history = mgr.get(mgr.list()[0].id).history
    reply = history[-1]
    assert (reply.role, reply.content, reply.model) == (
        "assistant",
        "local-model heard: and again",
        "local",
    )
    assert reply.usage is not None
    # The server counts words: 10 sent (system 2, history 6, new 2), 4 written, 2 cached.
    usage = reply.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cached_tokens) == (10, 4, 2)
    assert reply.latency_ms is not None and reply.latency_ms > 0


def test_a_delegation_round_trip(tmp_path, local_server):
    """The coordinator's model calls the researcher tool: the researcher answers in its
    delegation session under the caller's, its reply goes back as the tool result, and the
    caller's session holds the call, the result and the final answer in DESIGN's shapes."""
    server = local_server()
    store = tmp_path / ".prompt_objects"
    write_po(
        store,
        "coordinator",
        "responder: llm\nmodel: local\ncapabilities: [researcher]\n",
        "You coordinate.\n",
    )
    write_po(
        store,
        "researcher",
        "description: Finds sources\nresponder: llm\nmodel: local\n",
        "You research.\n",
    )
    done = send(store, "coordinator", "find papers on tides")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Done: local-model heard: find papers on tides\n"
    assert "-> researcher: find papers on tides" in done.stderr
    requests = server.requests()
    assert len(requests) == 3
    tool = requests[0]["tools"][0]["function"]
    assert tool["name"] == "researcher"
    assert tool["description"] == "Finds sources"
    assert tool["parameters"]["required"] == ["message"]
    assert requests[1]["messages"] == [
        {"role": "system", "content": "You research."},
        {"role": "user", "content": "find papers on tides"},
    ]
    assert requests[2]["messages"][-1]["role"] == "tool"
    assert requests[2]["messages"][-1]["content"] == "local-model heard: find papers on tides"
    with open_store(store) as mgr:
        parent = next(s for s in mgr.list() if s.po_name == "coordinator")
        child = next(s for s in mgr.list() if s.po_name == "researcher")
        history = mgr.get(parent.id).history
        delegation = mgr.get(child.id)
    assert [m.role for m in history] == ["user", "assistant", "tool", "assistant"]
    (call,) = history[1].tool_calls or []
    assert set(call) == {"id", "name", "arguments"}
    assert (call["name"], call["arguments"]) == ("researcher", {"message": "find papers on tides"})
    assert history[1].model == "local" and history[1].usage is not None
    assert history[2].tool_results == [
        {"tool_call_id": call["id"], "content": "local-model heard: find papers on tides"}
    ]
    assert history[3].content == "Done: local-model heard: find papers on tides"
    assert (delegation.thread_type, delegation.parent_id, delegation.parent_message_index) == (
        "delegation",
        parent.id,
        1,
    )
    assert delegation.source == "delegation"
    assert [(m.role, m.from_po) for m in delegation.history] == [
        ("user", "coordinator"),
        ("assistant", None),
    ]


def test_a_rate_limit_is_retried(tmp_path, local_server):
    """429s past the OpenAI client's own retries reach the responder as a transient error, and
    the project's retry policy tries again until the server answers."""
    server = local_server(script=[{"status": 429}] * 3)
    store = tmp_path / ".prompt_objects"
    write_po(store, "coordinator", "responder: llm\nmodel: local\n")
    (store / "config.toml").write_text("[runtime]\nretry_base_ms = 1\n")
    done = send(store, "coordinator", "are you there")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "local-model heard: are you there\n"
    assert len(server.requests()) == 4


def test_a_key_in_config_is_refused_in_one_line(tmp_path, local_server):
    """A key in config.toml is refused before anything is written, naming where keys belong."""
    local_server()
    store = tmp_path / ".prompt_objects"
    write_po(store, "coordinator", "responder: llm\nmodel: local\n")
    (store / "config.toml").write_text('[responders.llm]\nkey = "sk-secret"\n')
    done = send(store, "coordinator", "hi")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(
        "Error: setting 'key' in config.toml [responders.llm] is never read there"
    )
    assert "llm keys set" in done.stderr and "sk-secret" not in done.stderr
    assert not (store / "sessions").exists() or not open_store(store).list()


def test_a_key_in_front_matter_is_refused_naming_the_file(tmp_path, local_server):
    """A key in a PO's front matter is refused before anything is written; the line names the
    PO's file and where keys belong, never the key."""
    local_server()
    store = tmp_path / ".prompt_objects"
    write_po(store, "coordinator", "responder: llm\nmodel: local\napi_key: sk-secret\n")
    done = send(store, "coordinator", "hi")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(
        "Error: setting 'api_key' in objects/coordinator.md front matter is never read there"
    )
    assert "llm keys set" in done.stderr and "sk-secret" not in done.stderr
    assert not (store / "sessions").exists() or not open_store(store).list()


def _stored(store: Path) -> list[tuple[str, int]]:
    if not (store / "sessions").exists():
        return []
    with open_store(store) as mgr:
        return [(s.po_name, s.message_count) for s in mgr.list()]


def test_an_unknown_model_is_one_line(tmp_path, local_server):
    """A model no llm plugin provides: one line naming `llm models`, exit 1, no traceback, and
    nothing stored (a send run again once the model is right does not repeat the message)."""
    local_server()
    store = tmp_path / ".prompt_objects"
    write_po(store, "coordinator", "responder: llm\nmodel: no-such-model\n")
    done = send(store, "coordinator", "hi")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("Error: unknown model 'no-such-model'")
    assert "`llm models`" in done.stderr
    assert _stored(store) == []
    write_po(store, "coordinator", "responder: llm\nmodel: local\n")
    assert send(store, "coordinator", "hi").returncode == 0
    assert _stored(store) == [("coordinator", 2)]


def test_a_missing_key_is_one_line(tmp_path, llm_home):
    """A provider model without a key: one line naming `llm keys set openai`; nothing is sent."""
    store = tmp_path / ".prompt_objects"
    write_po(store, "coordinator", "responder: llm\nmodel: gpt-4o-mini\n")
    done = send(store, "coordinator", "hi")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert "llm keys set openai" in done.stderr
    assert json.dumps(done.stderr).count("Traceback") == 0
    assert _stored(store) == []
