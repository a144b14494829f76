"""The tutorial's finished plugin (docs/plugins/prompt-sessions-upper) works as the docs say."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from prompt_sessions import Message
from prompt_sessions.testing import registered_plugin

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "docs" / "plugins" / "prompt-sessions-upper"
DOCS = ROOT / "docs" / "plugins.md"


def fenced_blocks(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^```[a-z]*\n(.*?)^```$", text, re.M | re.S)]


@pytest.mark.parametrize(
    "relative", ["prompt_sessions_upper.py", "pyproject.toml", "tests/test_upper.py"]
)
def test_tutorial_listings_match_the_files(relative: str) -> None:
    """Each file of the finished plugin appears verbatim as a listing in docs/plugins.md."""
    content = (PLUGIN / relative).read_text(encoding="utf-8")
    assert content in fenced_blocks(DOCS.read_text(encoding="utf-8"))


def test_entry_point_loads_the_plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The entry point declared in the plugin's pyproject.toml loads a module whose exporter
    works once registered."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text(encoding="utf-8"))
    points = project["project"]["entry-points"]["prompt_sessions"]
    assert points == {"upper": "prompt_sessions_upper"}
    assert project["tool"]["setuptools"]["py-modules"] == ["prompt_sessions_upper"]
    monkeypatch.syspath_prepend(str(PLUGIN))
    module = EntryPoint("upper", points["upper"], "prompt_sessions").load()
    from prompt_sessions import SessionManager

    with registered_plugin(module, name="upper") as host:
        assert host.exporters()["upper"].plugin == "upper"
        with SessionManager.open(tmp_path / ".prompt_objects", host=host) as mgr:
            s = mgr.create("coordinator", "Plan")
            mgr.append(s.id, Message(role="user", content="ship it"))
            assert mgr.export(s.id, format="upper") == "PLAN\n\nUSER: SHIP IT\n"


def test_the_plugins_own_tests_pass() -> None:
    """The tutorial's tests pass when run on their own, with the fixtures coming from the
    installed pytest11 entry point rather than this repository's conftest."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PLUGIN),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PROMPT_SESSIONS_PLUGINS": "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=PLUGIN,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
