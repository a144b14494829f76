"""TUI figures (DESIGN section 10), measured in one run with a headless app:

- the session picker opening on 10,000 sessions, against a plain ``OptionList`` of the same rows
  (target: at most 1/10 of it);
- opening a 10,000-message session until the screen has settled (target: at most 0.2 s);
- switching between two open 1,000-message sessions until settled (target: at most 50 ms);
- with 20 sessions streaming at once through a fast ``echo`` (every 5 ms) while you type in
  another one, how long a key press takes to be handled, p95 (target: at most 50 ms); the same
  with nothing streaming is printed beside it as the machine's baseline.

"Settled" is the moment the last frame caused by the action was painted (the app's display
call), measured after the app has gone idle again. Pilot's ``pause`` is only used to wait: it
sleeps at least 20 ms and visits every widget, so timing up to its return would add a test
harness's cost that a user never sees.

Run: ``python bench/bench_tui.py``. Seeding skips fsync; the figures measured do not write.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import report  # noqa: E402

from prompt_sessions.context import AppContext  # noqa: E402
from prompt_sessions.models import Message, Session  # noqa: E402
from prompt_sessions.plugins import PluginHost  # noqa: E402


class FrameClock:
    """Records when the app paints a frame, to tell when an action has settled on screen."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.painted: list[float] = []
        real = app._display

        def display(screen, renderable) -> None:  # type: ignore[no-untyped-def]
            real(screen, renderable)
            self.painted.append(time.perf_counter())

        app._display = display

    async def settle(self, pilot, start: float) -> float:  # type: ignore[no-untyped-def]
        """Wait until the app is idle; milliseconds from ``start`` to the last frame painted."""
        await pilot.pause()
        await pilot.pause()
        last = self.painted[-1] if self.painted else start
        return max(0.0, last - start) * 1000


SESSIONS = 10_000
REPEAT = 5  # the picker and the plain list are each opened this many times; medians compared
MESSAGES = 10_000
STAMP = "2025-01-03T14:30:00Z"


def seed(root: Path) -> tuple[AppContext, str]:
    real_fsync = os.fsync
    os.fsync = lambda fd: None  # seeding only
    try:
        ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
        for i in range(SESSIONS):
            ctx.manager.backend.create(
                Session(
                    id=f"{i:08x}-0000-4000-8000-000000000000",
                    name=f"Session [{i}]",
                    po_name="coordinator",
                    created_at=STAMP,
                    updated_at=STAMP,
                )
            )
        history = [
            Message(role="user" if i % 2 == 0 else "assistant", content=f"message **{i}**")
            for i in range(MESSAGES)
        ]
        big = ctx.manager.create("reader", "Big", history=history)
        ctx.manager.switch("reader", big.id)
        ctx.manager.flush()
    finally:
        os.fsync = real_fsync
    return ctx, big.id


