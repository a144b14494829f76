"""Damage stays local, whatever the damage (DESIGN section 4): one session that cannot be read,
for any reason (nested too deeply, not UTF-8, not a file, not ours to open), is reported and
skipped; list, show of the others, search and doctor keep working."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Run

from prompt_sessions.storage import (
    json_backend,
    json_catalog_view,
    json_health,
    json_reading,
    json_replace,
    json_store_base,
)
from prompt_sessions.storage.sqlite_backend import DB_NAME, SqliteBackend
from prompt_sessions.testing.conformance import make_message, make_session

DEEP = 1000


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def _new(run: Run, name: str) -> str:
    return str(run.json("new", "coordinator", "--name", name, "--json")["id"])


def _store_with_a_bad_one(run: Run) -> tuple[str, str]:
    """A healthy session "Good" with a message, and the id of a second one to damage."""
    good = _new(run, "Good")
    assert run("send", "coordinator", "needle in the good one", "--session", "Good")[0] == 0
    return good, _new(run, "Bad")


def _assert_the_rest_works(run: Run, bad: str) -> None:
    code, out, err = run("list")
    assert code == 0 and "Good" in out and "Bad" not in out, err
    assert f"skipped damaged session {bad}" in err and "unexpected" not in err
    code, out, err = run("show", "Good")
    assert code == 0 and "needle in the good one" in out, err
    code, out, err = run("search", "needle")
    assert code == 0 and "needle in the good one" in out, err
    assert "unexpected" not in err
    # The commands that look at every session say which one they could not (not a silence).
    for args in (["search", "needle"], ["stats"], ["prune", "--empty"]):
        code, out, err = run(*args)
        assert code == 0 and f"skipped damaged session {bad}" in err, (args, err)


JSON_SHAPES = {
    # The reported case: the decoder recurses before it can say the shape is wrong.
    "history": '{"history":' + _nest(DEEP) + "}",
    "message metadata": (
        '{"format_version":1,"id":"%(id)s","name":"Bad","po_name":"coordinator",'
        '"created_at":"2025-01-03T10:00:00.000Z","updated_at":"2025-01-03T10:00:00.000Z",'
        '"history":[{"role":"user","content":"x","created_at":"2025-01-03T10:00:00.000Z",'
        '"metadata":{"deep":' + _nest(DEEP) + "}}]}"
    ),
    "unknown field": (
        '{"format_version":1,"id":"%(id)s","name":"Bad","po_name":"coordinator",'
        '"created_at":"2025-01-03T10:00:00.000Z","updated_at":"2025-01-03T10:00:00.000Z",'
        '"later":' + _nest(DEEP) + "}"
    ),
}


@pytest.mark.parametrize("shape", list(JSON_SHAPES))
def test_a_deeply_nested_json_session_stays_local(run: Run, shape: str) -> None:
    """A session file nested 1,000 levels deep (anywhere in it) is skipped by list with a
    warning, leaves show, search and doctor working, is reported by doctor and moved aside
    by --repair."""
    _, bad = _store_with_a_bad_one(run)
    path = run.store / "sessions" / f"{bad}.json"
    _replace_file(path, (JSON_SHAPES[shape] % {"id": bad}).encode())
    _assert_the_rest_works(run, bad)
    code, out, err = run("doctor")
    assert code == 1 and f"DAMAGED {bad}" in out and "unexpected" not in err, out + err
    assert "1 session readable" in out
    code, out, _ = run("doctor", "--repair")
    assert code == 0 and "moved aside" in out
    assert not path.exists()


def _refuse_reading(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make opening ``path`` fail with EACCES, as a file of another owner with mode 000 does
    (the tests run as root, which the kernel lets read anything)."""

    class _OS:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def open(self, target: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if Path(target) == path:
                raise PermissionError(errno.EACCES, "Permission denied", str(target))
            return os.open(target, flags, *args, **kwargs)

    for module in (
        json_backend,
        json_catalog_view,
        json_health,
        json_reading,
        json_replace,
        json_store_base,
    ):
        monkeypatch.setattr(module, "os", _OS())


def test_a_session_file_we_may_not_read_stays_local(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported case: a session file the user cannot read no longer makes list, search and
    doctor exit 1. It is skipped with a warning, and doctor reports it as unreadable (exit 1)
    without moving it aside, since nothing is known about its content."""
    _, bad = _store_with_a_bad_one(run)
    path = run.store / "sessions" / f"{bad}.json"
    # As restored from another machine: the catalog has not seen this file yet.
    _replace_file(path, path.read_bytes().replace(b'"Bad"', b'"Bad, restored"'))
    _refuse_reading(monkeypatch, path)
    _assert_the_rest_works(run, bad)
    for args in (("doctor",), ("doctor", "--repair")):
        code, out, err = run(*args)
        assert code == 1, out + err
        assert f"UNREADABLE {bad}: cannot read {path}: Permission denied" in out
        assert "DAMAGED" not in out and "moved aside" not in out
        assert path.exists()
    monkeypatch.undo()
    code, out, _ = run("list")
    assert code == 0 and "Bad, restored" in out  # readable again: listed again
    # It was the PO's current session, and a rebuild while it could not be read kept that.
    catalog = json.loads((run.store / "sessions" / "index.json").read_bytes())
    assert catalog["current"] == {"coordinator": bad}


def test_a_directory_at_a_session_path_stays_local(run: Run) -> None:
    """A folder where a session file should be is damage of that session: skipped, reported,
    moved aside by --repair."""
    _, bad = _store_with_a_bad_one(run)
    path = run.store / "sessions" / f"{bad}.json"
    path.unlink()
    path.mkdir()
    _assert_the_rest_works(run, bad)
    code, out, _ = run("doctor")
    assert code == 1 and f"DAMAGED {bad}" in out and "not a regular file" in out
    code, out, _ = run("doctor", "--repair")
    assert code == 0 and not path.exists()


def test_a_fifo_at_a_session_path_does_not_block_readers(tmp_path: Path) -> None:
    """A named pipe planted at a session path would block every reader opening it; list and
    doctor report it instead (run in a child process, with a time limit)."""
    root = tmp_path / ".prompt_objects"
    backend = json_backend.JsonBackend(root)
    good, bad = make_session(name="Good"), make_session(name="Bad")
    backend.create(good)
    backend.create(bad)
    backend.close()
    path = root / "sessions" / f"{bad.id}.json"
    path.unlink()
    os.mkfifo(path)
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    main = "import sys; from prompt_sessions.cli import main; main(sys.argv[1:])"
    cli = [sys.executable, "-c", main, "--dir", str(root)]
    listed = subprocess.run([*cli, "list"], env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "Good" in listed.stdout
    assert "not a regular file" in listed.stderr
    doctor = subprocess.run([*cli, "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert doctor.returncode == 1 and f"DAMAGED {bad.id}" in doctor.stdout


def test_a_deeply_nested_catalog_is_rebuilt(run: Run) -> None:
    """A catalog (or journal line) nested too deeply to decode is a catalog to rebuild from
    the session files, not an error of every command."""
    _new(run, "Good")
    index = run.store / "sessions" / "index.json"
    doc = json.loads(index.read_text())
    index.write_text(json.dumps(doc)[:-1] + ',"later":' + _nest(DEEP) + "}")
    journal = run.store / "sessions" / "index.journal"
    journal.write_text('{"op":"del","id":"x","later":' + _nest(DEEP) + "}\n")
    code, out, err = run("list")
    assert code == 0 and "Good" in out, err
    code, out, _ = run("doctor")
    assert code == 0, out


# ---------------------------------------------------------------------- sqlite


def _sqlite_run(run: Run) -> Run:
    config = run.store / "config.toml"
    config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')
    return run


def _set_body(run: Run, sid: str, sql_value: str, *params: object) -> None:
    with closing(sqlite3.connect(run.store / DB_NAME, isolation_level=None)) as raw:
        raw.execute(f"UPDATE messages SET body = {sql_value} WHERE session_id = ?", (*params, sid))


SQLITE_BODIES = {
    "nested": (
        "?",
        b'{"role":"user","content":"needle","created_at":"2025-01-03T10:00:00.000Z",'
        b'"metadata":{"deep":' + _nest(DEEP).encode() + b"}}",
    ),
    "text not UTF-8": (
        "CAST(? AS TEXT)",
        b'{"role":"user","content":"needle \xff","created_at":"2025-01-03T10:00:00.000Z"}',
    ),
    "blob not UTF-8": (
        "?",
        b'{"role":"user","content":"needle \xff","created_at":"2025-01-03T10:00:00.000Z"}',
    ),
    "not JSON": ("?", b'{"role":"user","content":"needle'),
}


@pytest.mark.parametrize("kind", list(SQLITE_BODIES))
def test_a_damaged_sqlite_message_row_stays_local(run: Run, kind: str) -> None:
    """A message row nested too deeply, not UTF-8 (as BLOB or as TEXT) or not JSON at all
    makes only its session damaged: list, show of the others, search and doctor work, and
    --repair moves it aside."""
    _sqlite_run(run)
    _, bad = _store_with_a_bad_one(run)
    assert run("send", "coordinator", "to be damaged", "--session", "Bad")[0] == 0
    sql_value, body = SQLITE_BODIES[kind]
    _set_body(run, bad, sql_value, body)
    code, out, err = run("show", "Good")
    assert code == 0 and "needle in the good one" in out, err
    code, out, err = run("search", "needle")
    assert code == 0 and "needle in the good one" in out, err
    code, out, err = run("show", bad)
    assert code == 1 and err.startswith("Error:") and "damaged" in err, err
    code, out, err = run("doctor")
    assert code == 1 and f"DAMAGED {bad}" in out and "unexpected" not in err, out + err
    code, out, _ = run("doctor", "--repair")
    assert code == 0 and "moved aside" in out
    assert [s["name"] for s in run.json("list", "--json")] == ["Good"]


@pytest.mark.parametrize("value", [b"\xff\xfe not UTF-8", b"[" * DEEP], ids=["not UTF-8", "nested"])
def test_a_damaged_sqlite_summary_is_skipped_by_list(tmp_path: Path, value: bytes) -> None:
    """list skips a session whose stored summary is not UTF-8 or too deep to decode, and names
    it in problems(); doctor rebuilds the summary from the messages."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    good, bad = make_session(name="good"), make_session(name="bad", minute=1)
    backend.create(good)
    backend.create(bad)
    with closing(sqlite3.connect(root / DB_NAME, isolation_level=None)) as raw:
        raw.execute("UPDATE sessions SET summary = ? WHERE id = ?", (value, bad.id))
    assert [s.id for s in backend.list()] == [good.id]
    assert set(backend.problems()) == {bad.id}
    assert backend.check().healthy
    assert {s.id for s in backend.list()} == {good.id, bad.id}
    backend.append(good.id, make_message("still writable", 5))
    backend.close()


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` as editors, sync tools and ``cp``-then-rename do: a new file renamed
    over it (what ``list`` notices; an edit in place is noticed by ``doctor`` and ``get``)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)
