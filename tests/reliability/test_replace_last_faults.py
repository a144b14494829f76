"""``replace_last`` on the JSON store under faults and kills (DESIGN section 4).

Every intercepted file-system call of a rewrite fails in turn, with ENOSPC, EIO and EACCES, once
and for good; and a forked writer rewriting the last message of a long session is SIGKILLed at
random moments. A rewrite cuts the file back to the last message before writing the new one,
so the only outcome besides old and new is a torn tail (the undo could not run, or the kill
landed inside the rewrite), which the next read repairs with every earlier message whole.
"""

from __future__ import annotations

import errno
import itertools
import os
import random
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from faults import FaultPlan, injected
from reliability_support import (
    abandon,
    assert_at_rest,
    by_id,
    hygiene_problems,
    open_manager,
    rebuilt_summaries,
    scaled,
)

from prompt_sessions.errors import PromptSessionsError
from prompt_sessions.models import Message, Session
from prompt_sessions.storage import session_codec

ERRNOS = (errno.ENOSPC, errno.EIO, errno.EACCES)


def message(i: int, size: int, role: str = "assistant") -> Message:
    return Message(
        role=role,
        content=f"m{i} " + "w" * size,
        created_at=f"2025-01-03T10:00:{i:02d}.000Z",
        incomplete=True if role == "assistant" else None,
    )


def _ours(path: Path) -> None:
    """The file as this program writes it: the rewrite works on its tail."""


def _pretty(path: Path) -> None:
    """A hand-edited layout: the rewrite replaces the whole file."""
    path.write_bytes(msgspec.json.format(path.read_bytes(), indent=2))


@pytest.mark.parametrize("layout", [_ours, _pretty], ids=["tail", "whole"])
@pytest.mark.parametrize("new_size", [3, 9000], ids=["shorter", "longer"])
def test_every_io_step_of_a_rewrite_fails_cleanly(
    tmp_path: Path, layout: Callable[[Path], None], new_size: int
) -> None:
    """Each failing call gives a typed error (never a success after a failed fsync); the file is
    old or new byte for byte, or, when the undo itself keeps failing, torn with every earlier
    message whole; the store is clean after the next open."""
    base = tmp_path / "base"
    mgr = open_manager(base)
    history = [message(0, 10, "user"), message(1, 200)]
    sid = mgr.create("coordinator", "Rewritten", history=history).id
    mgr.close()
    layout(base / "sessions" / f"{sid}.json")
    new = message(2, new_size)

    def run(work: Path, plan: FaultPlan) -> tuple[bytes, BaseException | None]:
        if work.exists():
            shutil.rmtree(work)
        shutil.copytree(base, work)
        mgr = open_manager(work, lock_timeout=0.5)
        mgr.get(sid)  # a process that has read the session: the rewrite trusts what it knows
        before = (work / "sessions" / f"{sid}.json").read_bytes()
        error: BaseException | None = None
        with injected(plan):
            try:
                mgr.backend.replace_last(sid, new, index=1)  # type: ignore[attr-defined]
            except BaseException as exc:  # noqa: BLE001 - judged below
                error = exc
        try:
            mgr.list()
            assert not mgr.backend.lock.held  # type: ignore[attr-defined]
        finally:
            abandon(mgr)
        return before, error

    reference = FaultPlan()
    _, error = run(tmp_path / "reference", reference)
    assert error is None and reference.calls
    after = (tmp_path / "reference" / "sessions" / f"{sid}.json").read_bytes()
    work = tmp_path / "work"
    problems: list[str] = []
    torn_seen = 0
    for n, err, persistent in itertools.product(
        range(1, len(reference.calls) + 1), ERRNOS, (False, True)
    ):
        plan = FaultPlan(fail_at=n, err=err, persistent=persistent)
        label = f"call {n} ({reference.calls[n - 1]}) {errno.errorcode[err]} {persistent}"
        before, error = run(work, plan)
        if error is not None and not isinstance(error, PromptSessionsError):
            problems.append(f"{label}: {type(error).__name__} escaped: {error}")
        if error is None and "fsync" in plan.injected:
            problems.append(f"{label}: an fsync failed but the rewrite reported success")
        now = (work / "sessions" / f"{sid}.json").read_bytes()
        if error is None and now != after:
            problems.append(f"{label}: reported success but the file is not the new one")
        if now not in (before, after):
            torn_seen += 1
            contents = [m.content for m in session_codec.decode_session(now, sid).history]
            if not persistent or contents != [history[0].content]:
                problems.append(f"{label}: neither old nor new nor torn after the last message")
        fresh = open_manager(work)
        if by_id(fresh.list()) != rebuilt_summaries(work):
            problems.append(f"{label}: after reopening, list() differs from a rebuild")
        fresh.get(sid)
        fresh.close()
        assert_at_rest(work)
        problems += [f"{label}: {p}" for p in hygiene_problems(work)]
    assert not problems, "\n".join(problems[:20])
    if layout is _ours:
        assert torn_seen, "no case reached the undo that cannot run"


