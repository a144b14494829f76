"""The slash-command router and the built-in commands, without any frontend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prompt_sessions import hookimpl
from prompt_sessions.commands import CommandContext, CommandRouter, SlashCommand, split_command
from prompt_sessions.commands.base import PlainFrontend
from prompt_sessions.context import AppContext
from prompt_sessions.errors import AmbiguousSession, SessionNotFound, UnknownFormat, UsageError
from prompt_sessions.models import Message, Usage
from prompt_sessions.plugins import PluginHost


class RecordingFrontend(PlainFrontend):
    """Records cancel requests and can refuse confirmations."""

    def __init__(self, answer: bool = True) -> None:
        super().__init__()
        self.answer = answer
        self.questions: list[str] = []
        self.cancelled: list[str] = []
        self.retried: list[str] = []

    def cancel_reply(self, session_id: str) -> bool:
        self.cancelled.append(session_id)
        return True

    def retry_reply(self, session_id: str) -> bool:
        self.retried.append(session_id)
        return True

    def confirm(self, question, action):  # type: ignore[no-untyped-def]
        self.questions.append(question)
        if self.answer:
            super().confirm(question, action)


@pytest.fixture
def app_ctx(tmp_path: Path):
    ctx = AppContext.open(tmp_path / ".prompt_objects", host=PluginHost.create(entry_points=False))
    yield ctx
    ctx.manager.close()


@pytest.fixture
def router(app_ctx: AppContext) -> CommandRouter:
    return CommandRouter.from_host(app_ctx.host)


def make_ctx(app_ctx: AppContext, frontend=None, po: str = "coordinator") -> CommandContext:
    return CommandContext(app_ctx, po, None, frontend or RecordingFrontend())


def test_split_uses_shell_quoting():
    """Quotes group words and a missing closing quote is a usage error, not a crash."""
    assert split_command('/session rename "two  words" x') == [
        "session",
        "rename",
        "two  words",
        "x",
    ]
    with pytest.raises(UsageError, match="No closing quotation"):
        split_command('/s "open')


def test_is_command_only_for_single_slash():
    """A lone slash or a doubled slash is text to send, not a command."""
    assert CommandRouter.is_command("/help")
    assert not CommandRouter.is_command("//not a command")
    assert not CommandRouter.is_command("/")
    assert not CommandRouter.is_command("hello /help")


def test_new_creates_and_switches(app_ctx, router):
    """/session new NAME creates a session, makes it current and tells the frontend to show it."""
    ctx = make_ctx(app_ctx)
    out = router.run(ctx, "/session new Debug [task]")
    session = app_ctx.manager.current("coordinator")
    assert session.name == "Debug [task]"
    assert ctx.session_id == session.id
    assert ctx.frontend.shown == ("coordinator", session.id)
    assert "Debug [task]" in out


def test_new_without_name_uses_auto_name(app_ctx, router):
    """/new twice gives New Session and New Session 2."""
    ctx = make_ctx(app_ctx)
    router.run(ctx, "/new")
    router.run(ctx, "/new")
    assert sorted(s.name for s in app_ctx.manager.list("coordinator")) == [
        "New Session",
        "New Session 2",
    ]


def test_rename_takes_rest_of_line_and_creates_first_session(app_ctx, router):
    """/rename with several words renames; on a PO without sessions it creates the first one."""
    ctx = make_ctx(app_ctx)
    router.run(ctx, "/rename My  long name")
    [only] = app_ctx.manager.list("coordinator")
    assert only.name == "My long name"
    router.run(ctx, "/session rename 'quoted  name'")
    assert app_ctx.manager.get(only.id).name == "quoted  name"


def test_rename_without_name_is_usage_error(app_ctx, router):
    """/rename alone explains what is missing."""
    with pytest.raises(UsageError, match="new name"):
        router.run(make_ctx(app_ctx), "/rename")


def test_switch_by_name_prefix_and_id_of_another_po(app_ctx, router):
    """/switch matches this PO's names, or any session's id prefix, moving to its PO."""
    mgr = app_ctx.manager
    a = mgr.create("coordinator", "Alpha")
    mgr.create("coordinator", "Beta")
    other = mgr.create("writer", "Draft")
    ctx = make_ctx(app_ctx)
    router.run(ctx, "/s alp")
    assert ctx.session_id == a.id and mgr.backend.get_current("coordinator") == a.id
    router.run(ctx, f"/session switch {other.id[:8]}")
    assert (ctx.po_name, ctx.session_id) == ("writer", other.id)
    assert mgr.backend.get_current("writer") == other.id


def test_switch_errors_are_clear(app_ctx, router):
    """An unknown or ambiguous name raises the store's errors with the candidates."""
    mgr = app_ctx.manager
    mgr.create("coordinator", "Test one")
    mgr.create("coordinator", "Test two")
    ctx = make_ctx(app_ctx)
    with pytest.raises(SessionNotFound):
        router.run(ctx, "/switch nothing")
    with pytest.raises(AmbiguousSession, match="Test one"):
        router.run(ctx, "/switch Test")


