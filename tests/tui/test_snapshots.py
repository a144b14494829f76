"""SVG snapshots of the main screen, the picker, the explorer, the palette and a streaming reply.

Deterministic: fixed ids and times, a frozen clock, no cursor blink, workers awaited.
Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList

from .conftest import at, fixed_session, settle, wait_until, write_po

SIZE = (110, 32)


@pytest.fixture
def demo(root, make_ctx):
    """Three POs, a few sessions with Markdown, brackets and a tool call."""
    for name in ("coordinator", "researcher", "writer"):
        write_po(root, name)
    ctx = make_ctx()
    fixed_session(
        ctx,
        "1",
        "coordinator",
        "Release plan [v2]",
        [
            ("user", "What is left before the **release**?"),
            ("assistant", "Three things:\n\n1. Changelog\n2. `pytest -q` green\n3. Tag `v2.0`"),
            ("user", "Draft the changelog."),
            ("assistant", "## 2.0\n\n- Sessions per PO\n- Explorer with search"),
        ],
        at(3, 14, 30),
    )
    fixed_session(
        ctx, "2", "coordinator", "Budget", [("user", "the budget is 42 [eur]")], at(2, 9, 15)
    )
    fixed_session(ctx, "3", "coordinator", "Old notes", [], at(1, 8, 0))
    fixed_session(ctx, "4", "writer", "Chapter one", [("user", "a budget for ink")], at(3, 11, 0))
    ctx.manager.switch("coordinator", "11111111-0000-4000-8000-111111111111")
    return ctx


def test_main_screen(snap_compare, make_app, demo):
    """The main screen: POs, the conversation titled po: name, the box and the status bar."""
    assert snap_compare(make_app(demo), terminal_size=SIZE)


def test_session_picker(snap_compare, make_app, demo):
    """S: the picker with the star, counts and 14:30 / Yesterday / date."""
    assert snap_compare(make_app(demo), press=["escape", "S"], terminal_size=SIZE)


def test_explorer_search(snap_compare, make_app, demo):
    """E and a search: every PO's matching messages with the match highlighted."""

    async def search(pilot):
        await pilot.press("escape", "E")
        await settle(pilot)
        await pilot.press(*"budget")
        await settle(pilot)

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=search)


def test_command_palette(snap_compare, make_app, demo):
    """ctrl+p filtered to session commands."""

    async def palette(pilot):
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
        await pilot.press(*"session: ")
        palette = pilot.app.screen
        await wait_until(pilot, lambda: palette.query_one(OptionList).option_count >= 5)
        for _ in range(3):  # the last keystroke's search may start only after the first settle
            await settle(pilot)

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=palette)


def test_streaming_reply(snap_compare, make_app, make_ctx, root, gate):
    """A reply half-way through streaming, shown live with its status."""
    write_po(root, "coordinator")
    ctx = make_ctx("gate")

    async def stream(pilot):
        await pilot.press(*"Plan the release", "enter")
        conversation = pilot.app.screen.conversation
        await wait_until(
            pilot,
            lambda: (
                conversation.streaming is not None
                and conversation.streaming.text == "Thinking about it"
            ),
        )
        await pilot.pause()

    app = make_app(ctx)
    assert snap_compare(app, terminal_size=SIZE, run_before=stream)
    gate.opened.set()


SIDEBAR_STATES = ["idle", "streaming", "unread", "error", "retrying"]


