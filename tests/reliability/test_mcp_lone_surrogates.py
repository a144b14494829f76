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
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))


class RawClient:
    """A client writing JSON-RPC lines as given, so that they may hold what JSON allows and
    Unicode does not."""

    def __init__(self, store: Path) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PROMPT_SESSIONS_", "PROMPT_OBJECTS"))
        }
        env["PROMPT_SESSIONS_PLUGINS"] = ""
        self.proc = subprocess.Popen(
            [SCRIPT, "--dir", str(store), "serve", "--mcp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._buffer = b""
        self._next = 0

    def write(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode("ascii") + b"\n")
        self.proc.stdin.flush()

    def request(self, method: str, params_json: str) -> Any:
        """Send a request whose params are the JSON text given; return its answer (the whole
        response object) or fail when none comes."""
        self._next += 1
        number = self._next
        self.write(f'{{"jsonrpc":"2.0","id":{number},"method":"{method}","params":{params_json}}}')
        return self.answer(number)

    def call(self, tool: str, arguments_json: str) -> Any:
        return self.request("tools/call", f'{{"name":"{tool}","arguments":{arguments_json}}}')

    def answer(self, number: int, timeout: float = 30) -> Any:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                message = json.loads(line)
                if message.get("id") == number:
                    return message
            left = deadline - time.monotonic()
            assert left > 0, f"no answer to request {number}"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                assert chunk, f"the server closed its output before answering request {number}"
                self._buffer += chunk

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            assert self.proc.stdout is not None
            self.proc.stdout.close()


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
    raw = RawClient(store)
    first = raw.request(
        "initialize",
        '{"protocolVersion":"2025-06-18","capabilities":{},'
        '"clientInfo":{"name":"raw","version":"1"}}',
    )
    assert "result" in first, first
    raw.write('{"jsonrpc":"2.0","method":"notifications/initialized"}')
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
