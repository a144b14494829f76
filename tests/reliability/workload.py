"""A mixed workload that reports each call: the child side of the crash loop.

Before each call the child writes an ``intent`` line and after it returns an ``ack`` line, so
the parent always knows every acknowledged operation and the single one that was in flight
when the SIGKILL landed.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import msgspec

from prompt_sessions.models import Message, Session
from reliability_support import open_manager

POS = ("coordinator", "writer")
STAMP = "2025-01-01T00:00:00.000Z"


def _content(rng: random.Random, token: str) -> str:
    # Mostly short messages, sometimes one that spans several pages, so a write can tear.
    size = rng.choice((0, 0, 0, 20, 200, 9000))
    return token + " " + "x" * size


def run(root: Path, seed: int, out_fd: int) -> None:
    """Run operations until killed. Each line on ``out_fd`` is one JSON event."""
    rng = random.Random(seed)

    def emit(event: dict[str, Any]) -> None:
        os.write(out_fd, json.dumps(event).encode() + b"\n")

    def reopen() -> Any:
        return open_manager(
            root,
            lock_timeout=10.0,
            fold_after_lines=rng.choice((2, 5, 2000)),
            idle_fold_seconds=rng.choice((None, 0.002, 0.05)),
        )

    mgr = reopen()
    emit({"ready": True})
    n = 0
    while True:
        n += 1
        token = f"s{seed}-{n}"
        sessions = mgr.list()
        ids = [s.id for s in sessions]
        counts = {s.id: s.message_count for s in sessions}
        trashed = [e.summary.id for e in mgr.trashed()]
        choices = ["create"] * 3 + ["import"]
        if ids:
            choices += ["append"] * 10 + ["rename"] * 2 + ["fork", "duplicate", "switch", "reopen"]
            choices += ["delete"] * (6 if len(ids) > 10 else 1)
        if trashed:  # delete moves to the trash; restore and purge take from it
            choices += ["restore"] * 2 + ["purge"] * (4 if len(trashed) > 5 else 1)
        op = rng.choice(choices)
        pool = trashed if op in ("restore", "purge") else ids
        sid = rng.choice(pool) if pool else None
        intent: dict[str, Any] = {"op": op, "id": sid, "token": token}
        if op == "create":
            intent.update(name=f"c {token}", po=rng.choice(POS))
        elif op == "import":
            intent.update(
                name=f"i {token}",
                po=rng.choice(POS),
                contents=[f"{token}-{i}" for i in range(rng.randint(0, 3))],
            )
        elif op == "append":
            intent.update(content=_content(rng, token))
        elif op == "rename":
            intent.update(name=f"r {token}")
        elif op == "fork":
            intent.update(name=f"f {token}", at=rng.randint(0, counts[sid]))
        elif op == "duplicate":
            intent.update(name=f"d {token}")
        emit({"intent": intent})
        result = perform(mgr, intent)
        if op == "reopen":
            mgr.close()
            mgr = reopen()
        emit({"ack": token, "id": result})


def perform(mgr: Any, intent: dict[str, Any]) -> str | None:
    op, sid = intent["op"], intent["id"]
    if op == "create":
        return mgr.create(intent["po"], intent["name"]).id
    if op == "import":
        doc = Session(
            id="00000000-0000-4000-8000-000000000000",
            name=intent["name"],
            po_name=intent["po"],
            created_at=STAMP,
            updated_at=STAMP,
            history=[Message(role="user", content=c, created_at=STAMP) for c in intent["contents"]],
        )
        return mgr.import_session(msgspec.json.encode(doc), format="json").id
    if op == "append":
        mgr.append(sid, Message(role="user", content=intent["content"]))
    elif op == "rename":
        mgr.rename(sid, intent["name"])
    elif op == "delete":
        mgr.delete(sid)
    elif op == "restore":
        mgr.restore(sid)
    elif op == "purge":
        mgr.backend.purge(sid)
    elif op == "fork":
        return mgr.fork(sid, at=intent["at"], name=intent["name"]).id
    elif op == "duplicate":
        return mgr.duplicate(sid, new_name=intent["name"]).id
    elif op == "switch":
        summary = mgr.get(sid)
        mgr.switch(summary.po_name, sid)
    return None
