"""The live runtime (the TUI's) and the CLI's `send` take turns in one session through its
reply lease: neither interleaves its turn with the other's."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from prompt_sessions.context import AppContext
from prompt_sessions.errors import ReadOnlyStore, UsageError
from prompt_sessions.plugins import PluginHost
from prompt_sessions.reply_lease import ReplyLease, SessionReplying, lease_path
from prompt_sessions.responders import ReplyEnd, ReplyRequest
from prompt_sessions.runtime import Coordinator

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))
LONG = " ".join(f"w{n}" for n in range(60))  # the echo replies word by word: ~60 chunk delays


@pytest.fixture
async def ctx(root: Path) -> AsyncIterator[AppContext]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 20\n")
    (root / "config.toml").chmod(0o600)
    context = AppContext.open(root, host=PluginHost.create(entry_points=False))
    yield context
    context.manager.close()


@pytest.fixture
async def coord(ctx: AppContext) -> AsyncIterator[Coordinator]:
    coordinator = Coordinator(ctx)
    yield coordinator
    await coordinator.shutdown()


class GatedResponder:
    """Streams one chunk, then holds its reply open until ``gate`` is set."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = asyncio.Event()

    async def respond(self, request: ReplyRequest) -> AsyncIterator[object]:
        yield "held "
        await self.gate.wait()
        yield "reply"
        yield ReplyEnd(model="gated")


async def test_cli_send_waits_for_the_reply_the_runtime_is_streaming(
    ctx: AppContext, coord: Coordinator
) -> None:
    """A `send` from another process to a session whose reply the runtime is streaming waits
    (storing nothing) until that reply is stored, then stores its own message and reply after
    it."""
    sid = ctx.manager.create("po", "shared").id
    gated = GatedResponder()
    coord.responders.pin("po", gated)
    await coord.send(sid, "from the runtime")
    proc = await asyncio.create_subprocess_exec(
        SCRIPT,
        "--dir",
        str(ctx.manager.root),
        "send",
        "po",
        "from the cli",
        "--session",
        sid,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PROMPT_SESSIONS_PLUGINS": ""},
    )
    try:
        await asyncio.sleep(3)  # long enough for the CLI to start and reach the lease
        assert proc.returncode is None
        # Only the runtime's turn so far (its reply's provisional copy may be stored too).
        stored = ctx.manager.get(sid).history
        assert [m.content for m in stored if m.role == "user"] == ["from the runtime"]
        gated.gate.set()
        await coord.wait_idle(sid)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == "You said: from the cli"
    history = [(m.role, m.content) for m in ctx.manager.get(sid).history]
    assert history == [
        ("user", "from the runtime"),
        ("assistant", "held reply"),
        ("user", "from the cli"),
        ("assistant", "You said: from the cli"),
    ]


async def test_runtime_send_is_refused_while_another_process_replies(
    ctx: AppContext, coord: Coordinator
) -> None:
    """While another holder keeps the session's lease (another process's turn), the runtime's
    send is refused after a short grace with SessionReplying naming the session, and stores
    nothing; once the lease is free, the send goes through."""
    sid = ctx.manager.create("po", "shared").id
    other = ReplyLease(ctx.manager.root, sid, "shared")
    other.acquire(0)
    try:
        with pytest.raises(SessionReplying, match="session 'shared' is replying"):
            await coord.send(sid, "hello")
        assert ctx.manager.get(sid).history == []
        assert not coord.get(sid).busy
    finally:
        other.release()
    await coord.send(sid, "hello")
    await coord.wait_idle(sid)
    assert [m.content for m in ctx.manager.get(sid).history] == ["hello", "You said: hello"]


async def test_runtime_holds_the_lease_until_its_reply_is_stored(
    ctx: AppContext, coord: Coordinator
) -> None:
    """The runtime's turn holds the session's lease while its reply streams and gives it back
    once the reply is stored; turns in a row within the runtime never refuse each other."""
    sid = ctx.manager.create("po", "shared").id
    probe = ReplyLease(ctx.manager.root, sid, "shared")
    await coord.send(sid, LONG)
    with pytest.raises(SessionReplying):
        probe.acquire(0)
    await coord.wait_idle(sid)
    await asyncio.sleep(0)  # the task's done callback gives the lease back
    probe.acquire(0)
    probe.release()
    for n in range(3):
        await coord.send(sid, f"turn {n}")
        await coord.wait_idle(sid)
    assert len(ctx.manager.get(sid).history) == 8


async def test_runtime_leaves_no_lease_in_a_store_that_refuses_writes(
    ctx: AppContext, coord: Coordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send that the store refuses as read-only gives the lease back and removes the lease
    folder it made, so a store that refuses writes is left as it was."""
    sid = ctx.manager.create("po", "shared").id

    def refuse(*_: object, **__: object) -> None:
        raise ReadOnlyStore("the store is read-only")

    monkeypatch.setattr(ctx.manager, "append", refuse)
    with pytest.raises(ReadOnlyStore):
        await coord.send(sid, "hello")
    assert not lease_path(ctx.manager.root, sid).parent.exists()
    assert not coord.get(sid).busy


@pytest.mark.parametrize("wait", [float("nan"), float("inf"), -1.0])
def test_a_lease_wait_is_bounded(root: Path, wait: float) -> None:
    """A lease is never waited for without end: a wait that is not 0 to a day is refused
    before anything is created."""
    with pytest.raises(UsageError, match="a wait is 0 to"):
        ReplyLease(root, "00000000-0000-4000-8000-000000000000", "x").acquire(wait)
    assert not (root / "leases").exists()
