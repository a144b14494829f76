"""The trash (DESIGN sections 4 and 14): delete moves a session there, restore brings it back
byte for byte, and only ``trash --empty --yes`` deletes for good; on both built-in stores and
through the command line."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from contextlib import closing
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.storage.sqlite_backend import DB_NAME, SqliteBackend

BACKENDS = ["json", "sqlite"]


def _use(run: Run, backend: str) -> None:
    if backend == "sqlite":
        config = run.store / "config.toml"
        config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


def _new(run: Run, name: str, *messages: str) -> str:
    sid = str(run.json("new", "coordinator", "--name", name, "--json")["id"])
    for text in messages:
        assert run("send", "coordinator", text, "--session", sid)[0] == 0
    return sid


def _sqlite_rows(root: Path, sid: str, table: str, messages: str) -> tuple[object, ...]:
    with closing(sqlite3.connect(root / DB_NAME)) as conn:
        head = conn.execute(
            f"SELECT po_name, created_at, updated_at, head, summary FROM {table} WHERE id = ?",
            (sid,),
        ).fetchone()
        bodies = conn.execute(
            f"SELECT idx, body FROM {messages} WHERE session_id = ? ORDER BY idx", (sid,)
        ).fetchall()
    return head, bodies


def test_json_delete_moves_the_file_and_restore_brings_back_its_bytes(tmp_path: Path) -> None:
    """The session file moves to trash/<id>.json unchanged and private, and back again."""
    root = tmp_path / ".prompt_objects"
    with SessionManager.open(root, host=PluginHost.create(entry_points=False)) as mgr:
        s = mgr.create("coordinator", "Keep me")
        mgr.append(s.id, Message(role="user", content="hello\nworld ✓"))
        mgr.flush()
        live = root / "sessions" / f"{s.id}.json"
        original = live.read_bytes()
        mgr.delete(s.id)
        trashed = root / "trash" / f"{s.id}.json"
        assert not live.exists()
        assert trashed.read_bytes() == original
        assert stat.S_IMODE(trashed.stat().st_mode) == 0o600
        assert stat.S_IMODE(trashed.parent.stat().st_mode) == 0o700
        assert mgr.list() == []
        assert mgr.restore("Keep me").summary.id == s.id
        assert live.read_bytes() == original
        assert not trashed.exists()
        assert [x.id for x in mgr.list()] == [s.id]
    # At rest the catalog lists it again.
    with SessionManager.open(root, host=PluginHost.create(entry_points=False)) as again:
        assert [x.name for x in again.list()] == ["Keep me"]


def test_sqlite_trash_keeps_every_stored_byte(tmp_path: Path) -> None:
    """The session's row and message rows move to the trash tables unchanged, and back."""
    root = tmp_path / ".prompt_objects"
    with SessionManager.open(
        root, host=PluginHost.create(entry_points=False), backend="sqlite", config={}
    ) as mgr:
        s = mgr.create("coordinator", "Rows")
        mgr.append(s.id, Message(role="user", content="one"))
        mgr.append(s.id, Message(role="assistant", content="two"))
        before = _sqlite_rows(root, s.id, "sessions", "messages")
        mgr.delete(s.id)
        assert _sqlite_rows(root, s.id, "trash", "trash_messages") == before
        assert _sqlite_rows(root, s.id, "sessions", "messages") == (None, [])
        mgr.restore(s.id[:8])
        assert _sqlite_rows(root, s.id, "sessions", "messages") == before
        assert _sqlite_rows(root, s.id, "trash", "trash_messages") == (None, [])


