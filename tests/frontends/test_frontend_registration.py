"""The mcp and web frontends are built-in plugins registered through `register_frontends`, and
the command line does not pay for their dependencies until they run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp_client import SCRIPT

from prompt_sessions.plugins import PluginHost


def test_plugins_all_lists_both_frontends(store: Path, child_env) -> None:
    """`plugins --all` lists the mcp and web built-ins with the hook they implement; plain
    `plugins` (external ones only) does not."""
    listed = subprocess.run(
        [SCRIPT, "--dir", str(store), "plugins", "--all", "--json"],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=60,
    )
    by_name = {p["name"]: p for p in json.loads(listed.stdout)}
    for name in ("mcp", "web"):
        assert by_name[name]["builtin"] is True
        assert by_name[name]["hooks"] == ["register_frontends"]
        assert by_name[name]["package"] == "prompt-sessions"
    external = subprocess.run(
        [SCRIPT, "--dir", str(store), "plugins", "--json"],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=60,
    )
    assert json.loads(external.stdout) == []


def test_frontends_are_found_through_the_hook() -> None:
    """The host's frontends() names tui, mcp and web, each from its built-in plugin."""
    found = PluginHost.create(entry_points=False).frontends()
    assert {name: c.plugin for name, c in found.items()} == {
        "tui": "tui",
        "mcp": "mcp",
        "web": "web",
    }


def test_a_disabled_frontend_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """PROMPT_SESSIONS_DISABLE_PLUGINS=mcp,web leaves only the TUI."""
    monkeypatch.setenv("PROMPT_SESSIONS_DISABLE_PLUGINS", "mcp,web")
    assert set(PluginHost.create(entry_points=False).frontends()) == {"tui"}


HEAVY = ("textual", "mcp", "textual_serve", "aiohttp", "playwright", "pydantic")


@pytest.mark.parametrize("args", [["list", "--json"], ["plugins", "--all"], ["--help"]])
def test_cli_start_imports_no_frontend_dependency(store: Path, args: list[str]) -> None:
    """Listing sessions or plugins, or asking for help, imports neither the TUI nor the MCP SDK
    nor the web server."""
    code = (
        "import sys\n"
        "from prompt_sessions.cli import main\n"
        "try:\n"
        f"    main(['--dir', {str(store)!r}, *{args!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print('IMPORTED', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stderr.strip().splitlines()[-1] == "IMPORTED []", result.stderr
