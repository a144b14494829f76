"""The JSON store's search cache follows a session file edited behind the program's back
(DESIGN section 12: the index is a cache, rebuilt when stale; section 3: a person may edit the
folder as it stands).

An editor that saves with a rename (a new file put in place) may change a message in the middle
of a session and leave its summary (name, count, times, the last message's preview) as it was.
The cache stamped sessions by that summary alone, so the edited words were never found and the
old ones still were.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cli_runner import Run

from prompt_sessions import Message, SessionManager
from prompt_sessions.plugins import PluginHost


def _edit_middle_message(store: Path, session_id: str, text: str) -> None:
    """Change the first message's text as an editor would: a new file renamed into place."""
    target = store / "sessions" / f"{session_id}.json"
    data = json.loads(target.read_text(encoding="utf-8"))
    data["history"][0]["content"] = text
    spare = target.with_name(f"{session_id}.edit")
    spare.write_text(json.dumps(data), encoding="utf-8")
    spare.chmod(0o600)
    os.replace(spare, target)


def _names(hits: list) -> list[str]:
    return [h["name"] if isinstance(h, dict) else h.session.name for h in hits]


def test_cli_search_finds_the_words_of_an_edited_file(run: Run) -> None:
    """``search`` after an editor changed a middle message finds the new words, not the old."""
    sid = run.json("new", "coordinator", "--name", "Notes", "--json")["id"]
    assert run("send", "coordinator", "alpha original words", "--session", sid)[0] == 0
    assert run("send", "coordinator", "closing remark", "--session", sid)[0] == 0
    assert _names(run.json("search", "alpha", "--json"))  # the cache is made and filled
    _edit_middle_message(run.store, sid, "zebrafish written by hand")
    assert _names(run.json("search", "zebrafish", "--json")) == ["Notes"]
    # the echo's reply still quotes the old words; the edited message no longer holds them
    assert [h["message_index"] for h in run.json("search", "alpha", "--json")] == [1]


def test_a_long_running_manager_follows_the_edit(tmp_path: Path) -> None:
    """One manager kept open (the TUI, the MCP server) sees the edit at its next search."""
    store = tmp_path / ".prompt_objects"
    mgr = SessionManager.open(store, host=PluginHost.create(entry_points=False))
    try:
        sid = mgr.create(po_name="coordinator", name="Notes").id
        mgr.append(sid, Message(role="user", content="alpha original words"))
        mgr.append(sid, Message(role="assistant", content="closing remark"))
        assert _names(mgr.search("alpha")) == ["Notes"]
        _edit_middle_message(store, sid, "zebrafish written by hand")
        assert _names(mgr.search("zebrafish")) == ["Notes"]
        assert mgr.search("alpha") == []
    finally:
        mgr.close()


def test_doctor_after_an_edit_in_place_leaves_search_finding_the_new_words(run: Run) -> None:
    """A middle message rewritten in place (the folder's time does not move), then `doctor`
    rebuilding the catalog: the rebuilt catalog must not make the edit look as if it had
    always been so, or the search cache, stamped by the unchanged summary, would keep the old
    words for good."""
    sid = run.json("new", "coordinator", "--name", "Notes", "--json")["id"]
    assert run("send", "coordinator", "alpha original words", "--session", sid)[0] == 0
    assert run("send", "coordinator", "closing remark", "--session", sid)[0] == 0
    assert _names(run.json("search", "alpha", "--json"))  # the cache is made and filled
    path = run.store / "sessions" / f"{sid}.json"
    text = path.read_text(encoding="utf-8").replace("alpha original words", "zebrafish", 1)
    with open(path, "r+", encoding="utf-8") as f:  # in place: same file, same folder time
        f.write(text)
        f.truncate()
    assert run("doctor")[0] == 0
    assert [h["message_index"] for h in run.json("search", "zebrafish", "--json")] == [0]
    assert [h["message_index"] for h in run.json("search", "alpha", "--json")] == [1]
