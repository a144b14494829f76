"""Live sync through LISTEN/NOTIFY: another machine's commits reach an open runtime and TUI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import prompt_sessions_postgres
from pg_support import write_config

from prompt_sessions import Message, SessionManager
from prompt_sessions.context import AppContext
from prompt_sessions.plugins import PluginHost


def _host() -> PluginHost:
    return PluginHost.create(entry_points=False, plugins=[prompt_sessions_postgres])


async def _eventually(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_listener_hears_another_instances_commits(tmp_path: Path, pg_dsn: str) -> None:
    """Commits by another instance call on_change within a second; a burst becomes few calls."""
    a = write_config(tmp_path / "a", pg_dsn, schema="live_one")
    b = write_config(tmp_path / "b", pg_dsn, schema="live_one")
    calls: list[float] = []
    loop = asyncio.get_running_loop()

    async def on_change() -> None:
        calls.append(loop.time())

    with (
        SessionManager.open(a, host=_host()) as here,
        SessionManager.open(b, host=_host()) as there,
    ):
        here.list()
        listener = here.backend.change_watcher(on_change, debounce_ms=50)
        listener.start()
        await asyncio.wait_for(listener.connected.wait(), 10)
        sent = loop.time()
        s = await asyncio.to_thread(there.create, "coordinator", "From elsewhere")
        await _eventually(lambda: len(calls) >= 1)
        assert calls[0] - sent < 1.0
        before = len(calls)
        for i in range(20):
            await asyncio.to_thread(there.append, s.id, Message(role="user", content=f"m{i}"))
        await _eventually(lambda: len(calls) > before)
        await asyncio.sleep(0.3)
        assert len(calls) - before < 20  # debounced: far fewer refreshes than commits
        await listener.stop()
        assert not listener.running


CHILD = """
import sys
from prompt_sessions import Message, SessionManager
with SessionManager.open(sys.argv[1]) as mgr:
    if sys.argv[2] == "create":
        s = mgr.create("coordinator", "Made on the desktop")
        print(s.id)
    elif sys.argv[2] == "append":
        mgr.append(sys.argv[3], Message(role="user", content="typed on the desktop"))
    else:
        mgr.rename(sys.argv[3], "Renamed on the desktop")
"""


def _desktop(root: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip()


async def test_open_tui_shows_another_machines_sessions_renames_and_messages(
    tmp_path: Path, pg_dsn: str
) -> None:
    """An open TUI on the laptop; the desktop (another folder, same database) creates a session,
    renames it and appends to it: the laptop's picker rows and conversation follow."""
    from prompt_sessions.tui.app import PromptSessionsApp
    from prompt_sessions.tui.widgets.message_view import MessageView

    laptop = write_config(tmp_path / "laptop", pg_dsn, schema="live_tui")
    desktop = write_config(tmp_path / "desktop", pg_dsn, schema="live_tui")
    ctx = AppContext.open(laptop, host=_host())
    ctx.config["responder"] = "echo"
    first = ctx.manager.create("coordinator", "Laptop session")
    ctx.manager.switch("coordinator", first.id)
    app = PromptSessionsApp(ctx, cursor_blink=False)
    try:
        async with app.run_test() as pilot:

            async def until(condition) -> None:  # type: ignore[no-untyped-def]
                for _ in range(500):
                    if condition():
                        return
                    await pilot.pause(0.02)
                raise AssertionError("the TUI did not catch up")

            await until(lambda: app.coord.watching)
            await asyncio.wait_for(app.coord._sync._watcher.connected.wait(), 10)  # type: ignore[union-attr]
            names = lambda: {s.name for s in app.coord.known_sessions("coordinator") or []}  # noqa: E731
            sid = await asyncio.to_thread(_desktop, desktop, "create")
            await until(lambda: "Made on the desktop" in names())
            await asyncio.to_thread(_desktop, desktop, "rename", sid)
            await until(lambda: "Renamed on the desktop" in names())
            await asyncio.to_thread(_desktop, desktop, "append", first.id)
            screen = app.screen
            await until(
                lambda: (
                    [v.message.content for v in screen.query(MessageView)]
                    == ["typed on the desktop"]
                )
            )
    finally:
        ctx.manager.close()
