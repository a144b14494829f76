"""Rewind, edit, regenerate and undo without loss (DESIGN section 14), on both built-in stores,
through the manager and the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Run

from prompt_sessions.errors import UsageError
from prompt_sessions.hookspecs import hookimpl
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.rewind import _keep_path, lineage, rewind, undo
from prompt_sessions.storage.rewrite import HistoryChanged, SupportsRewrite


@pytest.fixture(params=["json", "sqlite"])
def mgr(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionManager]:
    """A manager on each built-in backend."""
    host = PluginHost.create(entry_points=False)
    with SessionManager.open(
        tmp_path / ".prompt_objects", host=host, backend=request.param, config={}
    ) as manager:
        yield manager


def _session(mgr: SessionManager, count: int = 6, name: str = "Talk") -> str:
    session = mgr.create("po", name)
    for i in range(count):
        role = "user" if i % 2 == 0 else "assistant"
        mgr.append(session.id, Message(role=role, content=f"message {i}"))
    return session.id


def _texts(mgr: SessionManager, sid: str) -> list[str]:
    return [m.content for m in mgr.get(sid).history]


def test_builtin_backends_cut_histories_atomically(mgr: SessionManager) -> None:
    """Both built-in stores offer the atomic rewrite the rewind relies on."""
    assert isinstance(mgr.backend, SupportsRewrite)


def test_rewind_keeps_the_rest_in_a_fork_recording_the_branch_point(mgr: SessionManager) -> None:
    """The session ends at message N; the fork holds the whole old history and its parent."""
    sid = _session(mgr)
    done = mgr.rewind(sid, 2)
    assert _texts(mgr, sid) == ["message 0", "message 1"]
    assert done.kept is not None
    fork = mgr.get(done.kept.id)
    assert [m.content for m in fork.history] == [f"message {i}" for i in range(6)]
    assert (fork.thread_type, fork.parent_id, fork.parent_message_index) == ("fork", sid, 2)
    assert fork.metadata["rewind"]["kind"] == "rewind"
    assert fork.name == "Talk (before rewind)"
    summary = next(s for s in mgr.list() if s.id == sid)
    assert summary.message_count == 2 and summary.preview == "message 1"


def test_rewind_updates_search(mgr: SessionManager) -> None:
    """Words cut from the session are found in the fork only."""
    sid = _session(mgr)
    assert {h.session.id for h in mgr.search("message 5")} == {sid}
    done = mgr.rewind(sid, 2)
    assert done.kept is not None
    assert {h.session.id for h in mgr.search('"message 5"')} == {done.kept.id}


@pytest.mark.parametrize("to", [-1, 7, 6, True])
def test_rewind_out_of_range_changes_nothing(mgr: SessionManager, to: Any) -> None:
    """A point outside 0..count-1 is refused with a clear error and writes nothing."""
    sid = _session(mgr)
    with pytest.raises(UsageError, match="message number|nothing to rewind"):
        mgr.rewind(sid, to)
    assert len(mgr.list()) == 1 and len(_texts(mgr, sid)) == 6


def test_undo_restores_the_history_and_folds_the_fork_back(mgr: SessionManager) -> None:
    """Undo gives back exactly the old history and removes the fork, now a copy; a second
    undo has nothing to take back."""
    sid = _session(mgr)
    before = mgr.get(sid).history
    done = mgr.rewind(sid, 1)
    assert done.kept is not None
    back = mgr.undo_rewind(sid)
    assert mgr.get(sid).history == before
    assert back.removed == done.kept.id and back.kept is None
    assert [s.id for s in mgr.list()] == [sid]
    with pytest.raises(UsageError, match="nothing to undo"):
        mgr.undo_rewind(sid)


def test_undo_keeps_what_was_added_after_the_rewind_and_swaps_back(mgr: SessionManager) -> None:
    """Messages added after a rewind go to a fork on undo; a second undo brings them back."""
    sid = _session(mgr, 4)
    mgr.rewind(sid, 2)
    mgr.append(sid, Message(role="user", content="new path"))
    first = mgr.undo_rewind(sid)
    assert _texts(mgr, sid) == [f"message {i}" for i in range(4)]
    assert first.kept is not None
    assert [m.content for m in mgr.get(first.kept.id).history][-1] == "new path"
    mgr.undo_rewind(sid)
    assert _texts(mgr, sid) == ["message 0", "message 1", "new path"]


def test_nested_rewinds_undo_one_at_a_time(mgr: SessionManager) -> None:
    """Two rewinds are taken back newest first."""
    sid = _session(mgr)
    mgr.rewind(sid, 4)
    mgr.rewind(sid, 2)
    mgr.undo_rewind(sid)
    assert len(_texts(mgr, sid)) == 4
    mgr.undo_rewind(sid)
    assert len(_texts(mgr, sid)) == 6
    assert len(mgr.list()) == 1


def test_edit_replaces_a_user_message_and_keeps_the_old_path(mgr: SessionManager) -> None:
    """An edit cuts before the message and adds the changed one; the fork has the old one."""
    sid = _session(mgr)
    done = rewind(mgr, sid, 2, kind="edit", tail=[Message(role="user", content="changed")])
    assert _texts(mgr, sid) == ["message 0", "message 1", "changed"]
    assert done.kept is not None and done.kept.name == "Talk (before edit)"
    assert mgr.get(done.kept.id).history[2].content == "message 2"
    undo(mgr, sid)
    assert _texts(mgr, sid) == [f"message {i}" for i in range(6)]


def test_a_concurrent_append_stops_the_cut_and_loses_nothing(mgr: SessionManager) -> None:
    """A message appended by another writer between the fork and the cut: the cut is refused,
    the fork taken back, and the session keeps every message with the new one."""
    sid = _session(mgr)

    class Meddler:
        @hookimpl
        def session_created(self, session: Any, manager: SessionManager) -> None:
            if session.parent_id == sid:
                manager.backend.append(sid, Message(role="user", content="meanwhile"))

    mgr.host.register(Meddler())
    with pytest.raises(HistoryChanged, match="changed meanwhile"):
        mgr.rewind(sid, 2)
    assert _texts(mgr, sid)[-1] == "meanwhile" and len(_texts(mgr, sid)) == 7
    assert [s.id for s in mgr.list()] == [sid]


def test_rewrite_with_a_stale_count_writes_nothing(mgr: SessionManager) -> None:
    """The store's rewrite checks the count it was told under its own lock."""
    sid = _session(mgr)
    with pytest.raises(HistoryChanged):
        mgr.backend.rewrite_history(sid, 1, (), expect=5)  # type: ignore[attr-defined]
    assert len(_texts(mgr, sid)) == 6


