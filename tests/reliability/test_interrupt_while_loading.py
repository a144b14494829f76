"""Ctrl-C in the first moments of a command, while its modules import and the store opens:
the real console script exits quietly (status 130, "Interrupted." at most, or 0 when the
command had already finished), never with a traceback or a crash, and the store stays healthy
(DESIGN section 6: no traceback; section 4: nothing half-done).

Each run waits until the program holds Ctrl-C (SIGINT blocked, as ``/proc/<pid>/status``
shows) and sends it after a delay; the interpreter's own start-up before that is CPython's,
and a signal there is Python's to report."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))
DELAYS = [0, 0.02, 0.05, 0.1, 0.2]  # seconds after the hold began
COMMANDS = {
    "send": ["send", "helper", "hello there"],
    "list": ["list"],
    "show": ["show", "Kept"],
    "search": ["search", "kept"],
    "new": ["new", "helper"],
    "import": ["import", "{export}"],
}
SIGINT_BIT = 1 << (signal.SIGINT - 1)


def make_store(tmp_path: Path, backend: str) -> tuple[Path, Path]:
    """A private store with one session ("Kept", one message) and its JSON export beside it."""
    root = tmp_path / ".prompt_objects"
    (root / "objects").mkdir(mode=0o700, parents=True)
    root.chmod(0o700)
    (root / "objects" / "helper.md").write_text("---\nname: helper\n---\nYou help.\n")
    (root / "config.toml").write_text(
        f'[storage]\nbackend = "{backend}"\n\n[responders.echo]\nchunk_delay_ms = 20\n'
    )
    for path in (root / "objects" / "helper.md", root / "config.toml"):
        path.chmod(0o600)
    from prompt_sessions.models import Message

    mgr = SessionManager.open(root, host=PluginHost.create(entry_points=False))
    try:
        kept = mgr.create(po_name="helper", name="Kept")
        mgr.append(kept.id, Message(role="user", content="kept words"))
        export = tmp_path / "kept.json"
        data = mgr.export(kept.id, format="json")
        export.write_bytes(data if isinstance(data, bytes) else data.encode())
    finally:
        mgr.close()
    return root, export


def holding(pid: int) -> bool:
    """Whether the process blocks SIGINT now (the program holds Ctrl-C while it loads)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigBlk:"):
            return bool(int(line.split()[1], 16) & SIGINT_BIT)
    return False


def interrupted(root: Path, args: list[str], delay: float) -> tuple[int, str, str, bool]:
    """Run the command, send SIGINT ``delay`` seconds after it began to hold Ctrl-C; the exit
    code, stdout, stderr and whether the hold was seen."""
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    proc = subprocess.Popen(
        [SCRIPT, "--dir", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        seen = False
        for _ in range(20_000):  # a bounded number of looks, not a timing assertion
            seen = holding(proc.pid)
            if seen or proc.poll() is not None:
                break
            time.sleep(0.0005)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out.decode(), err.decode(), seen


# Interrupted (130), finished first (0), or, when the signal came as the interpreter was
# ending and had put the default handler back, ended by it without a word.
QUIET_ENDS = {(130, "Interrupted."), (0, ""), (-signal.SIGINT, "")}


def healthy(root: Path) -> tuple[int, str]:
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    done = subprocess.run(
        [SCRIPT, "--dir", str(root), "doctor"], capture_output=True, env=env, timeout=60
    )
    return done.returncode, done.stdout.decode() + done.stderr.decode()


@pytest.mark.slow
@pytest.mark.parametrize("command", list(COMMANDS))
def test_ctrl_c_while_loading_is_quiet_and_saves_nothing_half_done(
    tmp_path: Path, command: str
) -> None:
    """For each delay: no traceback, exit 130 with at most "Interrupted." (or 0 with nothing
    on stderr when the command finished first), a signal that came while loading still exits
    130, and `doctor` finds the store healthy afterwards."""
    root, export = make_store(tmp_path, "json")
    args = [a.format(export=export) for a in COMMANDS[command]]
    seen_any = False
    for delay in DELAYS:
        code, _, err, seen = interrupted(root, args, delay)
        seen_any = seen_any or seen
        assert "Traceback" not in err and "Fatal Python error" not in err, (delay, err)
        assert (code, err.strip()) in QUIET_ENDS, (delay, code, err)
        if delay == 0 and seen:
            assert code == 130, "a Ctrl-C held while loading is not lost"
        doctor = healthy(root)
        assert doctor[0] == 0, (delay, doctor)
    assert seen_any, "the program never held Ctrl-C while it loaded"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["send", "new"])
def test_ctrl_c_while_loading_leaves_a_sqlite_store_healthy(tmp_path: Path, command: str) -> None:
    """The same on the sqlite backend for the commands that write."""
    root, export = make_store(tmp_path, "sqlite")
    args = [a.format(export=export) for a in COMMANDS[command]]
    for delay in DELAYS:
        code, _, err, _seen = interrupted(root, args, delay)
        assert "Traceback" not in err and "Fatal Python error" not in err, (delay, err)
        assert (code, err.strip()) in QUIET_ENDS, (delay, code, err)
        doctor = healthy(root)
        assert doctor[0] == 0, (delay, doctor)
