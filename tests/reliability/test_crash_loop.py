"""The crash loop (issue 3, suite 1): SIGKILL a writer at random moments, again and again.

The workload deletes to the trash, restores and purges too: after every kill each session is
whole in exactly one place, live or trashed.

A forked child runs the mixed workload of ``workload.py`` and reports every call; the parent
kills it at a random moment. After each kill, before any open: every session file parses as it
lies. Then the store must hold exactly the acknowledged state, or that state plus the one call
in flight; a fresh open must sweep every temp file, list what a rebuild from the files says, and
fold to a catalog equal to that rebuild.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import time
import traceback
from pathlib import Path
from typing import Any

import msgspec

import workload
from prompt_sessions.storage import catalog, session_codec
from reliability_support import (
    assert_at_rest,
    by_id,
    open_manager,
    rebuilt_summaries,
    scaled,
    session_files,
    temp_files,
)

KILLS = scaled(200)
# id -> (name, po, message contents, "live" or "trash")
State = dict[str, tuple[str, str, tuple[str, ...], str]]


def read_state(root: Path) -> State:
    """The store as the files lie, decoded strictly: a file that does not parse fails here, and
    so does a session found both live and in the trash (it must be whole in exactly one place)."""
    state = {}
    trash = root / "trash"
    trashed = {p.name[:-5]: p for p in trash.iterdir()} if trash.is_dir() else {}
    for place, found in (("live", session_files(root)), ("trash", trashed)):
        for sid, path in found.items():
            assert sid not in state, f"session {sid} is both live and in the trash"
            s = session_codec.decode_session(path.read_bytes(), sid)
            state[sid] = (s.name, s.po_name, tuple(m.content for m in s.history), place)
    return state


def apply(state: State, intent: dict[str, Any], new_id: str | None) -> State:
    """The model: what one acknowledged call does to the store."""
    after = dict(state)
    op, sid = intent["op"], intent["id"]
    if op == "create":
        after[new_id] = (intent["name"], intent["po"], (), "live")  # type: ignore[index]
    elif op == "import":
        contents = tuple(intent["contents"])
        after[new_id] = (intent["name"] + " (imported)", intent["po"], contents, "live")  # type: ignore[index]
    elif op == "append":
        name, po, contents, place = after[sid]
        after[sid] = (name, po, (*contents, intent["content"]), place)
    elif op == "rename":
        _, po, contents, place = after[sid]
        after[sid] = (intent["name"], po, contents, place)
    elif op in ("delete", "restore"):  # delete moves to the trash, restore back
        name, po, contents, _ = after[sid]
        after[sid] = (name, po, contents, "trash" if op == "delete" else "live")
    elif op == "purge":
        del after[sid]
    elif op == "fork":
        _, po, contents, _ = after[sid]
        after[new_id] = (intent["name"], po, contents[: intent["at"]], "live")  # type: ignore[index]
    elif op == "duplicate":
        _, po, contents, _ = after[sid]
        after[new_id] = (intent["name"], po, contents, "live")  # type: ignore[index]
    return after


def matches(actual: State, acked: State, inflight: dict[str, Any] | None) -> bool:
    if actual == acked:
        return True
    if inflight is None:
        return False
    if inflight["op"] in ("create", "import", "fork", "duplicate"):
        extra = actual.keys() - acked.keys()
        if len(extra) != 1:
            return False
        (new_id,) = extra
        return actual == apply(acked, inflight, new_id)
    return actual == apply(acked, inflight, None)


def run_child(root: Path, seed: int) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run until killed, never return into pytest
        try:
            os.close(read_end)
            workload.run(root, seed, write_end)
        except BaseException:
            os.write(write_end, json.dumps({"error": traceback.format_exc()}).encode() + b"\n")
        finally:
            os._exit(3)
    os.close(write_end)
    return pid, read_end


def kill_at_random(pid: int, read_end: int, rng: random.Random) -> list[dict[str, Any]]:
    """Let the child run a random number of calls plus a random fraction of one, then SIGKILL it."""
    target = rng.choice((0, 1, 2, 5, 10, 20, 40))
    buffer = b""
    acks = 0
    started = time.monotonic()
    while acks < target + 1 and time.monotonic() - started < 30:  # +1: the "ready" line
        ready, _, _ = select.select([read_end], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        buffer += chunk
        acks = buffer.count(b'"ack"') + buffer.count(b'"ready"')
    time.sleep(rng.choice((0.0, 0.0001, 0.0005, 0.001, 0.003)))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    while chunk := os.read(read_end, 65536):
        buffer += chunk
    os.close(read_end)
    assert os.WIFSIGNALED(status) or b'"error"' in buffer, "the workload ended on its own"
    lines = buffer.split(b"\n")[:-1]  # a line cut by the kill is not an acknowledgement
    events = [json.loads(line) for line in lines]
    errors = [e["error"] for e in events if "error" in e]
    assert not errors, errors[0]
    return events


def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """Hundreds of SIGKILLs: files parse as they lie, no acknowledged call lost, clean reopen."""
    root = tmp_path / ".prompt_objects"
    rng = random.Random(20250103)
    state: State = {}
    stats = {"acked": 0, "inflight_applied": 0, "folds_seen": 0}
    for round_no in range(KILLS):
        pid, read_end = run_child(root, seed=round_no)
        events = kill_at_random(pid, read_end, rng)
        acked = state
        inflight = None
        for event in events:
            if "intent" in event:
                inflight = event["intent"]
            elif "ack" in event:
                assert inflight is not None and event["ack"] == inflight["token"]
                acked = apply(acked, inflight, event["id"])
                inflight = None
                stats["acked"] += 1

        # As it lies, before any open: every session file parses and the catalog decodes.
        actual = read_state(root)
        index = root / "sessions" / "index.json"
        if index.exists():
            msgspec.json.decode(index.read_bytes(), type=catalog.CatalogFile)
        stats["folds_seen"] += int(not (root / "sessions" / "index.journal").exists())
        assert matches(actual, acked, inflight), (
            f"round {round_no}: the store lost an acknowledged call or holds more than the one "
            f"in flight ({inflight})"
        )
        stats["inflight_applied"] += int(actual != acked)

        mgr = open_manager(root)
        assert temp_files(root) == [], "temp files survived the sweep on open"
        assert by_id(mgr.list()) == rebuilt_summaries(root)
        mgr.close()
        assert_at_rest(root)
        state = actual
    assert stats["acked"] > KILLS, f"too little work between kills: {stats}"
    print(f"crash loop: {KILLS} kills, {stats}")
