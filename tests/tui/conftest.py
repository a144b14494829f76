"""Fixtures for driving the real TUI: a store on tmp_path, a frozen clock, controllable replies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from prompt_sessions import hookimpl
from prompt_sessions.context import AppContext
from prompt_sessions.models import Message, Session
from prompt_sessions.plugins import PluginHost
from prompt_sessions.responders import ReplyEnd, ReplyRequest
from prompt_sessions.tui.app import PromptSessionsApp

FROZEN = datetime(2025, 1, 3, 15, 0, tzinfo=UTC)


def frozen_clock() -> datetime:
    return FROZEN


class Gate:
    """A responder that streams two chunks, then waits until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.started = 0

    def factory(self, options: dict[str, Any]) -> Any:
        gate = self

        class GateResponder:
            name = "gate"

            async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
                gate.started += 1
                yield "Thinking about "
                yield "it"
                await gate.opened.wait()
                yield " - done."
                yield ReplyEnd(model="gate")

        return GateResponder()

    @hookimpl
    def register_responders(self, register):  # type: ignore[no-untyped-def]
        register("gate", self.factory)


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / ".prompt_objects"


def write_po(root: Path, name: str, description: str = "") -> None:
    folder = root / "objects"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(
        f"---\nname: {name}\ndescription: {description}\n---\nYou are {name}.\n"
    )


@pytest.fixture
def make_ctx(root: Path, gate: Gate) -> Callable[..., AppContext]:
    """An AppContext over the tmp store; echo answers at once unless told otherwise."""
    opened: list[AppContext] = []

    def make(
        responder: str = "echo", runtime: dict[str, Any] | None = None, **echo: Any
    ) -> AppContext:
        runtime = runtime or {}
        host = PluginHost.create(entry_points=False, plugins=[gate])
        ctx = AppContext.open(root, host=host)
        ctx.config["responder"] = responder
        ctx.config.setdefault("responders", {})["echo"] = {"chunk_delay_ms": 0, **echo}
        ctx.config["runtime"] = {"retry_base_ms": 1, "retry_max_ms": 1, **runtime}
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.manager.close()


@pytest.fixture
def make_app(
    make_ctx: Callable[..., AppContext], tmp_path: Path
) -> Callable[..., PromptSessionsApp]:
    def make(ctx: AppContext | None = None, **kwargs: Any) -> PromptSessionsApp:
        exports = tmp_path / "exports"
        exports.mkdir(exist_ok=True)
        app = PromptSessionsApp(
            ctx or make_ctx(), clock=frozen_clock, export_dir=exports, cursor_blink=False, **kwargs
        )
        # a note is dropped 5 s after it is raised: on a loaded machine that can pass before
        # the test reads it
        app.NOTIFICATION_TIMEOUT = 3600
        return app

    return make


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2025-01-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def fixed_session(
    ctx: AppContext,
    sid_digit: str,
    po: str,
    name: str,
    messages: list[tuple[str, str]],
    updated: str,
    **fields: Any,
) -> Session:
    """A session with a fixed id and fixed times, written straight to the backend."""
    history = [Message(role=role, content=text, created_at=updated) for role, text in messages]
    session = Session(
        id=f"{sid_digit * 8}-0000-4000-8000-{sid_digit * 12}",
        name=name,
        po_name=po,
        created_at=updated,
        updated_at=updated,
        history=history,
        source="tui",
        **fields,
    )
    ctx.manager.backend.create(session)
    return session


async def settle(pilot: Pilot) -> None:
    """Wait for replies, workers (listing, searching) and the screen to catch up."""
    await pilot.app.coord.wait_idle()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def type_line(pilot: Pilot, line: str) -> None:
    """Type ``line`` in the message box and press Enter, as a person does, then wait for what
    it started (a slash command's store work, a reply) and the screen to catch up."""
    await pilot.press(*line, "enter")
    await settle(pilot)


async def wait_until(pilot: Pilot, condition: Callable[[], bool], steps: int = 200) -> None:
    """Let the app run until a condition holds (no wall-clock assertion: it fails after N turns)."""
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition never became true")


def notes_shown(app: Any) -> list[str]:
    """The message of every notification shown so far, oldest first."""
    return [str(n.message) for n in app._notifications]


async def wait_for_note(pilot: Pilot, text: str) -> None:
    """Wait until a notification holding ``text`` is shown.

    ``notify`` posts a message to the app, handled in a later turn: on a loaded machine the
    pilot's last key may return before it (the pilot takes a busy machine for an idle app)."""
    try:
        await wait_until(pilot, lambda: any(text in m for m in notes_shown(pilot.app)))
    except AssertionError:
        raise AssertionError(f"no note holds {text!r}: {notes_shown(pilot.app)}") from None


async def all_notes(pilot: Pilot) -> list[str]:
    """Every note's message, once the notes already on their way are shown: for asserting
    that something was not said. A mark passed from the app through each screen (where the
    runtime's events and the keys go) and back to the app arrives after them, as each keeps
    its messages in order; the mark itself is then taken away."""
    app = pilot.app
    mark = f"all notes are in ({id(pilot)})"
    hops = [app, *app.screen_stack]

    def forward(i: int) -> None:
        if i < len(hops):
            hops[i].call_later(forward, i + 1)
        else:
            app.notify(mark)

    forward(0)
    await wait_for_note(pilot, mark)
    for note in [n for n in app._notifications if n.message == mark]:
        app._unnotify(note)
    return notes_shown(app)