def test_a_version_2_sqlite_store_gains_the_trash_and_keeps_its_sessions(tmp_path: Path) -> None:
    """A store written before the trash (schema 2) is upgraded on open: its sessions stay, and
    deleting one then moves it to the new trash table."""
    root = tmp_path / ".prompt_objects"
    store = SqliteBackend(root)
    with SessionManager(root, store, PluginHost.create(entry_points=False)) as mgr:
        s = mgr.create("coordinator", "Old")
    with closing(sqlite3.connect(root / DB_NAME, isolation_level=None)) as conn:
        conn.execute("DROP TABLE trash")
        conn.execute("DROP TABLE trash_messages")
        conn.execute("PRAGMA user_version = 2")
    with SessionManager(root, SqliteBackend(root), PluginHost.create(entry_points=False)) as mgr:
        assert [x.id for x in mgr.list()] == [s.id]
        mgr.delete(s.id)
        assert [e.summary.id for e in mgr.trashed()] == [s.id]
    with closing(sqlite3.connect(root / DB_NAME)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_delete_trash_restore(run: Run, backend: str) -> None:
    """delete says how to undo it; trash lists (text and JSON); restore brings the session back
    into list and search; a trashed session is out of list and search."""
    _use(run, backend)
    sid = _new(run, "Walrus notes", "the walrus sings")
    code, out, _ = run("delete", "Walrus notes", "--yes")
    assert code == 0
    undo = f"(moved to the trash; undo with: prompt-sessions restore {sid[:8]})"
    assert out == f"Deleted 'Walrus notes' {undo}\n"
    assert run.json("list", "--json") == []
    assert run.json("search", "walrus", "--json") == []
    (entry,) = run.json("trash", "--json")
    assert (entry["id"], entry["name"], entry["message_count"]) == (sid, "Walrus notes", 2)
    assert entry["deleted_at"].endswith("Z")
    code, out, _ = run("trash")
    assert code == 0 and "Walrus notes" in out and out.startswith("ID")
    code, out, _ = run("restore", "walrus")
    assert (code, out) == (0, f"Restored 'Walrus notes' ({sid})\n")
    assert [s["id"] for s in run.json("list", "--json")] == [sid]
    assert {h["id"] for h in run.json("search", "walrus", "--json")} == {sid}
    assert run("trash")[1] == "The trash is empty.\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_restore_of_a_session_in_use_says_it_is_not_in_the_trash(run: Run, backend: str) -> None:
    """restore REF where REF names a session in use (not deleted), by name, id prefix or a
    name two sessions share, is one line saying it is not in the trash, instead of "no session
    matches"; a ref that matches nothing anywhere keeps the trash's error; nothing changes."""
    _use(run, backend)
    sid = _new(run, "Walrus notes", "the walrus sings")
    _new(run, "Twin", "one")
    _new(run, "Twin", "two")
    for ref in ("Walrus notes", sid[:8]):
        assert run("restore", ref) == (
            1,
            "",
            f"Error: 'Walrus notes' ({sid[:8]}) is not in the trash: it is in the store "
            "(restored, or never deleted); `prompt-sessions trash` lists deleted sessions\n",
        )
    assert run("restore", "Twin") == (
        1,
        "",
        "Error: 'Twin' is not in the trash: it names sessions in the store (restored, or never "
        "deleted); `prompt-sessions trash` lists deleted sessions\n",
    )
    assert run("restore", "nothing like it") == (
        1,
        "",
        "Error: no session matches 'nothing like it'\n",
    )
    assert len(run.json("list", "--json")) == 3 and run("trash")[1] == "The trash is empty.\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_ref_to_a_trashed_session_says_how_to_restore_it(run: Run, backend: str) -> None:
    """`show`, `rename` or `export` of a session in the trash, by name or id prefix, fails with
    one line that says it is in the trash and how to bring it back; other refs are unchanged."""
    _use(run, backend)
    sid = _new(run, "Walrus notes", "the walrus sings")
    run("delete", "Walrus notes", "--yes")
    hint = f"it is in the trash: prompt-sessions restore {sid[:8]}"
    for args in (("show", sid[:8]), ("show", "Walrus notes"), ("rename", "walrus", "x")):
        code, _, err = run(*args)
        assert code == 1 and err.strip().endswith(hint), (args, err)
    code, _, err = run("show", "nothing like it")
    assert code == 1 and "trash" not in err
    live = _new(run, "Seal notes", "the seal naps")
    code, _, err = run("show", live[:3])  # the hint of a too-short prefix reaches the CLI
    assert code == 1 and "an id prefix needs at least 4 characters" in err


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_needs_yes_and_honours_older_than(run: Run, backend: str) -> None:
    """trash --empty without --yes only lists and says to add --yes; --older-than DAYS keeps
    what was deleted more recently; with --yes the rest is gone for good."""
    _use(run, backend)
    old = _new(run, "Old one")
    recent = _new(run, "Recent one")
    run("delete", old, "--yes")
    run("delete", recent, "--yes")
    ten_days_ago = time.time() - 10 * 86400
    if backend == "json":
        os.utime(run.store / "trash" / f"{old}.json", (ten_days_ago, ten_days_ago))
    else:
        with closing(sqlite3.connect(run.store / DB_NAME, isolation_level=None)) as conn:
            conn.execute(
                "UPDATE trash SET deleted_at = ? WHERE id = ?",
                (time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ten_days_ago)), old),
            )
    code, out, _ = run("trash", "--empty", "--older-than", "7")
    assert code == 0
    assert "Old one" in out and "Recent one" not in out
    assert out.endswith("Add --yes to delete 1 session for good.\n")
    assert len(run.json("trash", "--json")) == 2
    code, out, _ = run("trash", "--empty", "--older-than", "7", "--yes")
    assert (code, out) == (0, "Deleted 1 session for good.\n")
    assert [e["id"] for e in run.json("trash", "--json")] == [recent]
    # what is left is newer: said so, not called an empty trash
    code, out, _ = run("trash", "--empty", "--older-than", "7")
    assert (code, out) == (
        0,
        "Nothing in the trash was deleted more than 7 days ago (1 newer session).\n",
    )
    code, _, err = run("restore", "Old one")
    assert code == 1 and err.startswith("Error: no session matches") and err.count("\n") == 1
    assert [e["id"] for e in run.json("trash", "--empty", "--yes", "--json")] == [recent]
    assert run.json("trash", "--json") == []


@pytest.mark.parametrize("args", [("--older-than", "3"), ("--empty", "--older-than", "-1")])
def test_bad_trash_arguments_are_usage_errors(run: Run, args: tuple[str, ...]) -> None:
    """--older-than without --empty, or a negative number of days, is refused (exit 2)."""
    code, _, err = run("trash", *args)
    assert code == 2 and "older-than" in err


