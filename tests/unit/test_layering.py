"""The session core must not depend on the TUI (the CLI's `list` must not pay for Textual)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml are kept (core never imports textual)."""
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_core_imports_leave_textual_unloaded() -> None:
    """Importing and using the manager, CLI and runtime modules does not load Textual."""
    code = (
        "import sys\n"
        "import prompt_sessions.manager, prompt_sessions.cli, prompt_sessions.plugins\n"
        "from prompt_sessions.plugins import PluginHost\n"
        "host = PluginHost.create(entry_points=False)\n"
        "host.exporters(); host.frontends(); host.commands()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
