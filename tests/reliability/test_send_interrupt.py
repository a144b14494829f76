"""Ctrl-C (or SIGTERM) during ``prompt-sessions send``: the reply stops, the text that
arrived is kept (incomplete), and the process says one line and exits 130 (143), however many
times the signal comes while that text is being saved. The real console script runs against
an echo reply slowed to a few seconds."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from send_process import make_store, send_process

from prompt_sessions.context import AppContext
from prompt_sessions.models import Session
from prompt_sessions.plugins import PluginHost

ONE_LINE = "\nInterrupted.\n"  # the blank line ends the ^C a terminal echoes


def stored_session(root: Path) -> Session:
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    try:
        (summary,) = ctx.manager.list("helper")
        return ctx.manager.get(summary.id)
    finally:
        ctx.manager.close()


def interrupted_send(
    root: Path, gaps: list[float], signum: int = signal.SIGINT
) -> tuple[int, str, str]:
    """Run ``send``, and once reply text is on stdout send one ``signum``, then one more after
    each of ``gaps`` (seconds). The exit code, stdout and stderr."""
    with send_process(root) as proc:
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        printed = b""
        for _ in range(300):  # a bounded number of looks, not a timing assertion
            printed += proc.stdout.read() or b""
            if b"word1" in printed:
                break
            time.sleep(0.05)
        assert b"word1" in printed, "the reply never started"
        proc.send_signal(signum)
        for gap in gaps:
            time.sleep(gap)
            if proc.poll() is None:
                proc.send_signal(signum)
        os.set_blocking(proc.stdout.fileno(), True)
        out, err = proc.communicate(timeout=30)
    return proc.returncode, (printed + out).decode(), err.decode()


def assert_kept(root: Path, printed: str) -> None:
    """The session holds the message and, incomplete, the reply text that was printed."""
    session = stored_session(root)
    assert [m.role for m in session.history] == ["user", "assistant"]
    reply = session.history[-1]
    assert reply.incomplete is True
    assert reply.content and printed.startswith(reply.content)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_one_ctrl_c_says_one_line_and_keeps_the_text(tmp_path: Path, backend: str) -> None:
    """One Ctrl-C mid-reply: exit 130, 'Interrupted.' alone on stderr, the text kept."""
    root = make_store(tmp_path, backend)
    code, printed, err = interrupted_send(root, [])
    assert (code, err) == (130, ONE_LINE)
    assert_kept(root, printed)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["json", "sqlite"])
@pytest.mark.parametrize("gap", [0.005, 0.02, 0.05])
def test_ctrl_c_twice_says_what_one_says(tmp_path: Path, backend: str, gap: float) -> None:
    """Ctrl-C pressed twice ``gap`` seconds apart mid-reply, the second while the text that
    arrived is being saved or the process is ending: the same exit code and the same one line
    as a single Ctrl-C (no traceback, no asyncio task or event loop complaint), and the text
    is kept."""
    root = make_store(tmp_path, backend)
    code, printed, err = interrupted_send(root, [gap])
    assert "Traceback" not in err and "Task" not in err and "Event loop" not in err, err
    assert (code, err) == (130, ONE_LINE)
    assert_kept(root, printed)


@pytest.mark.slow
@pytest.mark.parametrize("gaps", [[], [0.02]], ids=["once", "twice"])
def test_sigterm_says_terminated_and_keeps_the_text(tmp_path: Path, gaps: list[float]) -> None:
    """SIGTERM mid-reply, once or twice: exit 143, 'Terminated.' alone on stderr, the text
    kept."""
    root = make_store(tmp_path, "json")
    code, printed, err = interrupted_send(root, gaps, signal.SIGTERM)
    assert (code, err) == (143, "Terminated.\n")
    assert_kept(root, printed)


def _send_with_stdout(root: Path, stdout: str) -> tuple[int, str]:
    """Run ``send`` whose stdout is a pipe the reader closes after one byte (``| head -c1``),
    or closed from the start (``>&-``). The exit code and stderr."""
    if stdout == "closed":
        # the child starts with no stdout at all
        with send_process(root, stdout=None, preexec_fn=lambda: os.close(1)) as proc:
            _, err = proc.communicate(timeout=60)
        return proc.returncode, err.decode()
    with send_process(root) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(1)
        proc.stdout.close()  # the reader went away, as ``head -c1`` does
        err = proc.stderr.read()
        return proc.wait(timeout=60), err.decode()


@pytest.mark.parametrize("stdout", ["reader gone", "closed"])
def test_a_reply_nobody_reads_is_saved_whole_without_a_word(tmp_path: Path, stdout: str) -> None:
    """``send`` whose stdout breaks after the first byte (``| head -c1``) or is closed from the
    start stops printing but saves the whole reply, says nothing on stderr and exits 0, as
    ``list`` does when its reader goes away."""
    root = make_store(tmp_path, "json")
    (root / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 5\n")

    code, err = _send_with_stdout(root, stdout)

    assert (code, err) == (0, "")
    session = stored_session(root)
    assert [m.role for m in session.history] == ["user", "assistant"]
    assert session.history[-1].incomplete is not True
    assert session.history[-1].content.endswith("word59")
