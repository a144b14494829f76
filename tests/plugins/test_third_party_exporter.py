"""A third-party exporter package, built and installed with pip, used through the real console script.

The package is installed with ``pip install --target`` into a private folder that the subprocesses
get on ``PYTHONPATH``: pip builds it and writes its ``.dist-info`` with the entry points exactly as
a normal install does, and ``importlib.metadata`` finds them the same way, but the shared
interpreter's site-packages is never changed, so tests running in parallel (and other checkouts
using this interpreter) never see the plugin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from prompt_sessions import Message, SessionManager
from prompt_sessions.plugins import PluginHost

DIST = "prompt-sessions-shout-test"
VERSION = "1.2.3"

PYPROJECT = f"""
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{DIST}"
version = "{VERSION}"

[project.entry-points.prompt_sessions]
shout = "shout_exporter"
broken_import = "shout_broken_import"
broken_hook = "shout_broken_hook"

[tool.setuptools]
py-modules = ["shout_exporter", "shout_broken_import", "shout_broken_hook"]
"""

SHOUT = """
from prompt_sessions import hookimpl


class ShoutExporter:
    name = "shout"
    extension = "txt"
    media_type = "text/plain"

    def export(self, session):
        lines = [f"{session.name.upper()}!"]
        lines += [f"{m.role.upper()}: {m.content.upper()}" for m in session.history]
        return "\\n".join(lines) + "\\n"


@hookimpl
def register_exporters(register):
    register(ShoutExporter())
"""

BROKEN_IMPORT = """
raise ImportError("shout_broken_import cannot start: missing dependency")
"""

BROKEN_HOOK = """
from prompt_sessions import hookimpl


@hookimpl
def register_exporters(register):
    raise RuntimeError("broken_hook exploded while registering")
"""


def console_script() -> str:
    script = Path(sys.executable).with_name("prompt-sessions")
    if not script.exists():
        # The test command installs the package; a missing script is a broken set-up, not a skip.
        pytest.fail("the prompt-sessions console script is not installed next to this interpreter")
    return str(script)


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build the package in a temp folder and pip-install it into a private site folder."""
    src = tmp_path_factory.mktemp("shout-src")
    (src / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (src / "shout_exporter.py").write_text(SHOUT)
    (src / "shout_broken_import.py").write_text(BROKEN_IMPORT)
    (src / "shout_broken_hook.py").write_text(BROKEN_HOOK)
    site = tmp_path_factory.mktemp("shout-site")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
            "--target",
            str(site),
            str(src),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert any(p.name.endswith(".dist-info") for p in site.iterdir())
    yield site


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, str]:
    """An environment with one session to export."""
    root = tmp_path / ".prompt_objects"
    with SessionManager.open(root, host=PluginHost.create(entry_points=False)) as mgr:
        s = mgr.create("coordinator", "Loud one")
        mgr.append(s.id, Message(role="user", content="hello there"))
        mgr.append(s.id, Message(role="assistant", content="general kenobi"))
    return root, s.id


def run_cli(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PROMPT_SESSIONS_", "PROMPT_OBJECTS_"))
    }
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), environ.get("PYTHONPATH")]))
    environ.update(env)
    return subprocess.run(
        [console_script(), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.stderr
    for word in words:
        assert word in error_lines[0]


def test_installed_exporter_is_used_by_export(plugin_site: Path, store: tuple[Path, str]) -> None:
    """`prompt-sessions export --format shout` uses the pip-installed plugin's exporter."""
    root, sid = store
    result = run_cli(plugin_site, "--dir", str(root), "export", "Loud one", "--format", "shout")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "LOUD ONE!\nUSER: HELLO THERE\nASSISTANT: GENERAL KENOBI\n"


def test_broken_plugins_are_reported_by_name_without_taking_the_app_down(
    plugin_site: Path, store: tuple[Path, str]
) -> None:
    """A plugin failing at import and one failing in its hook are named on stderr; export still works."""
    root, sid = store
    result = run_cli(plugin_site, "--dir", str(root), "export", sid[:8], "--format", "shout")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("LOUD ONE!")
    assert "broken_import" in result.stderr and "missing dependency" in result.stderr
    assert "broken_hook" in result.stderr and "exploded" in result.stderr
    assert "Traceback" not in result.stderr


def test_plugins_command_lists_the_installed_plugin(
    plugin_site: Path, store: tuple[Path, str]
) -> None:
    """`plugins --json` lists the plugin with its distribution, version and hooks."""
    root, _ = store
    result = run_cli(plugin_site, "--dir", str(root), "plugins", "--json")
    assert result.returncode == 0, result.stderr
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    assert listed["shout"]["version"] == VERSION
    assert listed["shout"]["package"] == DIST
    assert listed["shout"]["hooks"] == ["register_exporters"]
    assert listed["shout"]["builtin"] is False
    assert "broken_import" not in listed
    assert "broken_import" in result.stderr


def test_allow_list_limits_external_plugins(plugin_site: Path, store: tuple[Path, str]) -> None:
    """PROMPT_SESSIONS_PLUGINS=shout loads only that plugin, so the broken ones stay silent."""
    root, _ = store
    result = run_cli(
        plugin_site,
        "--dir",
        str(root),
        "export",
        "Loud one",
        "--format",
        "shout",
        PROMPT_SESSIONS_PLUGINS="shout",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("LOUD ONE!")
    assert "broken" not in result.stderr


def test_empty_allow_list_loads_no_external_plugin(
    plugin_site: Path, store: tuple[Path, str]
) -> None:
    """PROMPT_SESSIONS_PLUGINS="" loads none: the format is unknown and the known ones are listed."""
    root, _ = store
    result = run_cli(
        plugin_site,
        "--dir",
        str(root),
        "export",
        "Loud one",
        "--format",
        "shout",
        PROMPT_SESSIONS_PLUGINS="",
    )
    assert_one_line_error(result, "shout", "json", "markdown")
    assert result.stdout == ""
    markdown = run_cli(
        plugin_site, "--dir", str(root), "export", "Loud one", PROMPT_SESSIONS_PLUGINS=""
    )
    assert markdown.returncode == 0 and markdown.stdout.startswith("# Loud one")


def test_disable_list_blocks_a_plugin(plugin_site: Path, store: tuple[Path, str]) -> None:
    """PROMPT_SESSIONS_DISABLE_PLUGINS=shout,broken_import,broken_hook blocks them all, quietly."""
    root, _ = store
    result = run_cli(
        plugin_site,
        "--dir",
        str(root),
        "export",
        "Loud one",
        "--format",
        "shout",
        PROMPT_SESSIONS_DISABLE_PLUGINS="shout,broken_import,broken_hook",
    )
    assert_one_line_error(result, "shout")
    assert "broken" not in result.stderr
