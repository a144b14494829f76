"""Hits of equal score come most recent first on every output path (DESIGN section 12): the
command line's text and ``--json``, the explorer's ranked search and the MCP server's tools,
on both built-in stores, and on a store whose search index an older version built."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions import search_live
from prompt_sessions.context import AppContext
from prompt_sessions.frontends.mcp_tools import SessionTools
from prompt_sessions.ids import new_id
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message, Session
from prompt_sessions.plugins import PluginHost

BACKENDS = ["json", "sqlite"]


def _use(run: Run, backend: str) -> None:
    if backend == "sqlite":
        config = run.store / "config.toml"
        config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


def _manager(root: Path) -> SessionManager:
    return SessionManager.open(root, host=PluginHost.create(entry_points=False))


def _put(mgr: SessionManager, sid: str, name: str, day: str) -> None:
    """A session holding the same text twice, last updated on ``day``."""
    at = [f"{day}T10:0{k}:00.000Z" for k in (1, 2)]
    mgr.backend.create(
        Session(
            id=sid,
            name=name,
            po_name="coordinator",
            created_at=at[0],
            updated_at=at[1],
            history=[Message(role="user", content="the walrus sings", created_at=t) for t in at],
        )
    )


def _two_sessions(root: Path) -> tuple[str, str]:
    """(newer, older): the newer one has the greater id, so id order would put it last."""
    older, newer = sorted(new_id() for _ in range(2))
    with _manager(root) as mgr:
        _put(mgr, newer, "Newer", "2025-02-01")
        _put(mgr, older, "Older", "2025-01-01")
    return newer, older


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_search_lists_equal_hits_most_recent_first(run: Run, backend: str) -> None:
    """``search --json`` and the text output give the newer session's hits first, its later
    message first; ``--limit 1`` keeps the newest."""
    _use(run, backend)
    newer, older = _two_sessions(run.store)
    hits = run.json("search", "walrus", "--json")
    assert [(h["id"], h["message_index"]) for h in hits] == [
        (newer, 1),
        (newer, 0),
        (older, 1),
        (older, 0),
    ]
    assert [
        (h["id"], h["message_index"])
        for h in run.json("search", "walrus", "--json", "--limit", "1")
    ] == [(newer, 1)]
    code, out, _ = run("search", "walrus")
    heads = [line for line in out.splitlines() if not line.startswith(" ")]
    assert code == 0 and [line[:8] for line in heads] == [newer[:8]] * 2 + [older[:8]] * 2
    assert "(message 2," in heads[0] and "(message 1," in heads[1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_explorer_and_mcp_list_equal_hits_most_recent_first(run: Run, backend: str) -> None:
    """The explorer's ranked search (``search_live.ranked``) and the MCP server's
    ``search_sessions`` and ``list_sessions(query=...)`` order ties as ``search`` does."""
    _use(run, backend)
    newer, older = _two_sessions(run.store)
    ctx = AppContext.open(run.store, host=PluginHost.create(entry_points=False))
    try:
        ranked = search_live.ranked(ctx.manager, "walrus", limit=10, cancelled=lambda: False)
        assert [(h.session.id, h.message_index) for h in ranked] == [
            (newer, 1),
            (newer, 0),
            (older, 1),
            (older, 0),
        ]
        tools = SessionTools(ctx)
        found = tools.search_sessions("walrus", limit=3)
        assert [(h["id"], h["message_index"]) for h in found] == [
            (newer, 1),
            (newer, 0),
            (older, 1),
        ]
        assert [s["id"] for s in tools.list_sessions(query="walrus")] == [newer, older]
    finally:
        ctx.manager.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_index_built_by_an_older_version_is_built_again(run: Run, backend: str) -> None:
    """A search index written before hits were ordered by time (no ``updated_at`` in its
    session table) is built again on the next search, which then orders ties by time."""
    _use(run, backend)
    newer, older = _two_sessions(run.store)
    run.json("search", "walrus", "--json")  # builds the index
    path = run.store / ("sessions.sqlite3" if backend == "sqlite" else "cache/search.sqlite3")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("ALTER TABLE search_session DROP COLUMN updated_at")
        conn.execute("UPDATE search_meta SET value = '3/1' WHERE key = 'version'")
    conn.close()
    hits = run.json("search", "walrus", "--json")
    assert [(h["id"], h["message_index"]) for h in hits] == [
        (newer, 1),
        (newer, 0),
        (older, 1),
        (older, 0),
    ]