def test_switch_to_another_pos_name_says_whose_it_is(app_ctx, router):
    """/switch NAME where NAME is another PO's session: the error says whose it is and its id
    (which /switch takes across POs), as the CLI's ``--session`` does."""
    mgr = app_ctx.manager
    mgr.create("coordinator", "Here")
    other = mgr.create("writer", "Crème brûlée")
    ctx = make_ctx(app_ctx)
    with pytest.raises(SessionNotFound) as info:
        router.run(ctx, "/switch Crème brûlée")
    assert str(info.value) == (
        f"no session matches 'Crème brûlée' for PO 'coordinator'; 'Crème brûlée' "
        f"({other.id[:8]}) is a session of PO 'writer'"
    )


def test_delete_asks_and_moves_to_another(app_ctx, router):
    """/session delete asks first; yes deletes and shows the PO's next session."""
    mgr = app_ctx.manager
    keep = mgr.create("coordinator", "Keep")
    gone = mgr.create("coordinator", "Gone")
    mgr.switch("coordinator", gone.id)
    ctx = make_ctx(app_ctx)
    ctx.session_id = gone.id
    router.run(ctx, "/session delete")
    assert ctx.frontend.questions == ["Delete session 'Gone' (0 msgs)?"]
    assert [s.id for s in mgr.list("coordinator")] == [keep.id]
    assert ctx.session_id == keep.id and mgr.backend.get_current("coordinator") == keep.id


def test_delete_refused_keeps_session(app_ctx, router):
    """Answering no leaves the store untouched."""
    s = app_ctx.manager.create("coordinator", "Stay")
    ctx = make_ctx(app_ctx, RecordingFrontend(answer=False))
    ctx.session_id = s.id
    router.run(ctx, "/session delete")
    assert [x.id for x in app_ctx.manager.list()] == [s.id]


def test_delete_last_creates_fresh(app_ctx, router):
    """Deleting the PO's last session leaves a fresh current one."""
    s = app_ctx.manager.create("coordinator", "Only")
    ctx = make_ctx(app_ctx)
    ctx.session_id = s.id
    router.run(ctx, "/session delete")
    [fresh] = app_ctx.manager.list("coordinator")
    assert fresh.id != s.id and fresh.name == "New Session" and ctx.session_id == fresh.id


def test_delete_without_session_is_usage_error(app_ctx, router):
    """Commands that need a session say so when the PO has none yet."""
    with pytest.raises(UsageError, match="no session yet"):
        router.run(make_ctx(app_ctx), "/session delete")


def test_export_formats_and_paths(app_ctx, router, tmp_path, monkeypatch):
    """/session export writes markdown by default, json on request, to the path given."""
    monkeypatch.chdir(tmp_path)
    s = app_ctx.manager.create("coordinator", "Notes / [x]")
    app_ctx.manager.append(s.id, Message(role="user", content="hello there"))
    ctx = make_ctx(app_ctx)
    ctx.session_id = s.id
    out = router.run(ctx, "/session export")
    written = Path(out.removeprefix("Exported to "))
    assert written.parent == tmp_path and written.suffix == ".md"
    assert "hello there" in written.read_text()
    router.run(ctx, f"/session export json {tmp_path / 'out.json'}")
    assert json.loads((tmp_path / "out.json").read_text())["id"] == s.id
    with pytest.raises(UsageError, match="folder .*sub/dir does not exist"):
        router.run(ctx, "/session export sub/dir/file.md")
    assert not (tmp_path / "sub").exists()  # the CLI's rule: a missing folder is refused
    with pytest.raises(UnknownFormat, match="json, markdown"):
        router.run(ctx, "/session export zip")


