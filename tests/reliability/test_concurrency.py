"""Many processes, one store (issue 3, suite 3), and what the store lock promises.

Eight writer processes run mixed calls over 50 shared sessions while two readers list and read
all the while. Then: every acknowledged message is in the store exactly once and in each
writer's order, the catalog equals a rebuild, no reader met an unreadable file, and no lock wait
ran into the timeout. Separately: a lock holder killed with SIGKILL does not block the next
writer; a hung holder makes others fail with LockTimeout naming the lock and the holder's pid;
a forked child can neither release its parent's lock nor write under it.
"""

from __future__ import annotations

import collections
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prompt_sessions.errors import LockTimeout
from prompt_sessions.models import Message
from prompt_sessions.storage.json_backend import JsonBackend
from reliability_support import assert_at_rest, by_id, open_manager, rebuilt_summaries, scaled

HERE = Path(__file__).parent
WRITERS = 8
READERS = 2
OPS = scaled(1000)
SESSIONS = 50


def spawn(role: str, root: Path, index: int, ids_file: Path, stop: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(HERE / "concurrency_worker.py"),
            role,
            str(root),
            str(index),
            str(OPS),
            str(ids_file),
            str(stop),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> dict:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_eight_writers_two_readers_lose_and_reorder_nothing(tmp_path: Path) -> None:
    """8 x 1,000 mixed calls plus 2 readers: exact messages, per-writer order, clean catalog."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    ids = [mgr.create("shared", f"shared {i}").id for i in range(SESSIONS)]
    mgr.close()
    ids_file = tmp_path / "ids.json"
    ids_file.write_text(json.dumps(ids))
    stop = tmp_path / "stop"

    readers = [spawn("reader", root, i, ids_file, stop) for i in range(READERS)]
    writers = [spawn("writer", root, i, ids_file, stop) for i in range(WRITERS)]
    results = [finish(p) for p in writers]
    stop.touch()
    seen = [finish(p) for p in readers]

    errors = [e for r in results for e in r["errors"]]
    assert errors == [], (
        f"writers met errors (a LockTimeout means a wait passed the timeout): {errors[:5]}"
    )
    reader_errors = [e for r in seen for e in r["errors"]]
    assert reader_errors == [], reader_errors[:5]
    assert all(r["reads"] > 0 for r in seen)

    mgr = open_manager(root)
    stored = {sid: [m.content for m in mgr.get(sid).history] for sid in ids}
    assert set(by_id(mgr.list())) == set(ids), "scratch sessions left behind or shared ones lost"
    mgr.close()
    assert_at_rest(root)

    expected = collections.Counter((sid, c) for r in results for sid, c in r["appended"])
    actual = collections.Counter((sid, c) for sid, contents in stored.items() for c in contents)
    assert actual == expected
    for index, result in enumerate(results):
        prefix = f"w{index}-"
        for sid in ids:
            mine = [c for c in stored[sid] if c.startswith(prefix)]
            assert mine == [c for s, c in result["appended"] if s == sid], (
                f"writer {index} reordered in {sid}"
            )
    total = sum(sum(r["counts"].values()) for r in results)
    print(
        f"concurrency: {WRITERS} writers x {OPS} calls ({total} done, {sum(expected.values())} appends), "
        f"readers: {[(r['lists'], r['reads']) for r in seen]}"
    )


HOLDER = """
import sys, time
from prompt_sessions.storage.json_backend import JsonBackend
backend = JsonBackend(sys.argv[1])
backend.lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


def start_holder(root: Path) -> subprocess.Popen[str]:
    (root / "sessions").mkdir(parents=True, mode=0o700, exist_ok=True)
    os.chmod(root, 0o700)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def stop_holder(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.stdout is not None
    proc.stdout.close()


def test_hung_holder_makes_others_fail_with_lock_timeout_naming_it(tmp_path: Path) -> None:
    """A holder that never lets go: the next writer fails after its timeout, naming lock and pid."""
    root = tmp_path / ".prompt_objects"
    holder = start_holder(root)
    backend = JsonBackend(root, lock_timeout=0.5, idle_fold_seconds=None)
    try:
        started = time.monotonic()
        with pytest.raises(LockTimeout) as caught:
            mgr = open_manager(root, lock_timeout=0.5)
            mgr.create("po", "blocked")
        waited = time.monotonic() - started
    finally:
        stop_holder(holder)
        backend.close()
    assert caught.value.lock_path == str(root / "sessions" / ".lock")
    assert caught.value.holder == f"pid {holder.pid}"
    assert f"pid {holder.pid}" in str(caught.value) and ".lock" in str(caught.value)
    # It waited for the timeout, and gave up well before a default 10 s wait would have.
    assert 0.5 <= waited < 8.0


def test_lock_holder_killed_with_sigkill_does_not_block_the_next_writer(tmp_path: Path) -> None:
    """The kernel drops a dead holder's flock: the next writer gets the lock at once."""
    root = tmp_path / ".prompt_objects"
    holder = start_holder(root)
    stop_holder(holder)
    mgr = open_manager(root, lock_timeout=2.0)
    session = mgr.create("po", "after the crash")
    mgr.append(session.id, Message(role="user", content="written"))
    mgr.close()
    assert_at_rest(root)
    assert set(rebuilt_summaries(root)) == {session.id}


def _lock_is_free(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing our own descriptor drops a probe lock we may have taken
    return True


def test_forked_child_cannot_release_or_share_the_parents_lock(tmp_path: Path) -> None:
    """A child forked while the lock is held neither unlocks the parent nor writes under its hold."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root, lock_timeout=0.3)
    session = mgr.create("po", "forked")
    lock = mgr.backend.lock  # type: ignore[attr-defined]
    lock.acquire()
    try:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                lock.release()  # leaving a `with` block in the child
                try:
                    mgr.append(session.id, Message(role="user", content="from the child"))
                    code = 10  # wrote while the parent held the lock
                except LockTimeout:
                    code = 0
            except BaseException:
                code = 11
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, (
            "the child released or shared the parent's lock"
        )
        assert lock.held and not _lock_is_free(lock.path), "the parent lost its lock to the child"
    finally:
        lock.release()
    assert _lock_is_free(lock.path)
    assert mgr.get(session.id).history == []
    mgr.close()
