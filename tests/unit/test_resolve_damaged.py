"""A reference to a damaged session says it is damaged, not that nothing matches (DESIGN
sections 4.4 and 6).

``list`` skips a damaged session with a warning that names its id; a user who then types that
id (whole or a prefix) into ``show``, ``export`` or the MCP server's ``get_session`` must learn
that the session is there but damaged, and where to look (``doctor``), not that no session
matches: that reads as if it were gone.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions import Message, SessionManager
from prompt_sessions.errors import CorruptSession
from prompt_sessions.plugins import PluginHost


def _damage_json(store: Path, session_id: str) -> None:
    """Replace the session file with a cut one, as an editor saving half a file would."""
    target = store / "sessions" / f"{session_id}.json"
    spare = target.with_name("cut.tmp")
    spare.write_bytes(b'{"format_version": 1, "id": ')
    spare.chmod(0o600)
    os.replace(spare, target)


def _damage_sqlite(store: Path, session_id: str) -> None:
    conn = sqlite3.connect(store / "sessions.sqlite3")
    with conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        columns = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        table = next(t for t in tables if t == "sessions")
        text_columns = [c for c in columns[table] if c in ("data", "body", "summary", "meta")]
        for column in text_columns:
            conn.execute(f"UPDATE {table} SET {column} = 'not json' WHERE id = ?", (session_id,))
    conn.close()


@pytest.mark.parametrize("command", ["show", "export"])
@pytest.mark.parametrize("length", [36, 8])
def test_cli_names_a_damaged_session_as_damaged(run: Run, command: str, length: int) -> None:
    """``show`` and ``export`` of a damaged session's id (whole or its list prefix) say it is
    damaged and point at ``doctor``, on one line; the healthy session beside it still shows."""
    damaged = run.json("new", "coordinator", "--name", "Broken", "--json")["id"]
    healthy = run.json("new", "coordinator", "--name", "Fine", "--json")["id"]
    _damage_json(run.store, damaged)
    code, _, err = run("list")  # the user sees the warning, then asks for that session
    assert code == 0 and damaged in err
    code, out, err = run(command, damaged[:length])
    assert code == 1 and out == ""
    assert err.count("\n") == 1, err
    assert "damaged" in err and "doctor" in err and damaged[:8] in err
    assert "no session matches" not in err
    code, out, _ = run("show", healthy)
    assert code == 0 and "Fine" in out


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_resolve_names_a_damaged_session_on_each_backend(tmp_path: Path, backend: str) -> None:
    """``SessionManager.resolve`` (behind ``get_session`` and every command taking a REF)
    raises CorruptSession, as ``get`` does, naming the session and ``doctor``, on the json and
    sqlite backends."""
    store = tmp_path / ".prompt_objects"
    store.mkdir()
    (store / "config.toml").write_text(f'[storage]\nbackend = "{backend}"\n')
    mgr = SessionManager.open(store, host=PluginHost.create(entry_points=False))
    try:
        sid = mgr.create(po_name="coordinator", name="Broken").id
        mgr.append(sid, Message(role="user", content="hello"))
    finally:
        mgr.close()
    (_damage_json if backend == "json" else _damage_sqlite)(store, sid)
    mgr = SessionManager.open(store, host=PluginHost.create(entry_points=False))
    try:
        assert sid not in {s.id for s in mgr.list()} and sid in mgr.problems()
        for ref in (sid, sid[:8]):
            with pytest.raises(CorruptSession, match="damaged") as caught:
                mgr.resolve(None, ref)
            assert "doctor" in str(caught.value)
    finally:
        mgr.close()


def test_a_name_is_not_taken_for_a_damaged_id(run: Run) -> None:
    """Only an id (4 or more hex digits) can point at a damaged session: a name that matches
    nothing still says that nothing matches."""
    damaged = run.json("new", "coordinator", "--name", "Broken", "--json")["id"]
    _damage_json(run.store, damaged)
    run("list")  # the catalog learns that the file no longer says its name
    code, _, err = run("show", "Broken")
    assert code == 1 and "no session matches 'Broken'" in err and "damaged" not in err


async def test_mcp_get_session_names_a_damaged_session(tmp_path: Path) -> None:
    """The MCP server's ``get_session`` and ``send_message`` answer a damaged session's id with
    a one-line tool error saying it is damaged; the server serves on."""
    from mcp import Client

    from prompt_sessions.context import AppContext
    from prompt_sessions.frontends.mcp_server import build_server

    store = tmp_path / ".prompt_objects"
    store.mkdir()
    ctx = AppContext.open(store, host=PluginHost.create(entry_points=False))
    try:
        sid = ctx.manager.create(po_name="coordinator", name="Broken").id
        ctx.manager.create(po_name="coordinator", name="Fine")
        _damage_json(store, sid)
        async with Client(build_server(ctx)) as client:
            listed = await client.call_tool("list_sessions", {})
            assert not listed.is_error
            for tool, arguments in (
                ("get_session", {"ref": sid[:8]}),
                ("send_message", {"po": "coordinator", "message": "hi", "session": sid}),
            ):
                result = await client.call_tool(tool, arguments)
                assert result.is_error
                (block,) = result.content
                assert "damaged" in block.text and "\n" not in block.text
            fine = await client.call_tool("get_session", {"ref": "Fine"})
            assert not fine.is_error
    finally:
        ctx.manager.close()
