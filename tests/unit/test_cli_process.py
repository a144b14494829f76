"""The real console script in a subprocess: exit codes, streams, and import cost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))


def run(
    store: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": "", **(env or {})}
    done = subprocess.run(
        [SCRIPT, "--dir", str(store), *args],
        capture_output=True,
        input=stdin if stdin is not None else b"",
        timeout=60,
        env=full_env,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    return root


def test_console_script_round_trip(store: Path) -> None:
    """new, send and list work through the installed console script."""
    assert run(store, "new", "coordinator", "--name", "Proc").returncode == 0
    sent = run(store, "send", "coordinator", "from a process")
    assert sent.returncode == 0 and sent.stdout.strip() == "You said: from a process"
    listed = json.loads(run(store, "list", "--json").stdout)
    assert listed[0]["name"] == "Proc" and listed[0]["message_count"] == 2


def test_error_exit_code_and_no_traceback(store: Path) -> None:
    """An error is one stderr line and exit status 1."""
    result = run(store, "show", "nothing")
    assert result.returncode == 1
    assert result.stderr.startswith("Error:") and "Traceback" not in result.stderr


def test_list_json_never_imports_textual(store: Path) -> None:
    """`list --json` must not pay for the TUI: Textual is never imported."""
    run(store, "new", "coordinator")
    code = (
        "import sys\n"
        "from prompt_sessions.cli import main\n"
        "try:\n"
        f"    main(['--dir', {str(store)!r}, 'list', '--json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('TEXTUAL' if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) else 'CLEAN', file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stderr.strip().endswith("CLEAN"), result.stderr


@pytest.mark.parametrize(
    "module",
    [
        "prompt_sessions.search",
        "prompt_sessions.search_query",
        "prompt_sessions.importing",
        "prompt_sessions.responders",
        "prompt_sessions.default_plugins.markdown_export",
        "prompt_sessions.default_plugins.markdown_text",
        "prompt_sessions.default_plugins.markdown_blocks",
        "prompt_sessions.tool_calls",
        "prompt_sessions.cli.name_note",
        "prompt_sessions.cli.po_note",
        "json",
        "difflib",
        "yaml",
        "sqlite3",
        "asyncio",
    ],
)
def test_list_json_loads_no_module_only_other_commands_use(store: Path, module: str) -> None:
    """`list --json` loads neither search, imports, responders, the Markdown exporter's writing,
    the notes and tool lines of other commands nor what only error messages use: each costs
    every `list` milliseconds (DESIGN section 10)."""
    run(store, "new", "coordinator")
    code = (
        "import sys\n"
        "from prompt_sessions.cli import main\n"
        "try:\n"
        f"    main(['--dir', {str(store)!r}, 'list', '--json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED' if {module!r} in sys.modules else 'CLEAN', file=sys.stderr)\n"
    )
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.stderr.strip().endswith("CLEAN"), result.stderr


def test_folder_at_rest_is_whole_truth(store: Path) -> None:
    """After the process exits, index.json lists every session and no journal is left."""
    for i in range(3):
        run(store, "send", "coordinator", f"message {i}")
    sessions = store / "sessions"
    assert not (sessions / "index.journal").exists()
    index = json.loads((sessions / "index.json").read_text())
    (entry,) = index["sessions"]
    assert entry["message_count"] == 6
    session = json.loads((sessions / f"{entry['id']}.json").read_text())
    assert len(session["history"]) == 6


def test_tui_start_with_a_bad_config_is_one_line(store: Path) -> None:
    """`prompt-sessions` with no command (the TUI) and a bad config.toml prints one error line
    naming the key and exits 1 before any screen is drawn."""
    (store / "config.toml").write_text('[storage]\nlock_timeout = "ten"\n')
    result = run(store)
    assert result.returncode == 1
    assert result.stderr == (
        'Error: config.toml: storage.lock_timeout: expected a number, got text "ten"\n'
    )
    assert result.stdout == ""


def test_send_dash_reads_the_message_from_standard_input(store: Path) -> None:
    """``send PO -`` sends what is piped in, whole lines kept, the final line end dropped."""
    sent = run(store, "send", "coordinator", "-", stdin="first line\nsecond ✓\n".encode())
    assert sent.returncode == 0, sent.stderr
    shown = json.loads(run(store, "show", "first line", "--po", "coordinator", "--json").stdout)
    assert shown["history"][0]["content"] == "first line\nsecond ✓"


@pytest.mark.parametrize(
    ("piped", "said"),
    [
        (b"caf\xe9\n", "standard input is not UTF-8 text (byte 3); nothing was sent"),
        (b"\n", "MESSAGE is empty"),
        (b"", "MESSAGE is empty"),
    ],
)
def test_send_dash_refuses_bad_standard_input_and_stores_nothing(
    store: Path, piped: bytes, said: str
) -> None:
    sent = run(store, "send", "coordinator", "-", stdin=piped)
    assert sent.returncode == 2
    assert said in sent.stderr and "Traceback" not in sent.stderr
    assert json.loads(run(store, "list", "--json").stdout) == []


def test_send_dash_at_a_terminal_says_how_the_message_ends(store: Path) -> None:
    """With a terminal on standard input, ``send PO -`` says on stderr how to end the message
    (Ctrl-D), then sends what was typed."""
    import pty

    main_fd, term_fd = pty.openpty()
    try:
        proc = subprocess.Popen(
            [SCRIPT, "--dir", str(store), "send", "coordinator", "-"],
            stdin=term_fd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PROMPT_SESSIONS_PLUGINS": ""},
        )
        os.write(main_fd, b"typed here\n\x04")
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(term_fd)
        os.close(main_fd)
    assert proc.returncode == 0, err
    assert err.decode() == "Type the message; end it with Ctrl-D on a line of its own.\n"
    assert out.decode().strip() == "You said: typed here"
