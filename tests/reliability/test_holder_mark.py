"""The lock file's holder mark tells a process that takes the store lock whether the process
before it ended with the store open (killed, perhaps mid-write): only then does the store check
every file at its next fold. A clean close, a running process, another machine's mark or an
older version's mark is never taken for a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import assert_at_rest, catalog_on_disk, open_manager

from prompt_sessions.models import Message
from prompt_sessions.storage import holder_mark
from prompt_sessions.storage.locking import StoreLock


def _dead_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def _taken_after(tmp_path: Path, mark: bytes) -> int | None:
    path = tmp_path / ".lock"
    path.write_bytes(mark)
    os.chmod(path, 0o600)
    lock = StoreLock(path, timeout=5.0, keep_open=True)
    lock.acquire()
    try:
        return lock.take_crashed()
    finally:
        lock.release()
        lock.close()


def test_a_dead_process_of_this_machine_without_done_is_a_crash(tmp_path: Path) -> None:
    """The mark of a process that ended with the store open is reported once, by pid."""
    pid = _dead_pid()
    assert _taken_after(tmp_path, holder_mark.live(pid)) == pid


@pytest.mark.parametrize(
    "mark",
    [
        pytest.param(lambda pid: holder_mark.done(pid), id="closed cleanly"),
        pytest.param(lambda pid: holder_mark.live(os.getppid()), id="still running"),
        pytest.param(lambda pid: f"{pid} another-machine\n".encode(), id="another machine"),
        pytest.param(lambda pid: f"{pid:<12d}\n".encode(), id="an older version's mark"),
        pytest.param(lambda pid: b"", id="no mark"),
        pytest.param(lambda pid: b"\xff\xfe garbage \x00\n", id="garbage"),
    ],
)
def test_marks_that_prove_no_crash(tmp_path: Path, mark: object) -> None:
    """A clean close, a running process, another machine's or an older version's mark, or no
    readable mark at all: nothing to suspect."""
    assert _taken_after(tmp_path, mark(_dead_pid())) is None  # type: ignore[operator]


def test_the_mark_is_rewritten_whole(tmp_path: Path) -> None:
    """A longer mark left before is cut to this process's own, which names it in a timeout."""
    path = tmp_path / ".lock"
    _taken_after(tmp_path, b"1 " + b"x" * 120 + b" done\n")
    assert path.read_bytes() == holder_mark.live(os.getpid())
    assert StoreLock(path)._holder() == f"pid {os.getpid()}"


def test_a_store_closed_cleanly_leaves_a_done_mark(tmp_path: Path) -> None:
    """Every process that took the lock signs off when it closes the store, so the next writer
    has no crash to suspect and keeps the folder pinned."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    sid = mgr.create("po", "a").id
    mgr.close()
    mark = holder_mark.parse((root / "sessions" / ".lock").read_bytes())
    assert mark is not None and mark.pid == os.getpid() and mark.done
    mgr = open_manager(root)
    mgr.append(sid, Message(role="user", content="hi"))
    assert mgr.backend.lock.take_crashed() is None  # type: ignore[attr-defined]
    mgr.close()
    assert os.stat(root / "sessions").st_mtime_ns == catalog_on_disk(root).folder_mtime_ns


_KILLED_MID_APPEND = """
import os, sys
from prompt_sessions.models import Message
from prompt_sessions.storage import json_store_base
from prompt_sessions.storage.json_backend import JsonBackend

def die(*args, **kwargs):
    os.kill(os.getpid(), 9)

json_store_base.JsonStoreBase._record = die  # the file is written, the journal line never is
backend = JsonBackend(sys.argv[1], idle_fold_seconds=None)
backend.append(sys.argv[2], Message(role="user", content="cut"))
"""


def test_a_write_killed_before_its_journal_line_is_listed_by_everyone(tmp_path: Path) -> None:
    """A process killed between its append and the journal line: the process that next takes
    the lock moves the folder off its stamp, so every list checks the files at once, and its
    own fold records the append; at rest the catalog counts the message."""
    root = tmp_path / ".prompt_objects"
    running = open_manager(root)
    sid = running.create("po", "a").id
    other = running.create("po", "b").id
    running.close()
    watcher = open_manager(root)  # open before the crash: it trusts a pinned folder
    running = open_manager(root)
    running.append(other, Message(role="user", content="journal in place"))
    assert {s.id: s.message_count for s in watcher.list()}[sid] == 0
    assert os.stat(root / "sessions").st_mtime_ns == catalog_on_disk(root).folder_mtime_ns
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_APPEND, str(root), sid],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -9, child.stderr
    running.append(other, Message(role="user", content="after"))  # takes the lock: notices
    assert {s.id: s.message_count for s in watcher.list()}[sid] == 1
    watcher.close()
    running.close()
    assert {e.id: e.message_count for e in catalog_on_disk(root).sessions}[sid] == 1
    assert_at_rest(root)
