"""Starting `prompt-sessions web` as a real process on a free loopback port."""

from __future__ import annotations

import queue
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mcp_client import SCRIPT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class WebServer:
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self) -> str:
        (line,) = [line for line in self.lines if line.startswith("Access token: ")]
        return line.split()[2]


@contextmanager
def web_server(store: Path, env: dict[str, str], *args: str) -> Iterator[WebServer]:
    """Run the server until the block ends; waits for its start-up lines (the address)."""
    server = WebServer(free_port())
    proc = subprocess.Popen(
        [SCRIPT, "--dir", str(store), "web", "--port", str(server.port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while not any(line.startswith("Press Ctrl+C") for line in server.lines):
            server.lines.append(lines.get(timeout=max(0.1, deadline - time.monotonic())).strip())
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
