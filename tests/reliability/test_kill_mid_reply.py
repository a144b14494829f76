"""kill -9 in the middle of a slow reply keeps the text shown up to the last checkpoint
(DESIGN section 8): the real console script (``send``, and the TUI in tmux) streams an echo
reply slowed to a few seconds, is SIGKILLed once the store holds a checkpoint, and the session
then ends with the partial text, ``incomplete: true``, which running the reply again answers in
full. Checkpoints run at their default interval (one second)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from send_process import SCRIPT, WORDS, make_store, send_process

from prompt_sessions.context import AppContext
from prompt_sessions.default_plugins.echo import echo_text
from prompt_sessions.models import Message, Session
from prompt_sessions.plugins import PluginHost
from prompt_sessions.runtime import Coordinator

FULL = echo_text(WORDS, "helper")


def open_ctx(root: Path) -> AppContext:
    return AppContext.open(root, host=PluginHost.create(entry_points=False))


def stored_sessions(root: Path) -> list[Session]:
    ctx = open_ctx(root)
    try:
        return [ctx.manager.get(s.id) for s in ctx.manager.list("helper")]
    finally:
        ctx.manager.close()


def wait_for(check: Callable[[], bool], what: str, tries: int = 300) -> None:
    """Poll (a bounded number of looks, not a timing assertion)."""
    for _ in range(tries):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"never saw {what}")


def checkpointed(root: Path) -> bool:
    """The store holds a provisional copy of the reply: an incomplete assistant message."""
    sessions = stored_sessions(root)
    return any(
        s.history and s.history[-1].role == "assistant" and s.history[-1].incomplete
        for s in sessions
    )


def assert_kept_and_answer_again(root: Path) -> None:
    """The killed reply is kept once, incomplete, as a prefix of the full text; running the
    reply again (``Coordinator.resume``) stores the full reply after it."""
    (session,) = stored_sessions(root)
    roles = [m.role for m in session.history]
    assert roles == ["user", "assistant"], roles
    partial = session.history[-1]
    assert partial.incomplete is True
    assert partial.content and FULL.startswith(partial.content) and partial.content != FULL

    async def again() -> None:
        ctx = open_ctx(root)
        coord = Coordinator(ctx, keep_workspace=False)
        try:
            assert await coord.resume(session.id)
            await coord.wait_idle(session.id)
        finally:
            await coord.shutdown()
            ctx.manager.close()

    asyncio.run(again())
    (after,) = stored_sessions(root)
    assert [(m.role, m.content, bool(m.incomplete)) for m in after.history] == [
        ("user", WORDS, False),
        ("assistant", partial.content, True),
        ("assistant", FULL, False),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_kill_during_send_keeps_the_text_shown(tmp_path: Path, backend: str) -> None:
    """``prompt-sessions send`` killed with SIGKILL mid-reply: what it printed up to the last
    checkpoint is stored, incomplete, once; the reply then runs again in full."""
    root = make_store(tmp_path, backend)
    with send_process(root) as proc:
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        wait_for(lambda: checkpointed(root), "a checkpoint of the reply")
        time.sleep(0.3)  # more text on screen after the checkpoint: lost with the kill
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        printed = (proc.stdout.read() or b"").decode()
    assert proc.returncode == -signal.SIGKILL, "the reply ended before the kill"
    (session,) = stored_sessions(root)
    assert printed.startswith(session.history[-1].content)
    assert_kept_and_answer_again(root)


class Tmux:
    """One tmux server on a private socket."""

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket = f"ps-kill-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "kill")


@pytest.mark.slow
def test_kill_of_the_tui_mid_reply_keeps_the_text_shown(tmp_path: Path) -> None:
    """The TUI in a real terminal, SIGKILLed while a reply streams: the store keeps the text
    up to the last checkpoint, incomplete; the reply then runs again in full."""
    tmux_path = shutil.which("tmux")
    if tmux_path is None:
        pytest.fail("tmux is not installed; the repository's set-up installs it")
    root = make_store(tmp_path, "json")
    ctx = open_ctx(root)
    session = ctx.manager.create("helper", "Killed", source="tui")
    ctx.manager.append(session.id, Message(role="user", content=WORDS))
    ctx.manager.switch("helper", session.id)
    ctx.manager.close()
    tmux = Tmux(tmux_path)
    try:
        tmux.run(
            "new-session",
            "-d",
            "-s",
            "kill",
            "-x",
            "110",
            "-y",
            "32",
            f"env PROMPT_SESSIONS_PLUGINS= TERM=xterm-256color {SCRIPT} --dir {root}",
        )
        wait_for(lambda: "Killed" in tmux.screen(), "the main screen")
        tmux.run("send-keys", "-t", "kill", "C-r")  # run the unanswered turn's reply
        wait_for(lambda: checkpointed(root), "a checkpoint of the reply")
        pid = int(tmux.run("display-message", "-p", "-t", "kill", "#{pane_pid}").strip())
        os.kill(pid, signal.SIGKILL)
    finally:
        tmux.run("kill-server")
    assert_kept_and_answer_again(root)
