"""The sqlite store's message rows against what each session recorded (DESIGN section 4,
"Damage stays local"): a message row deleted by hand (or renumbered, or added) is damage that
``doctor`` reports, naming the session, as the JSON store reports a damaged file; it does not
rewrite the session's summary to fit what is left, and ``--repair`` moves the session aside with
every byte kept. Every other session keeps working."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message

PREFIX = "its messages do not match what the session recorded: "


def _store(root: Path, messages: int = 3) -> tuple[str, str]:
    """Two sessions of ``messages`` messages each; returns their ids."""
    with SessionManager.open(root, backend="sqlite") as manager:
        ids = []
        for name in ("kept", "hurt"):
            session = manager.create("po", name)
            for k in range(messages):
                manager.append(session.id, Message(role="user", content=f"{name} message {k}"))
            ids.append(session.id)
    return ids[0], ids[1]


def _sql(root: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(root / "sessions.sqlite3", isolation_level=None)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "DELETE FROM messages WHERE session_id = ? AND idx = 1",
            "message 2 of 3 is missing",
        ),
        (
            "DELETE FROM messages WHERE session_id = ? AND idx = 2",
            "message 3 of 3 is missing",
        ),
        (
            "DELETE FROM messages WHERE session_id = ? AND idx < 2",
            "messages 1, 2 of 3 are missing",
        ),
        (
            "UPDATE messages SET idx = 9 WHERE session_id = ? AND idx = 1",
            "messages 2, 4, 5, 6, 7, … of 10 are missing",
        ),
        (
            "INSERT INTO messages SELECT session_id, 3, body FROM messages"
            " WHERE session_id = ? AND idx = 0",
            "4 messages are stored, its summary counts 3",
        ),
    ],
)
def test_doctor_reports_message_rows_that_do_not_match_the_session(
    tmp_path: Path, sql: str, reason: str
) -> None:
    """A message row deleted, renumbered or added by hand is reported as damage of that one
    session, in one line, and its stored summary is left as it was (it is the witness of what
    was lost); the other session is healthy and the damaged one still opens."""
    root = tmp_path / ".prompt_objects"
    kept, hurt = _store(root)
    _sql(root, sql, hurt)
    summary_before = _sql(root, "SELECT summary FROM sessions WHERE id = ?", hurt)
    with SessionManager.open(root, backend="sqlite") as manager:
        report = manager.check()
        assert report.damaged == {hurt: PREFIX + reason}
        assert report.sessions == 1 and not report.healthy
        assert not any(hurt in line for line in report.fixed)
        assert len(manager.get(kept).history) == 3
        assert manager.get(hurt).history[0].content in ("hurt message 0", "hurt message 2")
    assert _sql(root, "SELECT summary FROM sessions WHERE id = ?", hurt) == summary_before


def test_the_cli_doctor_exits_1_and_repair_moves_the_session_aside(run: Run) -> None:
    """The hostile example: ``DELETE FROM messages`` lost a message silently and doctor only
    said "summary rebuilt". Now doctor prints one DAMAGED line naming the session, exits 1
    and leaves the session as it is (still searched); ``doctor --repair`` moves the session
    aside with the rows that are left, and exits 0."""
    assert run("config", "set", "storage.backend", "sqlite")[0] == 0
    assert run("send", "coordinator", "first words")[0] == 0
    assert run("send", "coordinator", "second words")[0] == 0
    ((sid,),) = _sql(run.store, "SELECT id FROM sessions")
    _sql(run.store, "DELETE FROM messages WHERE session_id = ? AND idx = 1", sid)
    code, out, _ = run("doctor")
    assert code == 1
    assert f"DAMAGED {sid}: {PREFIX}message 2 of 4 is missing" in out.splitlines()
    assert "summary" not in out and "fixed" not in out
    code, out, _ = run("search", "second")  # still found: doctor alone changes nothing
    assert code == 0 and "second words" in out
    code, out, _ = run("doctor", "--repair")
    assert code == 0 and "moved aside: " in out
    (aside,) = (run.store / "damaged").iterdir()
    salvage = json.loads(aside.read_text())
    assert [m["idx"] for m in salvage["messages"]] == [0, 2, 3]
    assert json.loads(salvage["summary"])["message_count"] == 4
    assert run("doctor")[0] == 0


def test_a_trashed_sessions_missing_message_row_is_reported(tmp_path: Path) -> None:
    """The same check covers the trash: a trashed session whose message row was deleted by
    hand is reported as ``trash/<id>``."""
    root = tmp_path / ".prompt_objects"
    _, hurt = _store(root)
    with SessionManager.open(root, backend="sqlite") as manager:
        manager.delete(hurt)
    _sql(root, "DELETE FROM trash_messages WHERE session_id = ? AND idx = 0", hurt)
    with SessionManager.open(root, backend="sqlite") as manager:
        report = manager.check()
    assert report.damaged == {f"trash/{hurt}": PREFIX + "message 1 of 3 is missing"}


def test_a_session_written_normally_is_never_reported(tmp_path: Path) -> None:
    """Appends, a rewind, a replaced last message and a fork keep rows and summary agreeing:
    doctor finds nothing."""
    root = tmp_path / ".prompt_objects"
    kept, _ = _store(root)
    with SessionManager.open(root, backend="sqlite") as manager:
        manager.fork(kept, at=2, name="forked")
        manager.rewind(kept, to=1)
        manager.append(kept, Message(role="user", content="again"))
        empty = manager.create("po", "empty")
        assert manager.get(empty.id).history == []
        report = manager.check()
        assert report.damaged == {} and report.fixed == []


def test_messages_whose_session_row_was_deleted_are_reported_and_kept(tmp_path: Path) -> None:
    """The session's own row deleted by hand left its messages behind, unseen: doctor reports
    the session by its id, and ``--repair`` moves its messages aside before dropping them.
    Rows under a value that is not a session id are reported, never used as a file name."""
    root = tmp_path / ".prompt_objects"
    kept, hurt = _store(root)
    _sql(root, "DELETE FROM sessions WHERE id = ?", hurt)
    _sql(root, "INSERT INTO messages VALUES ('../../escape', 0, x'7b7d')")
    with SessionManager.open(root, backend="sqlite") as manager:
        report = manager.check()
        assert report.damaged == {
            hurt: "its messages are stored but the session's own row is gone",
            "messages": "message rows name a session id that is not one",
        }
        report = manager.check(repair=True)
        assert len(report.moved) == 1 and Path(report.moved[0]).parent == root / "damaged"
        salvage = json.loads(Path(report.moved[0]).read_text())
        assert salvage["head"] is None and len(salvage["messages"]) == 3
        assert list(manager.check().damaged) == ["messages"]
        assert len(manager.get(kept).history) == 3
    assert not (tmp_path / "escape").exists()
