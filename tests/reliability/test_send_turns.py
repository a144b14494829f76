"""Concurrent `send`s to one session take turns: each reply answers its own message.

Real processes of the console script, on both stores (DESIGN sections 4 and 6).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from prompt_sessions import SessionManager
from prompt_sessions.reply_lease import ReplyLease, lease_path

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))
SENDERS = 8


def _env() -> dict[str, str]:
    return {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}


def _cli(root: Path, *args: str) -> list[str]:
    return [SCRIPT, "--dir", str(root), *args]


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _cli(root, *args), capture_output=True, text=True, timeout=120, env=_env()
    )


@pytest.fixture(params=["json", "sqlite"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    store = tmp_path / ".prompt_objects"
    store.mkdir()
    config = "[responders.echo]\nchunk_delay_ms = 1\n"
    if request.param == "sqlite":
        config += '[storage]\nbackend = "sqlite"\n'
    (store / "config.toml").write_text(config)
    (store / "config.toml").chmod(0o600)
    assert _run(store, "new", "reviewer", "--name", "conc").returncode == 0
    return store


def _history(root: Path, ref: str = "conc") -> list[tuple[str, str]]:
    shown = _run(root, "show", ref, "--json")
    assert shown.returncode == 0, shown.stderr
    return [(m["role"], m["content"]) for m in json.loads(shown.stdout)["history"]]


def _session_id(root: Path, ref: str = "conc") -> str:
    return json.loads(_run(root, "show", ref, "--json").stdout)["id"]


def test_concurrent_sends_to_one_session_take_turns(root: Path) -> None:
    """Eight processes sending to one session at once all exit 0, each prints the reply to its
    own message, and the history is exactly eight user/reply pairs, every reply answering the
    message right before it, nothing stored twice."""
    procs = [
        subprocess.Popen(
            _cli(root, "send", "reviewer", f"q{i}", "--session", "conc"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for i in range(SENDERS)
    ]
    for i, proc in enumerate(procs):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == f"You said: q{i}"
    history = _history(root)
    assert len(history) == 2 * SENDERS
    users = history[0::2]
    replies = history[1::2]
    assert all(role == "user" for role, _ in users)
    assert all(role == "assistant" for role, _ in replies)
    assert [reply for _, reply in replies] == [f"You said: {text}" for _, text in users]
    assert sorted(text for _, text in users) == sorted(f"q{i}" for i in range(SENDERS))


def test_send_that_cannot_get_the_lease_stores_nothing(root: Path) -> None:
    """While another holder keeps the session's lease, a send with a short --wait fails with one
    `Error:` line naming the session and the holder, exit 1, and stores nothing."""
    assert _run(root, "send", "reviewer", "first", "--session", "conc").returncode == 0
    before = _history(root)
    lease = ReplyLease(root, _session_id(root), "conc")
    lease.acquire(wait=0)
    try:
        sent = _run(root, "send", "reviewer", "second", "--session", "conc", "--wait", "0.5")
    finally:
        lease.release()
    assert sent.returncode == 1
    lines = sent.stderr.strip().splitlines()
    assert len(lines) == 1, sent.stderr
    assert lines[0].startswith("Error: session 'conc' is replying to another message")
    assert f"pid {os.getpid()}" in lines[0]
    assert "Traceback" not in sent.stderr
    assert _history(root) == before
    again = _run(root, "send", "reviewer", "second", "--session", "conc", "--wait", "0.5")
    assert again.returncode == 0, again.stderr
    assert _history(root) == [*before, ("user", "second"), ("assistant", "You said: second")]


def test_lease_of_a_killed_process_does_not_block(root: Path) -> None:
    """A process killed while it holds a session's lease leaves it free: the next send gets it
    at once (the kernel drops the lock)."""
    sid = _session_id(root)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import sys, time
                from pathlib import Path
                from prompt_sessions.reply_lease import ReplyLease
                lease = ReplyLease(Path({str(root)!r}), {sid!r}, "conc")
                lease.acquire(wait=0)
                print("held", flush=True)
                time.sleep(60)
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        blocked = _run(root, "send", "reviewer", "early", "--session", "conc", "--wait", "0")
        assert blocked.returncode == 1
        assert f"pid {holder.pid}" in blocked.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    sent = _run(root, "send", "reviewer", "late", "--session", "conc", "--wait", "0")
    assert sent.returncode == 0, sent.stderr
    assert _history(root) == [("user", "late"), ("assistant", "You said: late")]


def test_sends_to_other_sessions_do_not_wait(root: Path) -> None:
    """A lease held on one session never delays a send to another session of the same PO."""
    assert _run(root, "new", "reviewer", "--name", "other").returncode == 0
    lease = ReplyLease(root, _session_id(root), "conc")
    lease.acquire(wait=0)
    try:
        sent = _run(root, "send", "reviewer", "hi", "--session", "other", "--wait", "0")
    finally:
        lease.release()
    assert sent.returncode == 0, sent.stderr
    assert _history(root, "other") == [("user", "hi"), ("assistant", "You said: hi")]


def test_lease_file_is_private_and_apart_from_the_data(root: Path) -> None:
    """The lease lives in `leases/<id>.lock`, 0600 in a 0700 folder, and the store's own
    listing is unchanged by it (no session appears or goes missing)."""
    assert _run(root, "send", "reviewer", "x", "--session", "conc").returncode == 0
    path = lease_path(root, _session_id(root))
    assert path.is_file()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    backend = "sqlite" if (root / "sessions.sqlite3").exists() else "json"
    mgr = SessionManager.open(root, config={"storage": {"backend": backend}})
    try:
        assert [s.name for s in mgr.list()] == ["conc"]
    finally:
        mgr.close()


def test_send_to_a_newer_store_leaves_no_lease_behind(tmp_path: Path) -> None:
    """A send that a read-only (newer) store refuses fails in one line and leaves the folder as
    it was: no `leases/` folder appears."""
    store = tmp_path / ".prompt_objects"
    store.mkdir()
    (store / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    (store / "config.toml").chmod(0o600)
    assert _run(store, "new", "reviewer", "--name", "conc").returncode == 0
    index = store / "sessions" / "index.json"
    catalog = json.loads(index.read_text())
    catalog["format_version"] = 99
    index.write_text(json.dumps(catalog))
    index.chmod(0o600)
    before = sorted(p.name for p in store.iterdir())
    sent = _run(store, "send", "reviewer", "hi", "--session", "conc")
    assert sent.returncode == 1
    assert len(sent.stderr.strip().splitlines()) == 1
    assert "newer than this program" in sent.stderr
    assert sorted(p.name for p in store.iterdir()) == before
    # No session named, and the PO has none yet: its first session would be made (under the
    # PO's first-session lock), and the refusal still leaves no folder behind.
    sent = _run(store, "send", "writer", "hi")
    assert sent.returncode == 1 and "newer than this program" in sent.stderr
    assert sorted(p.name for p in store.iterdir()) == before


def test_concurrent_sends_without_a_session_share_the_new_current_one(root: Path) -> None:
    """Eight processes sending at once to a PO that has no session yet (no --session) all exit
    0 and end up in one new current session holding eight user/reply pairs."""
    procs = [
        subprocess.Popen(
            _cli(root, "send", "fresh", f"f{i}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for i in range(SENDERS)
    ]
    for i, proc in enumerate(procs):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == f"You said: f{i}"
    listed = json.loads(_run(root, "list", "--po", "fresh", "--json").stdout)
    assert len(listed) == 1
    history = _history(root, listed[0]["id"])
    assert len(history) == 2 * SENDERS
    for (role, asked), (reply_role, answered) in zip(history[0::2], history[1::2], strict=True):
        assert (role, reply_role) == ("user", "assistant")
        assert answered == f"You said: {asked}"


@pytest.mark.parametrize("wait", ["nan", "inf", "-1", "1e9"])
def test_send_refuses_a_wait_that_is_not_bounded(root: Path, wait: str) -> None:
    """--wait must be a number of seconds from 0 to a day: anything else is a usage error (exit
    2) that stores nothing."""
    sent = _run(root, "send", "reviewer", "hi", "--session", "conc", "--wait", wait)
    assert sent.returncode == 2
    assert "--wait" in sent.stderr
    assert "Traceback" not in sent.stderr
    assert _history(root) == []
