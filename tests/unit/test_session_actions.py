"""Session actions every frontend shares, driven through the slash commands that use them:
exports that must not overwrite or that cannot be written, ids that match several sessions, the
info of forks and of stores without files, and the sessions list of a busy PO."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import prompt_sessions.checks as checks_module
from prompt_sessions import hookimpl
from prompt_sessions.commands import CommandContext, CommandRouter
from prompt_sessions.commands.base import PlainFrontend
from prompt_sessions.commands.builtin import SESSIONS_LISTED
from prompt_sessions.context import AppContext
from prompt_sessions.errors import AmbiguousSession, UsageError
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.testing import registered_plugin


@pytest.fixture
def app_ctx(tmp_path: Path) -> Iterator[AppContext]:
    ctx = AppContext.open(tmp_path / ".prompt_objects", host=PluginHost.create(entry_points=False))
    yield ctx
    ctx.manager.close()


@pytest.fixture
def router(app_ctx: AppContext) -> CommandRouter:
    return CommandRouter.from_host(app_ctx.host)


def showing(app_ctx: AppContext, session_id: str | None, po: str = "coordinator") -> CommandContext:
    return CommandContext(app_ctx, po, session_id, PlainFrontend())


def test_exports_into_a_folder_never_overwrite(
    app_ctx: AppContext, router: CommandRouter, tmp_path: Path
) -> None:
    """Exporting twice into the same folder names the second file -2 instead of replacing the first."""
    session = app_ctx.manager.create("coordinator", "Notes: draft/2")
    app_ctx.manager.append(session.id, Message(role="user", content="first version"))
    folder = tmp_path / "exports"
    folder.mkdir()
    ctx = showing(app_ctx, session.id)
    first = Path(router.run(ctx, f"/session export markdown {folder}").removeprefix("Exported to "))  # type: ignore[union-attr]
    app_ctx.manager.append(session.id, Message(role="user", content="second version"))
    second = Path(
        router.run(ctx, f"/session export markdown {folder}").removeprefix("Exported to ")
    )  # type: ignore[union-attr]
    stem = f"Notes-draft-2-{session.id[:8]}"
    assert (first.name, second.name) == (f"{stem}.md", f"{stem}-2.md")
    assert "second version" not in first.read_text()
    assert "second version" in second.read_text()


def test_an_export_that_cannot_be_written_is_a_usage_error(
    app_ctx: AppContext, router: CommandRouter, tmp_path: Path
) -> None:
    """A path under a plain file cannot be created: the error names the target, nothing is written."""
    session = app_ctx.manager.create("coordinator", "Blocked")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(UsageError, match=f"cannot write {blocker / 'out.md'}"):
        router.run(showing(app_ctx, session.id), f"/session export markdown {blocker / 'out.md'}")
    assert blocker.read_text() == "not a folder"


class BinaryExporter:
    name = "bin"
    extension = "bin"
    media_type = "application/octet-stream"

    def export(self, session: Any) -> bytes:
        return b"\x00\xff" + session.name.encode()


class BinaryExporterPlugin:
    @hookimpl
    def register_exporters(self, register: Callable[[Any], None]) -> None:
        register(BinaryExporter())


def test_an_exporter_returning_bytes_is_written_as_is(
    app_ctx: AppContext, router: CommandRouter, tmp_path: Path
) -> None:
    """Bytes from an exporter plugin reach the file unchanged (no text encoding)."""
    session = app_ctx.manager.create("coordinator", "Binary")
    target = tmp_path / "out.bin"
    with registered_plugin(BinaryExporterPlugin(), app_ctx.host):
        router.run(showing(app_ctx, session.id), f"/session export bin {target}")
    assert target.read_bytes() == b"\x00\xffBinary"


def test_an_id_prefix_matching_sessions_of_two_pos_is_ambiguous(
    app_ctx: AppContext, router: CommandRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/session switch with an id prefix that two sessions (of other POs) share names both."""
    counter = itertools.count(1)
    monkeypatch.setattr(
        checks_module,
        "new_id",
        lambda: str(uuid.UUID(f"abcdef00-0000-4000-8000-{next(counter):012d}")),
    )
    one = app_ctx.manager.create("writer", "One")
    two = app_ctx.manager.create("researcher", "Two")
    with pytest.raises(AmbiguousSession) as caught:
        router.run(showing(app_ctx, None), "/session switch abcdef00")
    assert {sid for sid, _ in caught.value.candidates} == {one.id, two.id}
    assert "'One'" in str(caught.value) and "'Two'" in str(caught.value)
    switched = router.run(showing(app_ctx, None), f"/session switch {two.id}")
    assert switched == "Switched to 'Two' (researcher)"


def test_info_of_a_fork_without_tokens_names_its_parent(
    app_ctx: AppContext, router: CommandRouter
) -> None:
    """A fork's info says where it came from; without usage there is no token line."""
    base = app_ctx.manager.create("coordinator", "Base")
    app_ctx.manager.append(base.id, Message(role="user", content="one"))
    app_ctx.manager.append(base.id, Message(role="user", content="two"))
    fork = app_ctx.manager.fork(base.id, at=1)
    info = router.run(showing(app_ctx, fork.id), "/session info")
    assert info is not None
    assert f"Forked from: {base.id} at message 1" in info.splitlines()
    assert "Messages: 1" in info.splitlines()
    assert not any(line.startswith("Tokens:") for line in info.splitlines())


def test_info_on_a_store_without_session_files_has_no_file_line(tmp_path: Path) -> None:
    """The sqlite store keeps no file per session, so info shows none."""
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text('[storage]\nbackend = "sqlite"\n')
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    try:
        session = ctx.manager.create("coordinator", "In the database")
        info = CommandRouter.from_host(ctx.host).run(showing(ctx, session.id), "/session info")
    finally:
        ctx.manager.close()
    assert info is not None and f"Id: {session.id}" in info
    assert not any(line.startswith("File:") for line in info.splitlines())


def test_the_sessions_list_of_a_busy_po_says_how_many_more(
    app_ctx: AppContext, router: CommandRouter
) -> None:
    """/sessions lists the most recent SESSIONS_LISTED sessions and counts the rest."""
    for i in range(SESSIONS_LISTED + 3):
        app_ctx.manager.create("coordinator", f"Session {i}")
    text = router.run(showing(app_ctx, None), "/sessions")
    assert text is not None
    lines = text.splitlines()
    assert len(lines) == 1 + SESSIONS_LISTED + 1
    assert lines[-1] == "  ... and 3 more (press S for the picker)"
