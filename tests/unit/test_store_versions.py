"""Versions only move forward (DESIGN section 4, "Versioned"): what a newer version wrote reads,
and no command of this version rewrites, moves or copies it; fields this version does not know
survive its own rewrites."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions.errors import ReadOnlyStore
from prompt_sessions.models import FORMAT_VERSION
from prompt_sessions.storage import session_codec
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.sqlite_backend import DB_NAME, SCHEMA_VERSION, SqliteBackend
from prompt_sessions.testing.conformance import make_message, make_session

NEWER = FORMAT_VERSION + 1


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _use_sqlite(run: Run) -> None:
    config = run.store / "config.toml"
    config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


def _new(run: Run, name: str) -> str:
    return str(run.json("new", "coordinator", "--name", name, "--json")["id"])


# ---------------------------------------------------------------------- a newer JSON catalog


def _age_catalog(run: Run, **changes: object) -> Path:
    index = run.store / "sessions" / "index.json"
    doc = json.loads(index.read_text())
    doc.update(format_version=NEWER, **changes)
    index.write_text(json.dumps(doc))
    return index


def test_doctor_never_rewrites_a_newer_catalog(run: Run) -> None:
    """The reported case: with index.json from a newer version, `send` fails read-only, and
    `doctor` (with or without --repair) leaves index.json byte for byte, says why, and writes
    stay refused afterwards."""
    _new(run, "A")
    assert run("send", "coordinator", "hi")[0] == 0
    index = _age_catalog(run)
    before = index.read_bytes()
    code, _, err = run("send", "coordinator", "again")
    assert code == 1 and "read-only" in err and "format_version 2" in err
    for args in (("doctor",), ("doctor", "--repair")):
        code, out, _ = run(*args)
        assert code == 0, out
        assert f"READ-ONLY {index}: format_version {NEWER}" in out
        assert "fixed: catalog rebuilt" not in out
        assert index.read_bytes() == before
    code, _, err = run("send", "coordinator", "after doctor")
    assert code == 1 and "read-only" in err
    code, out, _ = run("list")
    assert code == 0 and "A" in out  # reading still works
    assert index.read_bytes() == before


@pytest.mark.parametrize(
    "command",
    [("new", "coordinator"), ("rename", "A", "B"), ("archive", "A"), ("delete", "A", "--yes")],
    ids=["new", "rename", "archive", "delete"],
)
def test_every_write_refuses_a_newer_catalog(run: Run, command: tuple[str, ...]) -> None:
    """Each writing command fails with one line naming index.json and leaves it untouched."""
    sid = _new(run, "A")
    index = _age_catalog(run)
    before = index.read_bytes()
    session_file = run.store / "sessions" / f"{sid}.json"
    session_before = session_file.read_bytes()
    code, _, err = run(*command)
    assert code == 1 and err.count("\n") == 1
    assert str(index) in err and "read-only" in err
    assert index.read_bytes() == before and session_file.read_bytes() == session_before


def test_a_process_that_never_read_the_catalog_still_refuses(tmp_path: Path) -> None:
    """A writer that only appends never loads index.json; it must still see that a newer
    version owns the store, and not fold its journal over the newer catalog."""
    root = tmp_path / ".prompt_objects"
    first = JsonBackend(root, idle_fold_seconds=None)
    s = make_session(messages=[make_message("one")])
    first.create(s)
    first.close()
    index = root / "sessions" / "index.json"
    doc = json.loads(index.read_bytes())
    doc["format_version"] = NEWER
    index.write_text(json.dumps(doc))
    before = index.read_bytes()
    fresh = JsonBackend(root, idle_fold_seconds=None)
    with pytest.raises(ReadOnlyStore, match="newer than this program"):
        fresh.append(s.id, make_message("two", 2))
    with pytest.raises(ReadOnlyStore):
        fresh.create(make_session(name="new"))
    fresh.flush()
    fresh.close()
    assert index.read_bytes() == before
    assert [m.content for m in JsonBackend(root).get(s.id).history] == ["one"]


def test_a_journal_left_beside_a_newer_catalog_is_not_folded(tmp_path: Path) -> None:
    """Opening a store whose crash left a journal never folds it into a newer catalog."""
    from prompt_sessions import SessionManager
    from prompt_sessions.plugins import PluginHost

    root = tmp_path / ".prompt_objects"
    backend = JsonBackend(root, idle_fold_seconds=None)
    backend.create(make_session())
    backend.close()
    sessions = root / "sessions"
    doc = json.loads((sessions / "index.json").read_bytes())
    doc["format_version"] = NEWER
    (sessions / "index.json").write_text(json.dumps(doc))
    (sessions / "index.journal").write_bytes(b'{"op":"cur","po":"x","id":null}\n')
    before = (sessions / "index.json").read_bytes()
    with SessionManager.open(root, host=PluginHost.create(entry_points=False)) as mgr:
        assert len(mgr.list()) == 1
    assert (sessions / "index.json").read_bytes() == before
    assert (sessions / "index.journal").exists()


def test_a_newer_catalog_in_an_unknown_shape_is_read_around_not_replaced(run: Run) -> None:
    """A newer catalog this version cannot decode at all is not "unparsable, rebuild it": the
    sessions are listed from their files, doctor leaves the catalog, writes are refused."""
    _new(run, "A")
    index = _age_catalog(run, sessions={"shape": "of the future"})
    before = index.read_bytes()
    code, out, _ = run("list")
    assert code == 0 and "A" in out
    code, out, _ = run("doctor", "--repair")
    assert code == 0 and "READ-ONLY" in out
    code, _, err = run("new", "coordinator")
    assert code == 1 and "read-only" in err
    assert index.read_bytes() == before


# ---------------------------------------------------------------------- a newer session


def _age_session_json(run: Run, sid: str) -> Path:
    path = run.store / "sessions" / f"{sid}.json"
    data = path.read_bytes().replace(
        b'{"format_version":1,', b'{"format_version":2,"future":{"kept":true},', 1
    )
    path.write_bytes(data)
    return path


def _age_session_sqlite(run: Run, sid: str) -> Path:
    db = run.store / DB_NAME
    with closing(sqlite3.connect(db, isolation_level=None)) as raw:
        (head,) = raw.execute("SELECT head FROM sessions WHERE id = ?", (sid,)).fetchone()
        doc = json.loads(head)
        doc.update(format_version=NEWER, future={"kept": True})
        raw.execute("UPDATE sessions SET head = ? WHERE id = ?", (json.dumps(doc).encode(), sid))
    return db


def _stored_session(run: Run, backend: str, sid: str) -> bytes:
    if backend == "json":
        return (run.store / "sessions" / f"{sid}.json").read_bytes()
    with closing(sqlite3.connect(run.store / DB_NAME)) as raw:
        head = raw.execute("SELECT head, updated_at FROM sessions WHERE id = ?", (sid,)).fetchone()
        bodies = raw.execute(
            "SELECT idx, body FROM messages WHERE session_id = ? ORDER BY idx", (sid,)
        ).fetchall()
    return repr((head, bodies)).encode()


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_a_newer_session_is_read_only_to_every_command(run: Run, backend: str) -> None:
    """The reported case and its siblings: a session with a newer format_version shows and
    exports, but send, rename, archive, delete, fork and duplicate each refuse with one line
    naming it and its version, and doctor --repair leaves it byte for byte."""
    if backend == "sqlite":
        _use_sqlite(run)
    sid = _new(run, "Future")
    assert run("send", "coordinator", "hello")[0] == 0
    (_age_session_json if backend == "json" else _age_session_sqlite)(run, sid)
    before = _stored_session(run, backend, sid)
    assert run("show", "Future")[0] == 0
    assert "hello" in run("export", "Future", "--format", "markdown")[1]
    refused = [
        ("send", "coordinator", "more", "--session", "Future"),
        ("rename", "Future", "Past"),
        ("archive", "Future"),
        ("delete", "Future", "--yes"),
        ("fork", "Future"),
        ("duplicate", "Future"),
        ("rewind", "Future", "--to", "1"),
        ("rewind", "Future", "--undo"),
    ]
    for args in refused:
        code, _, err = run(*args)
        assert code == 1, args
        assert err.startswith("Error:") and err.count("\n") == 1, err
        assert f"format_version {NEWER}" in err and sid in err, err
    code, out, _ = run("doctor", "--repair")
    assert code == 0, out
    assert f"READ-ONLY {sid}" in out and "DAMAGED" not in out
    assert _stored_session(run, backend, sid) == before
    assert [s["name"] for s in run.json("list", "--json")] == ["Future"]


def test_a_newer_session_this_version_cannot_decode_is_never_moved_aside(run: Run) -> None:
    """A newer file in a shape this version cannot read is skipped with a warning by list,
    reported as newer (not damaged) by doctor, and --repair leaves it where it is."""
    sid = _new(run, "Future")
    path = run.store / "sessions" / f"{sid}.json"
    doc = json.loads(path.read_bytes())
    doc.update(format_version=NEWER, history={"a": "shape of the future"})
    _replace_file(path, json.dumps(doc).encode())
    before = path.read_bytes()
    code, out, err = run("list")
    assert code == 0 and "Future" not in out and "newer than this program" in err
    code, out, _ = run("doctor", "--repair")
    assert code == 0, out
    assert f"READ-ONLY {sid}" in out and "moved aside" not in out
    assert path.read_bytes() == before


def test_a_torn_newer_file_is_read_but_not_rewritten(tmp_path: Path) -> None:
    """A newer file cut by a crash mid-append reads as it was before the cut, but this version
    does not write the repaired copy over it."""
    root = tmp_path / ".prompt_objects"
    backend = JsonBackend(root, idle_fold_seconds=None)
    s = make_session(messages=[make_message("one", 1)])
    backend.create(s)
    backend.close()
    s.format_version = NEWER
    s.history.append(make_message("two, cut short by a crash", 2))
    s.updated_at = s.history[-1].created_at
    path = root / "sessions" / f"{s.id}.json"
    whole = session_codec.encode_session(s)
    torn = whole[: whole.rindex(b"cut short")]
    path.write_bytes(torn)
    again = JsonBackend(root, idle_fold_seconds=None)
    assert [m.content for m in again.get(s.id).history] == ["one"]
    assert again.check().newer
    again.close()
    assert path.read_bytes() == torn


def test_importing_a_newer_export_is_refused(run: Run, tmp_path: Path) -> None:
    """An export written by a newer version is not imported as version 1 (which would drop
    what this version does not understand); nothing is written."""
    source = make_session(name="From the future", messages=[make_message("hi")])
    doc = json.loads(session_codec.encode_session(source))
    doc.update(format_version=NEWER)
    export = tmp_path / "future.json"
    export.write_text(json.dumps(doc))
    code, _, err = run("import", str(export))
    assert code == 1 and f"format_version {NEWER}" in err and "upgrade" in err
    assert run.json("list", "--json") == []


def test_a_newer_sqlite_schema_is_left_alone_by_doctor(tmp_path: Path) -> None:
    """doctor --repair on a database with a newer schema reports it and changes nothing in the
    file, not even its journal mode."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    s = make_session(messages=[make_message("x")])
    backend.create(s)
    backend.close()
    db = root / DB_NAME
    with closing(sqlite3.connect(db, isolation_level=None)) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        raw.execute("PRAGMA journal_mode = DELETE")
        # A summary this version would "fix": it must not touch a newer store.
        raw.execute("UPDATE sessions SET summary = X'7B7D'")
    before = _digest(db)
    again = SqliteBackend(root)
    report = again.check(repair=True)
    assert str(db) in report.newer and report.fixed == []
    again.close()
    assert _digest(db) == before
    with closing(sqlite3.connect(db)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


# ---------------------------------------------------------------------- unknown fields


def test_unknown_fields_survive_rename_and_append_in_a_json_file(run: Run) -> None:
    """Fields this version does not know (top-level and inside messages, from a plugin or a
    hand edit) are kept by a rename, an archive and an append that rewrites the file."""
    sid = _new(run, "Mine")
    assert run("send", "coordinator", "hello")[0] == 0
    path = run.store / "sessions" / f"{sid}.json"
    doc = json.loads(path.read_bytes())
    doc["colour"] = "teal"
    doc["history"][0]["mood"] = {"calm": True}
    path.write_text(json.dumps(doc, indent=2))  # another layout: the next append rewrites it
    assert run("rename", "Mine", "Ours")[0] == 0
    assert run("archive", "Ours")[0] == 0
    assert run("send", "coordinator", "again", "--session", "Ours")[0] == 0
    after = json.loads(path.read_bytes())
    assert after["colour"] == "teal" and after["name"] == "Ours" and after["archived"] is True
    assert after["history"][0]["mood"] == {"calm": True}
    assert [m["content"] for m in after["history"]][-2:][0] == "again"
    assert after["history"][0]["content"] == "hello"


def test_unknown_fields_survive_an_update_in_sqlite(tmp_path: Path) -> None:
    """An unknown field in a session's stored head is kept by a rename."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    s = make_session()
    backend.create(s)
    with closing(sqlite3.connect(root / DB_NAME, isolation_level=None)) as raw:
        (head,) = raw.execute("SELECT head FROM sessions WHERE id = ?", (s.id,)).fetchone()
        doc = json.loads(head)
        doc["colour"] = "teal"
        raw.execute("UPDATE sessions SET head = ? WHERE id = ?", (json.dumps(doc).encode(), s.id))
    backend.update(s.id, name="Renamed")
    with closing(sqlite3.connect(root / DB_NAME)) as raw:
        (head,) = raw.execute("SELECT head FROM sessions WHERE id = ?", (s.id,)).fetchone()
    doc = json.loads(head)
    assert doc["colour"] == "teal" and doc["name"] == "Renamed"
    assert backend.get(s.id).name == "Renamed"
    backend.close()


def test_an_append_never_trusts_a_head_it_does_not_recognise(tmp_path: Path) -> None:
    """A newer file that ends the way this version writes files but starts differently (its
    format_version not first) is still recognised as newer by an append, which refuses."""
    root = tmp_path / ".prompt_objects"
    backend = JsonBackend(root, idle_fold_seconds=None)
    s = make_session(messages=[make_message("one", 1)])
    backend.create(s)
    path = root / "sessions" / f"{s.id}.json"
    data = path.read_bytes().replace(
        b'{"format_version":1,"id":"' + s.id.encode() + b'",',
        b'{"id":"' + s.id.encode() + b'","format_version":2,',
        1,
    )
    path.write_bytes(data)
    with pytest.raises(ReadOnlyStore, match="format_version 2"):
        backend.append(s.id, make_message("two", 2))
    assert path.read_bytes() == data
    backend.close()


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` as editors, sync tools and ``cp``-then-rename do: a new file renamed
    over it (what ``list`` notices; an edit in place is noticed by ``doctor`` and ``get``)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)
