"""Attention (DESIGN section 15): a background reply that finishes, fails or asks for input
sends one terminal notification and one ``session_attention`` call, never for the session on
screen, and its session goes to the top of the sidebar until it is shown."""

from __future__ import annotations

from typing import Any

import pytest
from textual.drivers.headless_driver import HeadlessDriver

from prompt_sessions import hookimpl
from prompt_sessions.tui.terminal_notify import notification
from prompt_sessions.tui.widgets.message_box import MessageBox
from prompt_sessions.tui.widgets.session_bar import SessionBar

from .conftest import settle, wait_until


class Listener:
    """Records every ``session_attention`` call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    @hookimpl
    def session_attention(self, session: Any, reason: str, manager: Any) -> None:
        self.calls.append((session.id, reason))


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the app writes straight to the (headless) terminal; a plain xterm outside tmux."""
    seen: list[str] = []
    monkeypatch.setattr(HeadlessDriver, "write", lambda self, data: seen.append(data))
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("TERM_PROGRAM", raising=False)
    monkeypatch.delenv("TMUX", raising=False)
    return seen


def notifications(written: list[str]) -> list[str]:
    return [w for w in written if w.startswith(("\x1b]9;", "\x1b]777;"))]


async def send(pilot, text: str) -> None:
    screen = pilot.app.screen
    before = screen.message_count
    box = screen.query_one(MessageBox)
    box.focus()
    box.text = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.message_count > before)


async def test_a_background_reply_notifies_once_and_comes_first(make_ctx, make_app, gate, written):
    """The reply of C finishes while A is shown: one OSC 9 naming C, one hook call with
    ``finished``, C first in the sidebar; showing C puts the sidebar back in order."""
    ctx = make_ctx("gate")
    listener = Listener()
    ctx.host.register(listener)
    c, a, b = (ctx.manager.create("coordinator", name) for name in ("Gamma", "Alpha", "Beta"))
    app = make_app(ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        for s in (a, b, c):
            screen.switch_to("coordinator", s.id)
        await send(pilot, "a long job")
        await wait_until(pilot, lambda: gate.started == 1)
        screen.switch_to("coordinator", a.id)
        bar = screen.query_one(SessionBar)
        before = bar.session_ids
        assert before != [c.id, a.id, b.id] and sorted(before) == sorted([a.id, b.id, c.id])
        gate.opened.set()
        await settle(pilot)
        assert listener.calls == [(c.id, "finished")]
        assert notifications(written) == [
            "\x1b]9;prompt-sessions: Gamma (coordinator): reply finished\x07"
        ]
        assert bar.session_ids == [c.id, *(sid for sid in before if sid != c.id)]
        screen.switch_to("coordinator", c.id)
        await pilot.pause()
        assert bar.session_ids == before
        assert listener.calls == [(c.id, "finished")] and len(notifications(written)) == 1


async def test_the_shown_session_never_asks_for_attention(make_ctx, make_app, written):
    """A reply finishing in the session on screen calls nothing and writes nothing."""
    ctx = make_ctx()
    listener = Listener()
    ctx.host.register(listener)
    ctx.manager.create("coordinator", "Here")
    app = make_app(ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        await send(pilot, "hello")
        await settle(pilot)
        assert ctx.manager.list()[0].message_count == 2
        assert listener.calls == [] and notifications(written) == []


async def test_a_failed_background_reply_says_failed(make_ctx, make_app, written):
    """A reply failing for good (after its retry) while another session is shown: reason
    ``failed``, once."""
    # The retry waits long enough that the reply fails for good only after the person has
    # moved to the other session, however slow the machine (settle waits for it).
    slow_retry = {"retry_attempts": 1, "retry_base_ms": 1500, "retry_max_ms": 1500}
    ctx = make_ctx(fail_always=True, runtime={**slow_retry, "retry_jitter": 0})
    listener = Listener()
    ctx.host.register(listener)
    a, b = (ctx.manager.create("coordinator", name) for name in ("One", "Two"))
    app = make_app(ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        screen.switch_to("coordinator", a.id)
        screen.switch_to("coordinator", b.id)
        await send(pilot, "this fails")
        screen.switch_to("coordinator", a.id)
        await settle(pilot)
        await wait_until(pilot, lambda: listener.calls != [])
        await settle(pilot)
        assert listener.calls == [(b.id, "failed")]
        assert notifications(written) == [
            "\x1b]9;prompt-sessions: Two (coordinator): reply failed\x07"
        ]


async def test_a_reply_asking_for_input_says_waiting(make_ctx, make_app, written):
    """A background reply that ends asking for the person's answer: reason ``waiting``."""
    ctx = make_ctx(chunk_delay_ms=80, awaiting_input=True)
    listener = Listener()
    ctx.host.register(listener)
    a, b = (ctx.manager.create("coordinator", name) for name in ("One", "Two"))
    app = make_app(ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        screen.switch_to("coordinator", a.id)
        screen.switch_to("coordinator", b.id)
        await send(pilot, " ".join(f"word{i}" for i in range(30)))
        screen.switch_to("coordinator", a.id)
        await settle(pilot)
        await wait_until(pilot, lambda: listener.calls != [])
        assert listener.calls == [(b.id, "waiting")]
        assert notifications(written) == [
            "\x1b]9;prompt-sessions: Two (coordinator): waits for you\x07"
        ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM": "xterm-256color"}, "\x1b]9;t: b\x07"),
        ({"TERM": "foot"}, "\x1b]777;notify;t;b\x07"),
        ({"TERM": "rxvt-unicode-256color"}, "\x1b]777;notify;t;b\x07"),
        ({"TERM_PROGRAM": "WezTerm"}, "\x1b]777;notify;t;b\x07"),
        ({"TERM": "screen", "TMUX": "/tmp/x"}, "\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\"),
    ],
)
def test_the_notification_sequence_suits_the_terminal(env: dict[str, str], expected: str) -> None:
    """OSC 777 where the terminal is known to show it, OSC 9 elsewhere, wrapped for tmux."""
    assert notification("t", "b", env) == expected


def test_text_cannot_break_out_of_the_sequence() -> None:
    """Control characters in a name become spaces; ``;`` cannot add OSC 777 fields."""
    shown = notification("t", "evil\x07\x1b]0;owned\x9c name;x", {"TERM": "foot"})
    assert shown == "\x1b]777;notify;t;evil  ]0,owned  name,x\x07"
    assert shown.count("\x07") == 1 and shown.count("\x1b") == 1
