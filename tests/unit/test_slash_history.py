"""/rewind, /undo, /edit, /regenerate and /tree without a screen (DESIGN section 14): what
they do to the store, what they ask of the frontend, and their one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prompt_sessions.commands import CommandContext, CommandRouter
from prompt_sessions.commands.base import PlainFrontend
from prompt_sessions.context import AppContext
from prompt_sessions.errors import UsageError
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost


class Busy(PlainFrontend):
    """A frontend whose shown session is replying."""

    def reply_running(self, session_id: str) -> bool:
        return True


@pytest.fixture(params=["json", "sqlite"])
def app_ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppContext]:
    """An environment on each built-in store."""
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text(f'[storage]\nbackend = "{request.param}"\n')
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    yield ctx
    ctx.manager.close()


def _ctx(app_ctx: AppContext, turns: int = 2) -> CommandContext:
    mgr = app_ctx.manager
    s = mgr.create("po", "Chat")
    for i in range(turns):
        mgr.append(s.id, Message(role="user", content=f"ask {i}"))
        mgr.append(s.id, Message(role="assistant", content=f"answer {i}"))
    return CommandContext(app_ctx, "po", s.id, PlainFrontend())


def _run(ctx: CommandContext, line: str) -> str | None:
    return CommandRouter.from_host(ctx.app.host).run(ctx, line)


def _texts(ctx: CommandContext, sid: str | None = None) -> list[str]:
    return [m.content for m in ctx.manager.get(sid or ctx.require_session()).history]


def test_rewind_without_a_number_takes_back_the_last_turn(app_ctx: AppContext) -> None:
    """/rewind drops the last message of the person and its reply, into a fork."""
    ctx = _ctx(app_ctx)
    said = _run(ctx, "/rewind")
    assert _texts(ctx) == ["ask 0", "answer 0"]
    assert said is not None and "Rewound to 2 messages; the 2 messages after" in said
    assert "'Chat (before rewind)'" in said and "/undo" in said
    assert ctx.frontend.rewritten == [(ctx.session_id, False)]  # type: ignore[attr-defined]


def test_rewind_to_a_number_and_undo_both_spellings(app_ctx: AppContext) -> None:
    """/rewind N keeps N messages; /undo and /rewind --undo take rewinds back, each saying
    that the fork it emptied went to the trash and how to bring it back."""
    ctx = _ctx(app_ctx)
    _run(ctx, "/rewind 1")
    forks = {s.id for s in ctx.manager.list()} - {ctx.session_id}
    _run(ctx, "/rewind 0")
    latest = ({s.id for s in ctx.manager.list()} - {ctx.session_id} - forks).pop()
    first = forks.pop()
    assert _texts(ctx) == []
    assert _run(ctx, "/rewind --undo") == (
        "Undid the last rewind: 1 message again; the fork 'Chat (before rewind)' is no longer "
        f"needed (moved to the trash; undo with: prompt-sessions restore {latest[:8]})"
    )
    assert _run(ctx, "/undo") == (
        "Undid the last rewind: 4 messages again; the fork 'Chat (before rewind)' is no longer "
        f"needed (moved to the trash; undo with: prompt-sessions restore {first[:8]})"
    )
    assert len(ctx.manager.list()) == 1
    assert {e.summary.id for e in ctx.manager.trashed()} == {first, latest}


def test_edit_changes_the_last_message_and_asks_for_a_reply(app_ctx: AppContext) -> None:
    """/edit <text> replaces the last message of the person; the frontend is asked to reply."""
    ctx = _ctx(app_ctx)
    said = _run(ctx, "/edit a better question")
    assert _texts(ctx) == ["ask 0", "answer 0", "a better question"]
    assert said is not None and said.startswith("Edited message 3 and asked again")
    assert ctx.frontend.rewritten == [(ctx.session_id, True)]  # type: ignore[attr-defined]
    _run(ctx, "/undo")
    assert _texts(ctx) == ["ask 0", "answer 0", "ask 1", "answer 1"]


def test_edit_takes_the_text_as_typed(app_ctx: AppContext) -> None:
    """/edit keeps apostrophes, quotes, spacing and line breaks that shell quoting would eat."""
    ctx = _ctx(app_ctx)
    _run(ctx, '/edit it\'s "quoted"  twice\nand a second line')
    assert _texts(ctx)[-1] == 'it\'s "quoted"  twice\nand a second line'
    _run(ctx, "/edit 1   don't")
    assert _texts(ctx) == ["don't"]


class WithBox(PlainFrontend):
    """A frontend with a message box: records what is offered there."""

    def __init__(self) -> None:
        super().__init__()
        self.drafts: list[str] = []

    def offer_draft(self, text: str) -> bool:
        self.drafts.append(text)
        return True


def test_edit_without_text_offers_the_message_in_the_box(app_ctx: AppContext) -> None:
    """/edit and /edit N alone put ``/edit N <old text>`` in the box and change nothing."""
    ctx = _ctx(app_ctx)
    box = WithBox()
    ctx.frontend = box
    assert _run(ctx, "/edit") == "Change message 3 in the box and press Enter to ask again"
    _run(ctx, "/edit 1")
    assert box.drafts == ["/edit 3 ask 1", "/edit 1 ask 0"]
    assert len(_texts(ctx)) == 4 and len(ctx.manager.list()) == 1
    with pytest.raises(UsageError, match="give the new text"):
        _run(ctx, "/edit 2")  # not a message of the person's


def test_edit_a_numbered_message(app_ctx: AppContext) -> None:
    """/edit N <text> changes message N and drops what followed it into the fork."""
    ctx = _ctx(app_ctx)
    _run(ctx, "/edit 1 first again")
    assert _texts(ctx) == ["first again"]


def test_regenerate_cuts_the_reply_and_asks_again(app_ctx: AppContext) -> None:
    """/regenerate keeps the last question, moves the old answer aside and asks for a reply;
    with the question unanswered it only asks for the reply."""
    ctx = _ctx(app_ctx)
    said = _run(ctx, "/regenerate")
    assert _texts(ctx) == ["ask 0", "answer 0", "ask 1"]
    assert said is not None and "'Chat (earlier reply)'" in said
    assert _run(ctx, "/regenerate") == "Running the reply"
    assert len(ctx.manager.list()) == 2
    assert ctx.frontend.rewritten == [(ctx.session_id, True)] * 2  # type: ignore[attr-defined]


def test_tree_prints_the_lineage_without_a_tree_view(app_ctx: AppContext) -> None:
    """/tree lists the root and its forks, indented, the shown one starred."""
    ctx = _ctx(app_ctx)
    _run(ctx, "/rewind")
    tree = _run(ctx, "/tree")
    assert tree is not None
    lines = tree.splitlines()
    assert lines[0].startswith("* Chat (po, 2 msgs)")
    assert lines[1].startswith("  - Chat (before rewind) (po, 4 msgs, fork)")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("/rewind 9", "between 0 and 4"),
        ("/rewind 4", "nothing to rewind"),
        ("/rewind x", "'x' is not a message number"),
        ("/rewind 1 2", r"usage: /rewind \[N\] or /rewind --undo"),
        ("/undo", "nothing to undo"),
        ("/edit", "give the new text"),
        ("/edit 3", "give the new text"),
        ("/edit 2 not mine", "message 2 is not yours"),
        ("/edit 9 text", "there is no message 9"),
        ("/regenerate now", "usage: /regenerate"),
        ("/tree x", "usage: /tree"),
    ],
)
def test_bad_arguments_are_one_clear_line_and_change_nothing(
    app_ctx: AppContext, line: str, says: str
) -> None:
    """Each mistake is a usage error naming the fix; the session is unchanged."""
    ctx = _ctx(app_ctx)
    with pytest.raises(UsageError, match=says) as caught:
        _run(ctx, line)
    assert "\n" not in str(caught.value)
    assert len(_texts(ctx)) == 4 and len(ctx.manager.list()) == 1


@pytest.mark.parametrize("line", ["/rewind", "/undo", "/edit x", "/regenerate"])
def test_nothing_changes_while_a_reply_runs(app_ctx: AppContext, line: str) -> None:
    """A session that is replying is not rewritten under the reply."""
    ctx = _ctx(app_ctx)
    ctx.frontend = Busy()
    with pytest.raises(UsageError, match="/cancel it first"):
        _run(ctx, line)
    assert len(_texts(ctx)) == 4


def test_no_session_yet(app_ctx: AppContext) -> None:
    """With no session shown, each command says how to start one."""
    ctx = CommandContext(app_ctx, "po", None, PlainFrontend())
    for line in ("/rewind", "/undo", "/edit x", "/regenerate", "/tree"):
        with pytest.raises(UsageError, match="has no session yet"):
            _run(ctx, line)
