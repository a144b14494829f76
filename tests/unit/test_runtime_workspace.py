"""The saved workspace: closing and reopening restores which sessions were open, the shown one
and each session's view; a damaged or stale file never stops the app."""

from __future__ import annotations

import json
import os
from pathlib import Path

from prompt_sessions.context import AppContext
from prompt_sessions.plugins import PluginHost
from prompt_sessions.runtime import Coordinator, ViewState
from prompt_sessions.runtime.workspace import (
    WORKSPACE_FILE,
    Workspace,
    load_workspace,
    save_workspace,
)


def open_ctx(root: Path) -> AppContext:
    return AppContext.open(root, host=PluginHost.create(entry_points=False))


async def test_reopening_restores_open_sessions_shown_one_and_views(root: Path) -> None:
    """A second coordinator (the app started again) reopens the same sessions in the same order,
    shows the same one and gives each its scroll, draft, filter and search back."""
    ctx = open_ctx(root)
    coord = Coordinator(ctx)
    a, b, c = (ctx.manager.create("po", name) for name in "abc")
    coord.open(a.id).view = ViewState(scroll_y=40.0, draft="unsent thought", filter="assistant")
    coord.open(c.id)
    coord.show(b.id).view.search = "needle"
    coord.get(c.id).view.draft = "x" * 10
    await coord.shutdown()
    ctx.manager.close()

    ctx2 = open_ctx(root)
    again = Coordinator(ctx2)
    shown = again.restore_workspace()
    assert shown is not None and shown.session_id == b.id
    assert again.shown == b.id
    assert [live.session_id for live in again.open_sessions()] == [a.id, c.id, b.id]
    assert again.get(a.id).view == ViewState(
        scroll_y=40.0, draft="unsent thought", filter="assistant"
    )
    assert again.get(b.id).view == ViewState(search="needle")
    assert again.get(c.id).view.draft == "x" * 10
    await again.shutdown()
    ctx2.manager.close()


async def test_restore_skips_sessions_deleted_since(root: Path) -> None:
    """A session deleted between runs is skipped with a warning; the rest reopen."""
    ctx = open_ctx(root)
    coord = Coordinator(ctx)
    a, b = (ctx.manager.create("po", name) for name in "ab")
    coord.open(a.id)
    coord.show(b.id)
    await coord.shutdown()
    ctx.manager.delete(b.id)
    again = Coordinator(ctx)
    assert again.restore_workspace() is None
    assert [live.session_id for live in again.open_sessions()] == [a.id]
    assert any(b.id[:8] in warning for warning in ctx.warnings)
    await again.shutdown()
    ctx.manager.close()


async def test_workspace_file_is_private_and_updated_as_sessions_open_and_close(root: Path) -> None:
    """The file is private (0600) and follows sessions being opened, shown and closed."""
    ctx = open_ctx(root)
    coord = Coordinator(ctx)
    a, b = (ctx.manager.create("po", name) for name in "ab")
    coord.open(a.id)
    coord.show(b.id)
    coord.close_session(a.id)
    await coord.shutdown()
    path = root / WORKSPACE_FILE
    assert json.loads(path.read_text())["open"] == [b.id]
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
    ctx.manager.close()


def test_a_damaged_workspace_file_is_read_as_empty(root: Path) -> None:
    """Garbage, the wrong shape or bad ids in the file give an empty or filtered workspace."""
    root.mkdir(parents=True)
    path = root / WORKSPACE_FILE
    path.write_text("{not json")
    assert load_workspace(root) == Workspace()
    path.write_text('["a list"]')
    assert load_workspace(root) == Workspace()
    good = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
    path.write_text(
        json.dumps(
            {
                "open": ["../escape", good, good, 7],
                "shown": "../escape",
                "views": {good: {"scroll_y": -3, "draft": "kept"}, "../escape": {"draft": "no"}},
            }
        )
    )
    assert load_workspace(root) == Workspace(
        open=[good], shown=None, views={good: ViewState(draft="kept")}
    )


def test_nothing_is_written_for_an_empty_workspace_in_a_new_folder(root: Path) -> None:
    """Saving an empty workspace never creates the environment folder."""
    save_workspace(root, Workspace())
    assert not root.exists()


def test_workspace_round_trip(root: Path) -> None:
    """What is saved is what is loaded."""
    sid = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
    saved = Workspace(open=[sid], shown=sid, views={sid: ViewState(scroll_y=3.0, draft="é")})
    save_workspace(root, saved)
    assert load_workspace(root) == saved
