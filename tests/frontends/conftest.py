"""Fixtures for the frontends beyond the TUI: an environment folder with POs, and the installed
console script that MCP clients and browsers talk to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

COORDINATOR = """---
name: coordinator
description: Plans the work and hands parts to others.
---
You coordinate.
"""

RESEARCHER = """---
name: researcher
description: Finds things out.
---
You research.
"""


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An environment with two POs and an echo responder that does not pause between chunks."""
    root = tmp_path / ".prompt_objects"
    (root / "objects").mkdir(parents=True)
    (root / "objects" / "coordinator.md").write_text(COORDINATOR)
    (root / "objects" / "researcher.md").write_text(RESEARCHER)
    (root / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    return root


@pytest.fixture
def child_env() -> dict[str, str]:
    """The environment for a server process: no external plugins unless a test adds some."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PROMPT_SESSIONS_", "PROMPT_OBJECTS"))
    }
    env["PROMPT_SESSIONS_PLUGINS"] = ""
    return env