class _PlainBackend:
    """A store without the rewrite capability (as a third-party backend may be)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in ("rewrite_history", "fork", "search"):
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_stores_without_the_capability_rewind_by_writing_the_session_again(
    mgr: SessionManager,
) -> None:
    """The fallback writes the session again under its own id, the fork first."""
    sid = _session(mgr)
    mgr.backend = _PlainBackend(mgr.backend)  # type: ignore[assignment]
    assert not isinstance(mgr.backend, SupportsRewrite)
    done = mgr.rewind(sid, 3)
    assert _texts(mgr, sid) == ["message 0", "message 1", "message 2"]
    assert done.kept is not None and len(mgr.get(done.kept.id).history) == 6
    mgr.undo_rewind(sid)
    assert len(_texts(mgr, sid)) == 6


def test_lineage_is_the_whole_tree_from_the_oldest_ancestor(mgr: SessionManager) -> None:
    """From any member, the tree starts at the root and lists forks and delegations under
    their parents, oldest first."""
    root = _session(mgr, 2, "Root")
    fork = mgr.fork(root, at=1, name="Fork")
    deleg = mgr.create(
        "helper", "Delegated", thread_type="delegation", parent_id=fork.id, parent_message_index=0
    )
    other = _session(mgr, 1, "Unrelated")
    tree = lineage(mgr, deleg.id)
    shown = [(depth, node.summary.name) for depth, node in tree.walk()]
    assert shown == [(0, "Root"), (1, "Fork"), (2, "Delegated")]
    assert [n.summary.name for _, n in lineage(mgr, other).walk()] == ["Unrelated"]


# ---------------------------------------------------------------------- command line


@pytest.fixture(params=["json", "sqlite"])
def backend(request: pytest.FixtureRequest, run: Run) -> str:
    """The CLI's store on each backend."""
    config = run.store / "config.toml"
    config.write_text(config.read_text() + f'\n[storage]\nbackend = "{request.param}"\n')
    return request.param


def _cli_session(run: Run, turns: int = 3) -> str:
    sid = run.json("new", "po", "--name", "Chat", "--json")["id"]
    for i in range(turns):
        code, _, err = run("send", "po", f"hello {i}")
        assert code == 0, err
    return sid


def test_cli_rewind_json_names_the_session_and_the_fork(run: Run, backend: str) -> None:
    """``rewind REF --to N --json``: the session's and the fork's summaries."""
    sid = _cli_session(run)
    out = run.json("rewind", "Chat", "--to", "2", "--json")
    assert out["session"]["id"] == sid and out["session"]["message_count"] == 2
    assert out["kept"]["message_count"] == 6 and out["kept"]["parent_id"] == sid
    assert out["kept"]["thread_type"] == "fork" and out["removed"] is None
    assert len(run.json("show", sid, "--json")["history"]) == 2
    fork = run.json("show", out["kept"]["id"], "--json")
    assert fork["parent_message_index"] == 2 and len(fork["history"]) == 6


