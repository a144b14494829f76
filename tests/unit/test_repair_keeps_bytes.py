"""Repair never loses bytes (DESIGN section 4, "Damage stays local"): what doctor --repair
moves aside gives back every stored byte exactly, on both backends, and a second repair never
replaces what a first one moved aside."""

from __future__ import annotations

import base64
import json
import sqlite3
from contextlib import closing
from pathlib import Path

from prompt_sessions.storage import files
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.sqlite_backend import DB_NAME, SqliteBackend
from prompt_sessions.testing.conformance import make_message, make_session


def _bytes_of(value: object) -> bytes:
    """A salvaged value back as the bytes SQLite held."""
    if isinstance(value, dict):
        return base64.b64decode(value["base64"])
    assert isinstance(value, str)
    return value.encode("utf-8")


def _rows(root: Path, sid: str) -> tuple[tuple[bytes, ...], list[tuple[int, bytes]]]:
    with closing(sqlite3.connect(root / DB_NAME)) as raw:
        head = raw.execute(
            "SELECT CAST(head AS BLOB), CAST(updated_at AS BLOB), CAST(summary AS BLOB)"
            " FROM sessions WHERE id = ?",
            (sid,),
        ).fetchone()
        bodies = raw.execute(
            "SELECT idx, CAST(body AS BLOB) FROM messages WHERE session_id = ? ORDER BY idx",
            (sid,),
        ).fetchall()
    return tuple(head), bodies


def test_sqlite_repair_keeps_non_utf8_bytes_exactly(tmp_path: Path) -> None:
    """The reported case: rows holding bytes that are not UTF-8 (as a BLOB and as TEXT) are
    moved aside in a form that gives back every byte of every row, not U+FFFD."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    good = make_session(name="good", messages=[make_message("fine")])
    bad = make_session(name="bad", messages=[make_message(f"m{i}", i) for i in range(3)])
    backend.create(good)
    backend.create(bad)
    with closing(sqlite3.connect(root / DB_NAME, isolation_level=None)) as raw:
        raw.execute(
            "UPDATE messages SET body = ? WHERE session_id = ? AND idx = 0",
            (b'{"role":"user","content":"caf\xe9 \xff\xfe","created_at":"x"}', bad.id),
        )
        raw.execute(
            "UPDATE messages SET body = CAST(? AS TEXT) WHERE session_id = ? AND idx = 2",
            (b"\x80 not text at all \xc3", bad.id),
        )
        raw.execute(
            "UPDATE sessions SET summary = CAST(? AS TEXT) WHERE id = ?", (b"\xfe\xff", bad.id)
        )
    before = _rows(root, bad.id)
    report = backend.check(repair=True)
    assert set(report.damaged) == {bad.id}
    (moved,) = report.moved
    salvage = json.loads(Path(moved).read_bytes())
    assert salvage["id"] == bad.id
    head = tuple(_bytes_of(salvage[k]) for k in ("head", "updated_at", "summary"))
    bodies = [(m["idx"], _bytes_of(m["body"])) for m in salvage["messages"]]
    assert (head, bodies) == before
    assert [s.id for s in backend.list()] == [good.id] and backend.check().healthy
    backend.close()


def test_a_second_sqlite_repair_never_replaces_the_first(tmp_path: Path) -> None:
    """Two repairs of the same id within one second write two files, not one over the other."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    moved = []
    for round_ in range(2):
        s = make_session(name=f"round {round_}", messages=[make_message("x")])
        s.id = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
        backend.create(s)
        with closing(sqlite3.connect(root / DB_NAME, isolation_level=None)) as raw:
            raw.execute("UPDATE messages SET body = ? WHERE session_id = ?", (b"{bad", s.id))
        moved += backend.check(repair=True).moved
    assert len(set(moved)) == 2
    assert all(Path(p).exists() for p in moved)
    names = [json.loads(Path(p).read_bytes())["head"] for p in moved]
    assert "round 0" in names[0] and "round 1" in names[1]
    backend.close()


def test_json_repair_moves_the_exact_file_and_never_replaces_an_earlier_one(
    tmp_path: Path,
) -> None:
    """The JSON store moves the damaged file itself (byte for byte); a second damaged file of
    the same id moved in the same second gets its own name."""
    root = tmp_path / ".prompt_objects"
    backend = JsonBackend(root, idle_fold_seconds=None)
    backend.create(make_session(name="good"))
    sid = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
    path = root / "sessions" / f"{sid}.json"
    contents = [b"\xff\xfe first damage", b"{second damage \x80"]
    moved = []
    for data in contents:
        path.write_bytes(data)
        moved += backend.check(repair=True).moved
    assert [Path(p).read_bytes() for p in moved] == contents
    backend.close()


def test_unused_path_counts_up(tmp_path: Path) -> None:
    """The name for something moved aside skips every name already taken."""
    (tmp_path / "a.json").write_bytes(b"")
    (tmp_path / "a.2.json").write_bytes(b"")
    assert files.unused_path(tmp_path, "a", ".json") == tmp_path / "a.3.json"
    assert files.unused_path(tmp_path, "b", ".json") == tmp_path / "b.json"
