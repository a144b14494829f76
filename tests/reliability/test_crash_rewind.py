"""SIGKILL during rewinds and undos (DESIGN section 14, "Rewind without loss"): on both stores,
a writer that appends, rewinds and undoes is killed at random moments, again and again. After
each kill every message it was told was stored is still in at least one session, the rewound
session is still there, and the store opens healthy."""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import time
import traceback
from pathlib import Path
from typing import Any

import pytest
from reliability_support import scaled

from prompt_sessions.errors import UsageError
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost

KILLS = scaled(25)


def _open(root: Path, backend: str) -> SessionManager:
    return SessionManager.open(
        root, host=PluginHost.create(entry_points=False), backend=backend, config={}
    )


def _work(root: Path, backend: str, sid: str, seed: int, out: int) -> None:
    """The child: append, rewind and undo until killed; an ``ack`` line after each append."""
    rng = random.Random(seed)
    mgr = _open(root, backend)
    os.write(out, b'{"ready": true}\n')
    n = 0
    while True:
        n += 1
        op = rng.choice(("append", "append", "rewind", "undo"))
        count = mgr.backend.list()[0].message_count if op == "rewind" else 0
        if op == "append":
            token = f"s{seed}-{n}"
            mgr.append(sid, Message(role="user", content=token))
            os.write(out, json.dumps({"ack": token}).encode() + b"\n")
        elif op == "rewind" and count:
            mgr.rewind(sid, rng.randint(0, count - 1))
            os.write(out, b'{"rewound": true}\n')
        elif op == "undo":
            with contextlib.suppress(UsageError):  # nothing to undo yet
                mgr.undo_rewind(sid)
            os.write(out, b'{"undone": true}\n')


def _run_and_kill(
    root: Path, backend: str, sid: str, seed: int, rng: random.Random
) -> list[dict[str, Any]]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _work(root, backend, sid, seed, write_end)
        except BaseException:
            os.write(write_end, json.dumps({"error": traceback.format_exc()}).encode() + b"\n")
        finally:
            os._exit(3)
    os.close(write_end)
    target, buffer, started = rng.choice((1, 3, 8, 15)), b"", time.monotonic()
    while buffer.count(b"\n") < target + 1 and time.monotonic() - started < 30:
        ready, _, _ = select.select([read_end], [], [], 1.0)
        if ready and not (chunk := os.read(read_end, 65536)):
            break
        if ready:
            buffer += chunk
    time.sleep(rng.choice((0.0, 0.0005, 0.002, 0.005)))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    while chunk := os.read(read_end, 65536):
        buffer += chunk
    os.close(read_end)
    events = [json.loads(line) for line in buffer.split(b"\n")[:-1]]
    errors = [e["error"] for e in events if "error" in e]
    assert not errors, errors[0]
    return events


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_sigkill_during_rewind_and_undo_loses_no_message(tmp_path: Path, backend: str) -> None:
    """Every acknowledged message survives in some session; the session itself survives."""
    root = tmp_path / ".prompt_objects"
    with _open(root, backend) as mgr:
        sid = mgr.create("po", "Rewound").id
    rng = random.Random(14)
    acked: set[str] = set()
    rewinds = 0
    for round_no in range(KILLS):
        events = _run_and_kill(root, backend, sid, round_no, rng)
        acked |= {e["ack"] for e in events if "ack" in e}
        rewinds += sum("rewound" in e for e in events)
        with _open(root, backend) as mgr:
            assert mgr.check().healthy
            stored = {m.content for s in mgr.list() for m in mgr.get(s.id).history}
            assert sid in {s.id for s in mgr.list()}, f"round {round_no}: the session is gone"
            lost = acked - stored
            assert not lost, f"round {round_no}: lost {sorted(lost)[:3]}"
    assert acked and rewinds, "the writer never got to work"