def test_cli_rewind_text_and_undo(run: Run, backend: str) -> None:
    """The text output says where the rest went and how to undo; ``--undo`` brings it back."""
    sid = _cli_session(run)
    code, out, _ = run("rewind", "Chat", "--to", "0")
    assert code == 0
    assert "Rewound 'Chat' to 0 messages" in out and "--undo" in out
    fork = next(s["id"] for s in run.json("list", "--json") if s["id"] != sid)
    code, out, _ = run("rewind", "Chat", "--undo")
    assert code == 0 and "Undid the last rewind of 'Chat': 6 messages again" in out
    # the emptied fork is not removed silently: the text says where it went
    said = "The fork 'Chat (before rewind)' is no longer needed (moved to the trash; undo with: "
    assert said + f"prompt-sessions restore {fork[:8]})" in out
    assert [s["id"] for s in run.json("list", "--json")] == [sid]
    run("rewind", "Chat", "--to", "0")
    out = run.json("rewind", "Chat", "--undo", "--json")
    assert out["session"]["message_count"] == 6 and out["removed"]
    assert [s["id"] for s in run.json("list", "--json")] == [sid]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--to", "6"], 1, "Error: nothing to rewind: 'Chat' has 6 messages"),
        (["--to", "60"], 1, "Error: the message number must be between 0 and 6, not 60"),
        (["--undo"], 1, "Error: nothing to undo: 'Chat' has no rewind to take back"),
        ([], 2, "give either --to N or --undo"),
        (["--to", "1", "--undo"], 2, "give either --to N or --undo"),
        (["--to", "-1"], 2, "-1"),
    ],
)
def test_cli_rewind_errors_are_one_line_and_change_nothing(
    run: Run, backend: str, args: list[str], code: int, says: str
) -> None:
    """Bad input: one clear line on stderr, the usual exit code, the store unchanged."""
    _cli_session(run)
    before = run.json("list", "--json")
    got, out, err = run("rewind", "Chat", *args)
    assert got == code and says in err and out == ""
    if code == 1:
        assert len(err.strip().splitlines()) == 1
    assert run.json("list", "--json") == before


def test_cli_rewind_unknown_session(run: Run, backend: str) -> None:
    """An unknown REF is one line, exit 1."""
    code, _, err = run("rewind", "nope", "--to", "1")
    assert code == 1 and err.startswith("Error:") and len(err.strip().splitlines()) == 1


def test_cli_rewind_json_is_valid_for_undo_after_new_messages(run: Run, backend: str) -> None:
    """Undo after a new turn reports the fork that keeps the new turn."""
    _cli_session(run, 2)
    run("rewind", "Chat", "--to", "2")
    run("send", "po", "another way")
    out = json.loads(run("rewind", "Chat", "--undo", "--json")[1])
    assert out["kept"]["message_count"] == 4 and out["session"]["message_count"] == 4


def test_unknown_fields_stay_with_their_own_messages(tmp_path: Path) -> None:
    """A field this version does not know stays on the kept message it belongs to and never
    moves onto the message an edit puts in its place (JSON store, hand-edited file)."""
    host = PluginHost.create(entry_points=False)
    with SessionManager.open(tmp_path / "env", host=host, config={}) as mgr:
        sid = _session(mgr, 4)
        path = mgr.session_path(sid)
        assert path is not None
        doc = json.loads(path.read_bytes())
        doc["plugin_field"] = 1
        doc["history"][0]["note"] = "first"
        doc["history"][2]["note"] = "third"
        path.write_text(json.dumps(doc))
        rewind(mgr, sid, 2, kind="edit", tail=[Message(role="user", content="changed")])
        after = json.loads(path.read_bytes())
        assert after["plugin_field"] == 1
        assert after["history"][0]["note"] == "first"
        assert "note" not in after["history"][2] and after["history"][2]["content"] == "changed"


def test_undo_of_a_rewind_cut_short_by_a_crash_only_removes_the_fork(
    mgr: SessionManager,
) -> None:
    """A fork written by a rewind whose cut never happened (the process died between the two
    steps) is folded back by undo without another copy or a rewrite."""
    sid = _session(mgr)
    before = mgr.get(sid)
    _keep_path(mgr, before, 2, "rewind")  # step one alone, as a crash would leave it
    done = mgr.undo_rewind(sid)
    assert done.kept is None and done.removed is not None
    assert mgr.get(sid) == before and [s.id for s in mgr.list()] == [sid]
    with pytest.raises(UsageError, match="nothing to undo"):
        mgr.undo_rewind(sid)
