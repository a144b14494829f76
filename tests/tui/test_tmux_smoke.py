"""The installed ``prompt-sessions`` script in a real terminal (tmux): talk, S, a slash command, q."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from prompt_sessions.context import AppContext
from prompt_sessions.plugins import PluginHost


class Tmux:
    """One tmux server on a private socket, so the test never touches the user's sessions."""

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket = f"ps-smoke-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "smoke")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "smoke", *keys)

    def text(self, text: str) -> None:
        self.run("send-keys", "-t", "smoke", "-l", text)

    def wait_for(self, check: Callable[[str], bool], what: str, tries: int = 400) -> str:
        """Poll the pane (bounded number of looks, not a timing assertion)."""
        seen = ""
        for _ in range(tries):
            seen = self.screen()
            if check(seen):
                return seen
            time.sleep(0.1)
        raise AssertionError(f"never saw {what}; the screen was:\n{seen}")

    def alive(self) -> bool:
        return (
            subprocess.run(
                [self.tmux, "-L", self.socket, "has-session", "-t", "smoke"], capture_output=True
            ).returncode
            == 0
        )


@pytest.mark.slow
def test_console_script_in_tmux(tmp_path: Path):
    """Runs the installed script: a message gets its reply, S opens the picker, /session new
    creates a session, q quits; the store holds what was done."""
    tmux_path = shutil.which("tmux")
    if tmux_path is None:
        pytest.fail(
            "tmux is not installed; the repository's set-up installs it (apt-get install tmux)"
        )
    script = shutil.which("prompt-sessions")
    if script is None:
        pytest.fail("the prompt-sessions console script is not installed (pip install -e .)")
    store = tmp_path / ".prompt_objects"
    (store / "objects").mkdir(parents=True)
    (store / "objects" / "helper.md").write_text("---\nname: helper\n---\nYou help.\n")
    (store / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    tmux = Tmux(tmux_path)
    env_prefix = "env PROMPT_SESSIONS_PLUGINS= TERM=xterm-256color"
    try:
        tmux.run(
            "new-session",
            "-d",
            "-s",
            "smoke",
            "-x",
            "110",
            "-y",
            "32",
            f"{env_prefix} {script} --dir {store}",
        )
        tmux.wait_for(lambda s: "Session: New Session (0 msgs)" in s, "the main screen")
        tmux.text("hello from tmux")
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "You said: hello from tmux" in s, "the echo reply")
        tmux.keys("Escape")
        time.sleep(0.3)  # a lone Esc must not merge with the next key into alt+S
        tmux.keys("S")
        tmux.wait_for(lambda s: "Sessions of helper" in s, "the session picker")
        tmux.keys("Escape")
        tmux.wait_for(lambda s: "Sessions of helper" not in s, "the picker closing")
        # Focus goes back where it was before the picker: the keys of that place show.
        tmux.wait_for(lambda s: "S sessions" in s, "the keys outside the message box")
        tmux.keys("i")
        # The status bar's keys of the message box (its placeholder says "Enter sends" too).
        tmux.wait_for(lambda s: "Esc keys (S N E q)" in s, "the message box's keys")
        tmux.text("/session new Smoke [test]")
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "helper: Smoke [test]" in s, "the new session's title")
        tmux.keys("Escape")
        time.sleep(0.3)
        tmux.keys("q")
        for _ in range(100):
            if not tmux.alive():
                break
            time.sleep(0.1)
        assert not tmux.alive(), "q did not quit"
    finally:
        if tmux.alive():
            tmux.run("kill-server")
    ctx = AppContext.open(store, host=PluginHost.create(entry_points=False))
    names = {s.name: s for s in ctx.manager.list("helper")}
    assert set(names) == {"hello from tmux", "Smoke [test]"}  # named by its first message
    assert names["hello from tmux"].message_count == 2
    assert ctx.manager.backend.get_current("helper") == names["Smoke [test]"].id
    ctx.manager.close()
