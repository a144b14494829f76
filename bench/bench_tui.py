"""TUI figures (DESIGN section 10), measured in one run with a headless app:

- the session picker opening on 10,000 sessions, against a plain ``OptionList`` of the same rows
  (target: at most 1/10 of it);
- opening a 10,000-message session until the screen has settled (target: at most 0.2 s).

Run: ``python bench/bench_tui.py``. Seeding skips fsync; the figures measured do not write.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import report  # noqa: E402

from prompt_sessions.context import AppContext  # noqa: E402
from prompt_sessions.models import Message, Session  # noqa: E402
from prompt_sessions.plugins import PluginHost  # noqa: E402

SESSIONS = 10_000
MESSAGES = 10_000
STAMP = "2025-01-03T14:30:00Z"


def seed(root: Path) -> tuple[AppContext, str]:
    real_fsync = os.fsync
    os.fsync = lambda fd: None  # seeding only
    try:
        ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
        for i in range(SESSIONS):
            ctx.manager.backend.create(
                Session(id=f"{i:08x}-0000-4000-8000-000000000000", name=f"Session [{i}]", po_name="coordinator", created_at=STAMP, updated_at=STAMP)
            )
        history = [Message(role="user" if i % 2 == 0 else "assistant", content=f"message **{i}**") for i in range(MESSAGES)]
        big = ctx.manager.create("reader", "Big", history=history)
        ctx.manager.switch("reader", big.id)
        ctx.manager.flush()
    finally:
        os.fsync = real_fsync
    return ctx, big.id


async def measure(ctx: AppContext, big_id: str) -> tuple[float, float, float, float]:
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
        await pilot.pause()
        main = app.screen
        main.show_po("coordinator")
        await pilot.pause()

        start = time.perf_counter()
        await app.push_screen(SessionPicker(ctx, "coordinator", main.session_id, app.clock))
        await pilot.pause()
        picker_ms = (time.perf_counter() - start) * 1000
        app.pop_screen()
        await pilot.pause()

        start = time.perf_counter()
        await app.push_screen(PlainPicker([]))
        await pilot.pause()
        empty_ms = (time.perf_counter() - start) * 1000
        app.pop_screen()
        await pilot.pause()

        start = time.perf_counter()  # the plain list reads the same rows from the store too
        rows = [f"  {s.name}  {s.message_count} msgs  14:30" for s in ctx.manager.list("coordinator")]
        await app.push_screen(PlainPicker(rows))
        await pilot.pause()
        plain_ms = (time.perf_counter() - start) * 1000
        app.pop_screen()
        await pilot.pause()

        start = time.perf_counter()
        main.show("reader", big_id)
        await pilot.pause()
        open_ms = (time.perf_counter() - start) * 1000
    return picker_ms, plain_ms, open_ms, empty_ms


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ctx, big_id = seed(Path(tmp) / ".prompt_objects")
        picker_ms, plain_ms, open_ms, empty_ms = asyncio.run(measure(ctx, big_id))
        ctx.manager.close()
    ok = report("TUI picker, 10,000 sessions (vs plain OptionList)", picker_ms, plain_ms, 0.1)
    print(f"{'  (an empty modal screen, for reference)':58} {empty_ms:9.3f} ms")
    ok &= report("TUI open a 10,000-message session (vs 200 ms)", open_ms, 200.0, 1.0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
