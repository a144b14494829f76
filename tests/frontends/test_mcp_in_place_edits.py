"""The MCP server runs without a file watcher: a session file another program rewrote in
place (which moves no folder time, DESIGN section 3 "Stale") is looked at again before
``list_sessions`` and ``search_sessions`` answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp_client import call, connect

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.storage.session_codec import decode_session, encode_session


def _edit_in_place(store: Path, sid: str, added: str) -> None:
    path = store / "sessions" / f"{sid}.json"
    edited = decode_session(path.read_bytes(), sid)
    edited.history.append(Message(role="assistant", content=added))
    with open(path, "r+b") as f:  # the same file: the folder's time does not move
        f.write(encode_session(edited))
        f.truncate()


@pytest.mark.parametrize("transport", ["stdio", "memory"])
async def test_list_and_search_see_a_file_edited_in_place(
    store: Path, child_env: dict[str, str], transport: str
) -> None:
    """The server answers once, the file is edited in place, and its next answers count the
    new message and find its words."""
    with SessionManager.open(store) as mgr:
        sid = mgr.create("coordinator", "Plan").id
        mgr.append(sid, Message(role="user", content="first words"))
    async with connect(store, child_env, transport) as client:
        (before,) = await call(client, "list_sessions")
        assert before["message_count"] == 1
        assert [h["id"] for h in await call(client, "search_sessions", query="first")] == [sid]
        _edit_in_place(store, sid, "aubergine parmigiana")
        (after,) = await call(client, "list_sessions")
        hits = await call(client, "search_sessions", query="aubergine")
    assert after["message_count"] == 2
    assert [(h["id"], h["message_index"]) for h in hits] == [(sid, 1)]