def test_import_switches_to_imported(app_ctx, router, tmp_path):
    """/session import reads a json export and shows the imported copy."""
    s = app_ctx.manager.create("writer", "Source")
    path = tmp_path / "s.json"
    path.write_text(app_ctx.manager.export(s.id, "json"))
    ctx = make_ctx(app_ctx)
    out = router.run(ctx, f"/session import '{path}'")
    assert "Source (imported)" in out
    assert (
        ctx.po_name == "writer" and app_ctx.manager.get(ctx.session_id).name == "Source (imported)"
    )
    with pytest.raises(UsageError, match="cannot read"):
        router.run(ctx, f"/session import {tmp_path / 'missing.json'}")


def test_info_lists_fields(app_ctx, router):
    """/session info shows id, PO, message count, tokens and the file path."""
    s = app_ctx.manager.create("coordinator", "Info")
    app_ctx.manager.append(
        s.id, Message(role="assistant", content="x", usage={"input_tokens": 3, "output_tokens": 4})
    )
    ctx = make_ctx(app_ctx)
    ctx.session_id = s.id
    out = router.run(ctx, "/session info")
    assert s.id in out and "PO: coordinator" in out and "Messages: 1" in out
    assert "Tokens: 3 in, 4 out" in out and f"{s.id}.json" in out


def test_info_counts_the_delegations_under_the_session_and_their_cost(tmp_path):
    """/session info adds the tokens of the delegations made under the session (at any
    depth), per model, with the cost from [prices.<model>] per million tokens."""
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text("[prices.big]\ninput = 2.0\noutput = 10.0\n")
    app = AppContext.open(root, host=PluginHost.create(entry_points=False))
    try:
        manager = app.manager
        top = manager.create("boss", "Top")
        manager.append(
            top.id,
            Message(
                role="assistant",
                content="a",
                model="big",
                usage=Usage(input_tokens=100, output_tokens=10),
            ),
        )
        child = manager.create("worker", "Asked")
        manager.backend.update(child.id, thread_type="delegation", parent_id=top.id)
        manager.append(
            child.id,
            Message(
                role="assistant",
                content="b",
                model="small",
                usage=Usage(input_tokens=5, output_tokens=1),
            ),
        )
        grandchild = manager.create("helper", "Asked again")
        manager.backend.update(grandchild.id, thread_type="delegation", parent_id=child.id)
        manager.append(
            grandchild.id,
            Message(
                role="assistant",
                content="c",
                model="big",
                usage=Usage(input_tokens=900, output_tokens=90),
            ),
        )
        unrelated = manager.create("boss", "Other")
        manager.append(
            unrelated.id,
            Message(role="assistant", content="d", usage=Usage(input_tokens=7, output_tokens=7)),
        )
        ctx = make_ctx(app)
        ctx.session_id = top.id
        out = CommandRouter.from_host(app.host).run(ctx, "/session info")
        assert "Tokens: 1005 in, 101 out (with 2 delegations)" in out
        assert "  big: 1000 in, 100 out" in out and "  small: 5 in, 1 out" in out
        assert "Cost: 0.0030 (from [prices] in config.toml)" in out  # 1000*2 + 100*10 per 1M
    finally:
        app.manager.close()


def test_fork_copies_history(app_ctx, router):
    """/session fork NAME copies the history into a new current session."""
    s = app_ctx.manager.create("coordinator", "Base")
    app_ctx.manager.append(s.id, Message(role="user", content="one"))
    ctx = make_ctx(app_ctx)
    ctx.session_id = s.id
    router.run(ctx, "/session fork Branch")
    fork = app_ctx.manager.get(ctx.session_id)
    assert fork.name == "Branch" and fork.parent_id == s.id and len(fork.history) == 1