def _rewriter(root: Path, sid: str, seed: int, out_fd: int) -> None:
    """The child: rewrite the last message again and again, reporting each size before and
    after the call, until killed."""
    rng = random.Random(seed)
    mgr = open_manager(root)
    for n in itertools.count():
        size = rng.choice((0, 50, 3000, 9000, 20000))
        os.write(out_fd, f"try {n} {size}\n".encode())
        mgr.backend.replace_last(  # type: ignore[attr-defined]
            sid, Message(role="assistant", content=f"v{n} " + "x" * size, incomplete=True), index=2
        )
        os.write(out_fd, f"done {n}\n".encode())


def test_sigkill_during_rewrites_keeps_every_earlier_message(tmp_path: Path) -> None:
    """SIGKILLs at random moments of a writer rewriting the last message: the file parses as
    it lies (with the torn-tail repair readers apply), every earlier message is whole, and the
    last is the one acknowledged last, the one in flight, or (a kill inside the rewrite) gone."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    session = mgr.create(
        "coordinator",
        "Kill me",
        history=[message(0, 10, "user"), message(1, 5000), message(2, 100)],
    )
    mgr.close()
    sid = session.id
    earlier = session.history[:2]
    rng = random.Random(20251201)
    last = session.history[2].content
    outcomes = {"acked": 0, "inflight": 0, "torn": 0}
    for round_no in range(scaled(30)):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child never returns into pytest
            try:
                os.close(read_end)
                _rewriter(root, sid, round_no, write_end)
            finally:
                os._exit(3)
        os.close(write_end)
        time.sleep(rng.uniform(0.005, 0.05))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(read_end, "rb") as pipe:
            lines = pipe.read().decode().splitlines()
        tries = {int(w[1]): int(w[2]) for w in (line.split() for line in lines) if w[0] == "try"}
        done = [int(line.split()[1]) for line in lines if line.startswith("done")]
        data = (root / "sessions" / f"{sid}.json").read_bytes()
        stored = session_codec.decode_session(data, sid)
        assert stored.history[:2] == earlier, f"round {round_no}: an earlier message was lost"
        contents = [m.content for m in stored.history[2:]]
        acked = f"v{done[-1]} " + "x" * tries[done[-1]] if done else last
        inflight = [f"v{n} " + "x" * size for n, size in tries.items() if n not in done]
        if contents == [acked]:
            outcomes["acked"] += 1
        elif contents and contents[0] in inflight:
            outcomes["inflight"] += 1
        else:
            assert contents == [], f"round {round_no}: the last message is {contents[0][:20]!r}"
            outcomes["torn"] += 1
        fresh = open_manager(root)
        assert by_id(fresh.list()) == rebuilt_summaries(root)
        fresh.close()
        assert_at_rest(root)
        restored = open_manager(root)
        now = restored.get(sid).history
        if len(now) == 2:  # a torn rewrite: the next round needs a last message to rewrite
            restored.append(sid, Message(role="assistant", content=last, incomplete=True))
        restored.close()
        last = restored_last(root, sid)
    print(f"rewrite kills: {outcomes}")


def restored_last(root: Path, sid: str) -> str:
    data = (root / "sessions" / f"{sid}.json").read_bytes()
    session: Session = session_codec.decode_session(data, sid)
    return session.history[-1].content