def test_restore_over_a_live_session_is_refused_and_keeps_both(run: Run) -> None:
    """When a session with the trashed one's id exists again, restore fails in one line and
    both copies stay where they are."""
    sid = _new(run, "Twin", "first")
    run("delete", "Twin", "--yes")
    live = run.store / "sessions" / f"{sid}.json"
    trashed = run.store / "trash" / f"{sid}.json"
    data = trashed.read_bytes()
    live.write_bytes(data)
    code, _, err = run("restore", "Twin")
    assert code == 1 and "exists already" in err and err.count("\n") == 1
    assert trashed.read_bytes() == data and live.read_bytes() == data


def test_doctor_reports_damage_and_loose_modes_in_the_trash(run: Run) -> None:
    """doctor names a trashed file that cannot be read (and keeps it), and a trash folder more
    open than 0700, which --repair tightens."""
    sid = _new(run, "Broken later")
    run("delete", sid, "--yes")
    trashed = run.store / "trash" / f"{sid}.json"
    trashed.write_bytes(b"{not json")
    os.chmod(run.store / "trash", 0o755)
    code, out, _ = run("doctor")
    assert code == 1
    assert f"trash/{sid}.json" in out
    assert "0755" in out
    assert run.json("trash", "--json") == []  # unreadable: left out of the list, not removed
    run("doctor", "--repair")
    assert trashed.read_bytes() == b"{not json"
    assert stat.S_IMODE((run.store / "trash").stat().st_mode) == 0o700


def test_sqlite_doctor_reports_a_damaged_trashed_session(run: Run) -> None:
    """doctor on the sqlite store names a trashed session whose rows cannot be read, keeps it,
    and exits 1; a healthy trash passes."""
    _use(run, "sqlite")
    sid = _new(run, "Later broken")
    run("delete", sid, "--yes")
    assert run("doctor")[0] == 0
    with closing(sqlite3.connect(run.store / DB_NAME, isolation_level=None)) as conn:
        conn.execute("UPDATE trash SET head = ? WHERE id = ?", (b"{broken", sid))
    code, out, _ = run("doctor")
    assert code == 1 and f"trash/{sid}" in out
    with closing(sqlite3.connect(run.store / DB_NAME)) as conn:
        assert (
            conn.execute("SELECT head FROM trash WHERE id = ?", (sid,)).fetchone()[0] == b"{broken"
        )


def test_links_and_strangers_in_the_trash_folder_are_never_followed(
    run: Run, tmp_path: Path
) -> None:
    """A symlink planted as trash/<uuid>.json is not listed, not restored (one-line error) and
    reported by doctor; files with other names are ignored."""
    outside = tmp_path / "secret.json"
    outside.write_text("{}")
    folder = run.store / "trash"
    folder.mkdir(mode=0o700)
    planted = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
    (folder / f"{planted}.json").symlink_to(outside)
    (folder / "notes.txt").write_text("mine")
    assert run.json("trash", "--json") == []
    code, _, err = run("restore", planted)
    assert code == 1 and err.count("\n") == 1
    code, out, _ = run("doctor")
    assert code == 1 and f"trash/{planted}.json" in out
    assert outside.read_text() == "{}" and (folder / "notes.txt").read_text() == "mine"
    assert not (run.store / "sessions" / f"{planted}.json").exists()


def _trashed_json(tmp_path: Path) -> tuple[SessionManager, str, Path]:
    root = tmp_path / ".prompt_objects"
    mgr = SessionManager.open(root, host=PluginHost.create(entry_points=False))
    s = mgr.create("coordinator", "Old")
    mgr.delete(s.id)
    return mgr, s.id, root / "trash" / f"{s.id}.json"


def test_json_update_trashed_refuses_a_newer_versions_file(tmp_path: Path) -> None:
    """A trashed session file a newer version wrote is read-only here: ``update_trashed``
    refuses it in one line naming the file and changes no byte (DESIGN section 4)."""
    from prompt_sessions.errors import ReadOnlyStore

    mgr, sid, path = _trashed_json(tmp_path)
    with mgr:
        path.write_bytes(path.read_bytes().replace(b'"format_version":1', b'"format_version":99'))
        before = path.read_bytes()
        with pytest.raises(ReadOnlyStore, match="format_version 99"):
            mgr.backend.update_trashed(sid, po_name="writer")
        assert path.read_bytes() == before


def test_json_update_trashed_that_cannot_keep_the_deletion_time_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the deletion time (the file's mtime) cannot be set back after the rewrite (the
    file system refuses ``utime``), ``update_trashed`` fails in one line naming the file,
    and the session stays in the trash with its new fields."""
    from prompt_sessions.errors import StorageError

    mgr, sid, path = _trashed_json(tmp_path)
    with mgr:

        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(os, "utime", refuse)
        with pytest.raises(StorageError, match=str(path)):
            mgr.backend.update_trashed(sid, po_name="writer")
        monkeypatch.undo()
        assert [t.summary.po_name for t in mgr.trashed()] == ["writer"]
