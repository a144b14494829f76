"""Ctrl-C during ``prompt-sessions send`` before any reply text arrived (README, quick start):
one line, exit 130, and the message is kept, unanswered, with no empty reply stored."""

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


def roles(root: Path) -> list[str] | None:
    """The roles of the one session's messages, or None while there is no session."""
    if not any(p.name != "config.toml" for p in root.iterdir()):
        return None  # nothing stored yet: opening now would race the store's creation
    mgr = SessionManager.open(root, host=PluginHost.create(entry_points=False))
    try:
        found = mgr.list()
        return [m.role for m in mgr.get(found[0].id).history] if found else None
    finally:
        mgr.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_ctrl_c_before_the_reply_keeps_the_message_unanswered(tmp_path: Path, backend: str) -> None:
    """The echo reply waits 5 s before its first chunk; Ctrl-C once the message is stored:
    'Interrupted.' alone, exit 130, and the session holds the user message only."""
    root = tmp_path / ".prompt_objects"
    root.mkdir(mode=0o700)
    (root / "config.toml").write_text(
        f'[storage]\nbackend = "{backend}"\n\n[responders.echo]\nchunk_delay_ms = 5000\n'
    )
    (root / "config.toml").chmod(0o600)
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    proc = subprocess.Popen(
        [SCRIPT, "--dir", str(root), "send", "helper", "one two three four five six"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        for _ in range(400):  # a bounded number of looks, not a timing assertion
            if roles(root) == ["user"] or proc.poll() is not None:
                break
            time.sleep(0.01)
        assert roles(root) == ["user"], "the message was never stored"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (proc.returncode, out, err) == (130, b"", b"\nInterrupted.\n")
    assert roles(root) == ["user"]
