"""One process of the concurrency test: a writer doing mixed calls, or a reader listing and reading.

Run as ``python concurrency_worker.py writer|reader ROOT INDEX OPS IDS_FILE STOP_FILE``; prints one
JSON document on stdout: what it acknowledged, in order, and every error it met.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from prompt_sessions.errors import PromptSessionsError  # noqa: E402
from prompt_sessions.models import Message  # noqa: E402
from reliability_support import open_manager  # noqa: E402

LOCK_TIMEOUT = 10.0


def writer(root: Path, index: int, ops: int, ids: list[str]) -> dict:
    rng = random.Random(index)
    mgr = open_manager(root, lock_timeout=LOCK_TIMEOUT, idle_fold_seconds=0.05)
    appended: list[tuple[str, str]] = []
    errors: list[str] = []
    counts = {"append": 0, "rename": 0, "get": 0, "list": 0, "update": 0, "scratch": 0, "flush": 0}
    for n in range(ops):
        op = rng.choices(list(counts), weights=(70, 8, 8, 5, 3, 3, 3))[0]
        sid = rng.choice(ids)
        try:
            if op == "append":
                content = f"w{index}-{n}"
                mgr.append(sid, Message(role="user", content=content))
                appended.append((sid, content))
            elif op == "rename":
                mgr.rename(sid, f"renamed by w{index} at {n}")
            elif op == "get":
                mgr.get(sid)
            elif op == "list":
                mgr.list()
            elif op == "update":
                mgr.update(sid, tags=[f"w{index}"])
            elif op == "scratch":
                scratch = mgr.create("scratch", f"w{index} scratch {n}")
                mgr.append(scratch.id, Message(role="user", content="temporary"))
                mgr.delete(scratch.id)
            else:
                mgr.flush()
            counts[op] += 1
        except PromptSessionsError as exc:
            errors.append(f"{op}: {type(exc).__name__}: {exc}")
    mgr.close()
    return {"appended": appended, "errors": errors, "counts": counts}


def reader(root: Path, index: int, ids: list[str], stop: Path) -> dict:
    rng = random.Random(1000 + index)
    mgr = open_manager(root, lock_timeout=LOCK_TIMEOUT, idle_fold_seconds=None)
    errors: list[str] = []
    reads = lists = 0
    while not stop.exists():
        try:
            listed = mgr.list()
            lists += 1
            if mgr.problems():
                errors.append(f"list reported damage: {mgr.problems()}")
            shown = {s.id for s in listed}
            if not set(ids) <= shown:
                errors.append(f"list missed {len(set(ids) - shown)} sessions")
            for sid in rng.sample(ids, 5):
                mgr.get(sid)
                reads += 1
        except PromptSessionsError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.001)
    mgr.close()
    return {"errors": errors, "reads": reads, "lists": lists}


def main() -> None:
    role, root, index, ops, ids_file, stop = sys.argv[1:7]
    ids = json.loads(Path(ids_file).read_text())
    if role == "writer":
        result = writer(Path(root), int(index), int(ops), ids)
    else:
        result = reader(Path(root), int(index), ids, Path(stop))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
