"""Fixtures: llm's user folder in tmp_path, a fake model plugin, and a local OpenAI-compatible
server (``fake_openai.py``, a real process on 127.0.0.1) declared in extra-openai-models.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
SERVER = HERE / "fake_openai.py"


@pytest.fixture
def llm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """llm's user folder (keys, extra models, logs.db) in tmp_path; no provider key in sight."""
    home = tmp_path / "llm-home"
    home.mkdir()
    monkeypatch.setenv("LLM_USER_PATH", str(home))
    for name in ("OPENAI_API_KEY", "LLM_OPENAI_SHOW_RESPONSES", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return home


@dataclass
class Server:
    port: int
    log: Path
    process: subprocess.Popen[str]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests(self) -> list[dict[str, Any]]:
        """Every request body the server received, in order."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def local_server(llm_home: Path, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``local_server(script=[...])`` starts the fake server and declares its model ``local``
    (with tools) in extra-openai-models.yaml."""
    started: list[Server] = []

    def start(script: list[dict[str, Any]] | None = None, delay_ms: float = 0) -> Server:
        n = len(started)
        log = tmp_path / f"requests-{n}.jsonl"
        args = [sys.executable, str(SERVER), "--log", str(log), "--delay-ms", str(delay_ms)]
        if script is not None:
            script_path = tmp_path / f"script-{n}.json"
            script_path.write_text(json.dumps(script))
            args += ["--script", str(script_path)]
        process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        first = process.stdout.readline().split()
        assert first and first[0] == "PORT", first
        server = Server(int(first[1]), log, process)
        started.append(server)
        (llm_home / "extra-openai-models.yaml").write_text(
            f"- model_id: local\n"
            f"  model_name: local-model\n"
            f"  api_base: {server.api_base}\n"
            f"  supports_tools: true\n"
        )
        return server

    yield start
    for server in started:
        server.process.terminate()
        server.process.wait(timeout=10)