async def measure(ctx: AppContext, big_id: str) -> tuple[float, float, float, float, float]:
    from textual.screen import ModalScreen
    from textual.widgets import OptionList

    from prompt_sessions.tui.app import PromptSessionsApp
    from prompt_sessions.tui.screens.picker import SessionPicker

    class PlainPicker(ModalScreen[None]):
        def __init__(self, rows: list[str]) -> None:
            super().__init__()
            self.rows = rows

        def compose(self):  # type: ignore[no-untyped-def]
            yield OptionList(*self.rows)

    app = PromptSessionsApp(ctx, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        frames = FrameClock(app)
        await pilot.pause()
        main = app.screen
        main.show_po("coordinator")
        await pilot.pause()

        while app.coord.known_sessions() is None:  # the runtime's first reading of the catalog
            await pilot.pause(0.01)

        samples = []
        for _ in range(REPEAT):
            start = time.perf_counter()  # what S does: the runtime's rows at once, re-read behind
            main.action_picker()
            samples.append(await frames.settle(pilot, start))
            assert isinstance(app.screen, SessionPicker) and len(app.screen.all_rows) == SESSIONS
            app.pop_screen()
            await pilot.pause()
        picker_ms = statistics.median(samples)

        start = time.perf_counter()  # without the runtime's rows: the store is read first
        await app.push_screen(SessionPicker(ctx, "coordinator", main.session_id, app.clock))
        cold_ms = await frames.settle(pilot, start)
        app.pop_screen()
        await pilot.pause()

        start = time.perf_counter()
        await app.push_screen(PlainPicker([]))
        empty_ms = await frames.settle(pilot, start)
        app.pop_screen()
        await pilot.pause()

        samples = []
        for _ in range(REPEAT):
            start = time.perf_counter()  # the plain list reads the same rows from the store too
            rows = [
                f"  {s.name}  {s.message_count} msgs  14:30"
                for s in ctx.manager.list("coordinator")
            ]
            await app.push_screen(PlainPicker(rows))
            samples.append(await frames.settle(pilot, start))
            app.pop_screen()
            await pilot.pause()
        plain_ms = statistics.median(samples)

        start = time.perf_counter()
        main.show("reader", big_id)
        open_ms = await frames.settle(pilot, start)
    return picker_ms, plain_ms, open_ms, empty_ms, cold_ms


SWITCH_MESSAGES = 1_000
SWITCHES = 40
STREAMING = 20
KEY_PRESSES = 200


async def measure_switch(root: Path) -> float:
    """Median time to show the other of two open 1,000-message sessions and settle."""
    from prompt_sessions.tui.app import PromptSessionsApp

    real_fsync = os.fsync
    os.fsync = lambda fd: None  # seeding only
    try:
        ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
        ids = []
        for name in ("Left", "Right"):
            history = [
                Message(
                    role="user" if i % 2 == 0 else "assistant", content=f"{name} message **{i}**"
                )
                for i in range(SWITCH_MESSAGES)
            ]
            ids.append(ctx.manager.create("switcher", name, history=history).id)
        ctx.manager.flush()
    finally:
        os.fsync = real_fsync
    app = PromptSessionsApp(ctx, cursor_blink=False, watch_store=False)
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        frames = FrameClock(app)
        main = app.screen
        for sid in ids:
            main.switch_to("switcher", sid)
            await pilot.pause()
        for i in range(SWITCHES):
            start = time.perf_counter()
            main.switch_to("switcher", ids[i % 2])
            samples.append(await frames.settle(pilot, start))
    ctx.manager.close()
    return statistics.median(samples)


async def key_presses(pilot) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds from a key event posted to the app until the message box has handled it.

    Pilot's own ``press`` also waits until every widget is idle, which never quite happens
    while replies stream, so the key is posted the way Pilot posts it and the box is watched.
    """
    from textual import events

    app = pilot.app
    box = app.screen.query_one("#message-box")
    box.focus()
    await pilot.pause()
    samples = []
    for i in range(KEY_PRESSES):
        key, char = ("backspace", None) if i % 2 else ("x", "x")
        expected = box.text[:-1] if key == "backspace" else box.text + "x"
        start = time.perf_counter()
        app.post_message(events.Key(key, char))
        while box.text != expected:
            await asyncio.sleep(0.0005)
        samples.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.005)  # a typist, not a flood
    return sorted(samples)


def p95(samples: list[float]) -> float:
    return samples[int(len(samples) * 0.95) - 1]


async def keys_while_streaming(
    ctx: AppContext, po: str, text: str, *, settle_s: float = 0.0
) -> tuple[list[float], list[float], int]:
    """In the TUI over ``ctx``: send ``text`` in STREAMING new sessions of ``po``, then type
    in another one while their replies stream. Returns the key-press samples while streaming,
    the samples once every reply is cancelled, and how many replies streamed throughout."""
    from prompt_sessions.runtime import Status
    from prompt_sessions.tui.app import PromptSessionsApp

    sessions = [ctx.manager.create(po, f"Stream {i}").id for i in range(STREAMING)]
    typing_here = ctx.manager.create(po, "Typing here").id
    app = PromptSessionsApp(ctx, cursor_blink=False, watch_store=False)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.screen
        for sid in sessions:
            main.switch_to(po, sid)
            await app.coord.send(sid, text)
        main.switch_to(po, typing_here)  # you type in one session while 20 others stream
        await asyncio.sleep(settle_s)
        await pilot.pause()
        streaming = sum(1 for live in app.coord.open_sessions() if live.status is Status.STREAMING)
        samples = await key_presses(pilot)
        still = sum(1 for live in app.coord.open_sessions() if live.status is Status.STREAMING)
        for sid in sessions:
            app.coord.cancel(sid)
        await app.coord.wait_idle()
        await pilot.pause()
        idle = await key_presses(pilot)
    return samples, idle, min(streaming, still)


async def measure_keys_while_streaming(root: Path) -> tuple[float, float, float, int]:
    """p95 and median of a key press handled while 20 echo replies stream, p95 with none
    streaming (the same machine's baseline), and how many replies streamed throughout."""
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    ctx.config["responder"] = "echo"
    ctx.config["responders"] = {"echo": {"chunk_delay_ms": 5}}
    ctx.config["runtime"] = {"max_generating": STREAMING, "max_loaded": STREAMING + 2}
    long_text = " ".join(f"word{i}" for i in range(30_000))  # 10,000 chunks: streams all along
    samples, idle, streamed = await keys_while_streaming(ctx, "streamer", long_text)
    ctx.manager.close()
    return p95(samples), statistics.median(samples), p95(idle), streamed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ctx, big_id = seed(Path(tmp) / ".prompt_objects")
        picker_ms, plain_ms, open_ms, empty_ms, cold_ms = asyncio.run(measure(ctx, big_id))
        ctx.manager.close()
    with tempfile.TemporaryDirectory() as tmp:
        switch_ms = asyncio.run(measure_switch(Path(tmp) / ".prompt_objects"))
    with tempfile.TemporaryDirectory() as tmp:
        key_p95, key_median, idle_p95, streamed = asyncio.run(
            measure_keys_while_streaming(Path(tmp) / ".prompt_objects")
        )
    ok = report("TUI picker, 10,000 sessions (vs plain OptionList)", picker_ms, plain_ms, 0.1)
    print(f"{'  (an empty modal screen, for reference)':58} {empty_ms:9.3f} ms")
    print(f"{'  (picker reading the store before it shows)':58} {cold_ms:9.3f} ms")
    ok &= report("TUI open a 10,000-message session (vs 200 ms)", open_ms, 200.0, 1.0)
    ok &= report("TUI switch between two 1,000-msg sessions (vs 50 ms)", switch_ms, 50.0, 1.0)
    ok &= report(f"TUI key press p95, {streamed} replies streaming (vs 50 ms)", key_p95, 50.0, 1.0)
    print(f"{'  (key press median while streaming)':58} {key_median:9.3f} ms")
    print(f"{'  (key press p95 with nothing streaming, same run)':58} {idle_p95:9.3f} ms")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