def test_cancel_asks_frontend(app_ctx, router):
    """/cancel asks the frontend to stop the shown session's reply."""
    ctx = make_ctx(app_ctx)
    assert router.run(ctx, "/cancel") == "No reply is streaming"
    ctx.session_id = app_ctx.manager.create("coordinator").id
    assert router.run(ctx, "/cancel") == "Reply cancelled"
    assert ctx.frontend.cancelled == [ctx.session_id]


def test_retry_asks_frontend(app_ctx, router):
    """/retry asks the frontend to run the shown session's last reply again; with no session
    shown there is nothing to retry."""
    ctx = make_ctx(app_ctx)
    assert router.run(ctx, "/retry") == "Nothing to retry: the last turn has its reply"
    ctx.session_id = app_ctx.manager.create("coordinator").id
    assert router.run(ctx, "/retry") == "Running the reply again"
    assert ctx.frontend.retried == [ctx.session_id]
    with pytest.raises(UsageError, match="usage: /retry"):
        router.run(ctx, "/retry now")


def test_sessions_lists_with_marker(app_ctx, router):
    """/sessions lists names with a star on the shown one."""
    a = app_ctx.manager.create("coordinator", "A")
    app_ctx.manager.create("coordinator", "B")
    ctx = make_ctx(app_ctx)
    ctx.session_id = a.id
    lines = router.run(ctx, "/sessions").splitlines()
    assert lines[0] == "Sessions of coordinator:"
    assert any(line.startswith("* A ") for line in lines)
    assert any(line.startswith("  B ") for line in lines)


def test_unknown_and_bad_arguments(app_ctx, router):
    """Unknown commands and stray arguments are usage errors naming the problem."""
    ctx = make_ctx(app_ctx)
    with pytest.raises(UsageError, match="unknown command '/nope'"):
        router.run(ctx, "/nope")
    with pytest.raises(UsageError, match="usage: /session info"):
        router.run(ctx, "/session info extra")
    with pytest.raises(UsageError, match=r"usage: /session export \[format\] \[path\]"):
        router.run(ctx, "/session export json a.json extra")
    with pytest.raises(UsageError, match="type a command after the slash"):
        router.run(ctx, "/")
    # A group's word alone, or with a word the group does not know, says what the group takes.
    for line in ("/session", "/session bogus"):
        with pytest.raises(UsageError, match=r"/session takes: /session new \[name\], "):
            router.run(ctx, line)
    with pytest.raises(UsageError, match="no command starts with '/zzz'"):
        router.run(ctx, "/help zzz")


def test_help_lists_every_command_and_filters(app_ctx, router):
    """/help lists usage lines with aliases; /help session narrows the list."""
    out = router.run(make_ctx(app_ctx), "/help")
    for usage in (
        "/sessions",
        "/session new [name] (also /new)",
        "/session switch <name|id> (also /switch, /s)",
        "/cancel",
    ):
        assert usage in out
    narrowed = router.run(make_ctx(app_ctx), "/help session r")
    assert narrowed.splitlines() == [
        "/session rename <name> (also /rename): rename the shown session"
    ]


class GreetPlugin:
    """A plugin adding /greet and a broken /boom."""

    @hookimpl
    def register_commands(self, register):  # type: ignore[no-untyped-def]
        register(
            SlashCommand(
                "greet", lambda ctx, args: f"hello {' '.join(args)} from {ctx.po_name}", "greet"
            )
        )
        register(SlashCommand("boom", lambda ctx, args: 1 / 0, "fails"))


def test_plugin_commands_join_the_router(tmp_path):
    """A plugin's command runs through the router; its crash becomes a usage error."""
    host = PluginHost.create(entry_points=False, plugins=[GreetPlugin()])
    ctx = AppContext.open(tmp_path / ".po", host=host)
    router = CommandRouter.from_host(host)
    assert router.run(make_ctx(ctx), "/greet big world") == "hello big world from coordinator"
    with pytest.raises(UsageError, match="ZeroDivisionError"):
        router.run(make_ctx(ctx), "/boom")
    assert "/greet: greet" in router.help_text()
    ctx.manager.close()
