"""A client that writes the MCP protocol's JSON-RPC lines itself to a real
``prompt-sessions serve --mcp``: lines the official client cannot send (lone surrogates), and
a client that goes away mid-answer."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))


class RawClient:
    """A client writing JSON-RPC lines as given, so that they may hold what JSON allows and
    Unicode does not."""

    def __init__(self, store: Path, stderr: Any = subprocess.DEVNULL) -> None:
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
            stderr=stderr,
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


def initialized(store: Path, stderr: Any = subprocess.DEVNULL) -> RawClient:
    """A client past the protocol's handshake with a server on ``store``."""
    raw = RawClient(store, stderr)
    first = raw.request(
        "initialize",
        '{"protocolVersion":"2025-06-18","capabilities":{},'
        '"clientInfo":{"name":"raw","version":"1"}}',
    )
    assert "result" in first, first
    raw.write('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    return raw