@pytest.mark.parametrize("state", SIDEBAR_STATES)
def test_sidebar_states(snap_compare, make_app, make_ctx, root, gate, state):
    """The open-sessions sidebar with the background session 'Side quest [b]' in each state:
    ○ idle, ▶ streaming with its preview, an unread badge, ✗ error with the error line, ↻1."""
    write_po(root, "coordinator")
    echo = {"fail_always": True, "transient": False} if state == "error" else {}
    if state == "retrying":
        echo = {"fail_times": 1}
    responder = "gate" if state in ("streaming", "unread") else "echo"
    runtime = (
        {"retry_base_ms": 600_000, "retry_max_ms": 600_000, "retry_jitter": 0}
        if state == "retrying"
        else None
    )
    ctx = make_ctx(responder, runtime=runtime, **echo)
    main = fixed_session(
        ctx,
        "1",
        "coordinator",
        "Release plan",
        [
            ("user", "What is left?"),
            ("assistant", "The changelog."),
        ],
        at(3, 14, 30),
    )
    side = fixed_session(
        ctx, "2", "coordinator", "Side quest [b]", [("user", "an earlier question")], at(3, 9, 0)
    )
    ctx.manager.switch("coordinator", main.id)

    async def arrange(pilot):
        screen = pilot.app.screen
        coord = pilot.app.coord
        screen.switch_to("coordinator", side.id)
        if state != "idle":
            box = screen.query_one("#message-box")
            box.text = "look into it"
            await pilot.press("enter")
            await wait_until(pilot, lambda: coord.get(side.id).status.value != "idle")
        screen.switch_to("coordinator", main.id)
        if state == "streaming":
            await wait_until(pilot, lambda: coord.get(side.id).buffer == "Thinking about it")
        elif state == "unread":
            await wait_until(pilot, lambda: coord.get(side.id).buffer == "Thinking about it")
            gate.opened.set()
            await wait_until(pilot, lambda: coord.get(side.id).unread == 1)
        elif state == "error":
            await wait_until(pilot, lambda: coord.get(side.id).status.value == "error")
        elif state == "retrying":
            await wait_until(pilot, lambda: coord.get(side.id).retry_attempt == 1)
        bar = screen.query_one("#open-sessions")
        await wait_until(pilot, lambda: not bar._stale)  # throttled preview redrawn
        await pilot.pause()

    app = make_app(ctx)
    assert snap_compare(app, terminal_size=SIZE, run_before=arrange)
    gate.opened.set()


SMALL_SIZES = [(80, 24), (60, 20)]


async def _explorer_search(pilot):
    await pilot.press("escape", "E")
    await settle(pilot)
    await pilot.press(*"budget")
    await settle(pilot)


async def _picker(pilot):
    await pilot.press("escape", "S")
    await settle(pilot)


async def _new_dialog(pilot):
    await pilot.press("escape", "N")
    await settle(pilot)


async def _confirm_dialog(pilot):
    await pilot.press("escape", "S")
    await settle(pilot)
    await pilot.press("d")
    await settle(pilot)


async def _main(pilot):
    await settle(pilot)


SMALL_SCREENS = {
    "main": _main,
    "picker": _picker,
    "explorer": _explorer_search,
    "new": _new_dialog,
    "confirm": _confirm_dialog,
}


@pytest.mark.parametrize("size", SMALL_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SMALL_SCREENS))
def test_small_terminals(snap_compare, make_app, demo, screen, size):
    """At 80x24 and 60x20 every screen fits: the PO column thins, the explorer's filters go
    under a full-width search box and its snippets keep their room, and the dialogs fit with
    their buttons."""
    assert snap_compare(make_app(demo), terminal_size=size, run_before=SMALL_SCREENS[screen])


def test_picker_with_orphaned_sessions(snap_compare, make_app, demo, root):
    """The picker at 80 columns: the PO's sessions, then the orphaned sessions of a PO whose
    file is gone under their heading, each with its PO; the hint line on two lines."""
    fixed_session(demo, "5", "ghost", "Left behind", [("user", "hello")], at(2, 8, 0))
    fixed_session(demo, "6", "ghost", "Also left", [], at(1, 8, 0), pinned=True)

    async def open_picker(pilot):
        await pilot.press("escape", "S")
        await settle(pilot)
        await wait_until(pilot, lambda: len(pilot.app.screen.rows_widget.rows) == 6)
        await settle(pilot)

    assert snap_compare(make_app(demo), terminal_size=(80, 24), run_before=open_picker)


def test_explorer_tag_and_pinned_filters(snap_compare, make_app, demo):
    """The explorer's filter row with a tag chosen and Pinned checked, at 120 columns."""
    demo.manager.update("11111111-0000-4000-8000-111111111111", tags=["release"])
    demo.manager.pin("11111111-0000-4000-8000-111111111111")
    demo.manager.update("44444444-0000-4000-8000-444444444444", tags=["release"])

    async def filtered(pilot):
        await pilot.press("escape", "E")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#tag").value = "release"
        await settle(pilot)
        await pilot.press("down", "p")
        await settle(pilot)

    assert snap_compare(make_app(demo), terminal_size=(120, 32), run_before=filtered)
