"""The MCP server answers a request whose text holds a lone surrogate (DESIGN section 15).

JSON may spell a lone UTF-16 surrogate (``"\\ud800"``); a JavaScript client sends one when a
string was cut inside an emoji. Such text is not Unicode, so the request cannot be taken, but
the client is waiting for that request's answer: it gets a one-line tool error (a JSON-RPC
error for a request that is not a tool call), nothing is stored, and the server serves on.
The official Python client cannot send such text, so these tests write the protocol's lines
themselves to a real ``prompt-sessions serve --mcp``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_raw_client import RawClient, initialized


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / ".prompt_objects"
    (root / "objects").mkdir(parents=True, mode=0o700)
    root.chmod(0o700)
    (root / "objects" / "coordinator.md").write_text("---\nname: coordinator\n---\nYou plan.\n")
    (root / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    for path in (root / "objects" / "coordinator.md", root / "config.toml"):
        path.chmod(0o600)
    return root


@pytest.fixture
def client(store: Path) -> Iterator[RawClient]:
    raw = initialized(store)
    yield raw
    raw.close()


def tool_error(answer: dict[str, Any]) -> str:
    """The one line of a tool error result."""
    result = answer["result"]
    assert result["isError"] is True, result
    (block,) = result["content"]
    text = block["text"]
    assert "\n" not in text
    return text


def sessions(store: Path) -> list[Path]:
    folder = store / "sessions"
    found = folder.glob("*.json") if folder.exists() else []
    return sorted(path for path in found if path.name != "index.json")


@pytest.mark.parametrize(
    ("tool", "arguments", "argument"),
    [
        ("get_session", '{"ref":"\\ud800"}', "ref"),
        ("list_sessions", '{"query":"plan \\udfff"}', "query"),
        ("search_sessions", '{"query":"\\ud83d"}', "query"),
        ("create_session", '{"po":"coordinator","name":"cut \\ud83d"}', "name"),
        ("send_message", '{"po":"coordinator","message":"hello \\ud83d"}', "message"),
        ("send_message", '{"po":"co\\udc00","message":"hello"}', "po"),
    ],
)
def test_a_lone_surrogate_is_a_one_line_tool_error(
    client: RawClient, store: Path, tool: str, arguments: str, argument: str
) -> None:
    """Each tool answers a lone surrogate in an argument with a one-line tool error naming
    the argument; nothing is stored, and the next call is served."""
    text = tool_error(client.call(tool, arguments))
    assert text.startswith(f"Error executing tool {tool}: invalid arguments: {argument}:")
    assert "surrogate" in text
    assert sessions(store) == []
    listed = client.call("list_sessions", "{}")
    assert listed["result"]["isError"] is False


def test_a_lone_surrogate_outside_a_tool_call_is_a_protocol_error(client: RawClient) -> None:
    """A request other than a tool call gets a JSON-RPC error for its id (invalid params),
    and the server serves on."""
    answer = client.request("prompts/get", '{"name":"\\ud800"}')
    assert answer["error"]["code"] == -32602
    assert "surrogate" in answer["error"]["message"]
    assert "\n" not in answer["error"]["message"]
    tools = client.request("tools/list", "{}")
    assert {tool["name"] for tool in tools["result"]["tools"]} >= {"send_message"}


def test_a_paired_surrogate_is_text(client: RawClient, store: Path) -> None:
    """An escaped pair (an emoji spelled as two escapes) is ordinary text: it is stored."""
    answer = client.call("send_message", '{"po":"coordinator","message":"hi \\ud83d\\ude00"}')
    assert answer["result"]["isError"] is False, answer
    (path,) = sessions(store)
    history = json.loads(path.read_text(encoding="utf-8"))["history"]
    assert history[0]["content"] == "hi \U0001f600"
