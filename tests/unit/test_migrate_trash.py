"""``migrate`` copies the trash: trashed sessions arrive in the target's trash, identical, with
their deletion times, in both directions between json and sqlite; re-runs skip them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions import Message, SessionManager
from prompt_sessions.migrate import migrate
from prompt_sessions.plugins import PluginHost


def _open(root: Path, backend: str) -> SessionManager:
    return SessionManager.open(
        root, host=PluginHost.create(entry_points=False), backend=backend, config={}
    )


def _fill(mgr: SessionManager) -> tuple[str, str, str]:
    """One live session and two trashed ones (one with tags, \\u0000 and an escape)."""
    live = mgr.create("coordinator", "Kept")
    gone = mgr.create("coordinator", "Binned plan")
    mgr.append(gone.id, Message(role="user", content="café \x1b[2J and \u0000 kept"))
    mgr.append(gone.id, Message(role="assistant", content="noted", model="echo"))
    mgr.backend.update(gone.id, tags=["x"], pinned=True)
    empty = mgr.create("writer", "Empty draft")
    mgr.delete(gone.id)
    mgr.delete(empty.id)
    return live.id, gone.id, empty.id


def _trash(mgr: SessionManager) -> dict[str, object]:
    """Each trashed session's whole content and its deletion time."""
    backend = mgr.backend
    return {
        e.summary.id: (backend.read_trashed(e.summary.id), e.deleted_at)  # type: ignore[attr-defined]
        for e in mgr.trashed()
    }


@pytest.mark.parametrize(("first", "second"), [("json", "sqlite"), ("sqlite", "json")])
def test_the_trash_arrives_identical_both_ways(tmp_path: Path, first: str, second: str) -> None:
    """first -> second -> first again (other folders): the trash is equal at every step, its
    sessions restore to what was deleted, and the source's trash is left as it was."""
    with _open(tmp_path / "a", first) as src:
        live, gone, empty = _fill(src)
        before = _trash(src)
        with _open(tmp_path / "b", second) as mid:
            report = migrate(src.backend, mid.backend)
            assert report.ok, (report.conflicts, report.failed)
            assert report.copied == [live] and report.trash_count == 2
            assert sorted(report.trash_copied) == sorted([gone, empty])
            assert _trash(mid) == before
            assert [e.summary.id for e in mid.trashed()] == [e.summary.id for e in src.trashed()]
            with _open(tmp_path / "c", first) as back:
                assert migrate(mid.backend, back.backend).ok
                assert _trash(back) == before
                restored = back.restore("Binned")
                assert restored.summary.id == gone
                assert back.backend.get(gone) == before[gone][0]  # type: ignore[index]
        assert _trash(src) == before


def test_a_rerun_skips_and_a_different_trashed_copy_is_a_conflict(tmp_path: Path) -> None:
    """A second run copies nothing to the trash again; a target trash holding another version
    of the session is reported and left alone."""
    with _open(tmp_path / "a", "json") as src, _open(tmp_path / "b", "sqlite") as dst:
        _, gone, empty = _fill(src)
        migrate(src.backend, dst.backend)
        again = migrate(src.backend, dst.backend)
        assert sorted(again.trash_skipped) == sorted([gone, empty]) and again.trash_copied == []
        assert again.ok
        dst.restore(empty)
        dst.append(empty, Message(role="user", content="only in the target"))
        dst.delete(empty)
        changed = dst.backend.read_trashed(empty)  # type: ignore[attr-defined]
        third = migrate(src.backend, dst.backend)
        assert list(third.conflicts) == [empty] and not third.ok
        assert dst.backend.read_trashed(empty) == changed  # type: ignore[attr-defined]


def test_a_target_without_a_trash_lists_the_trashed_sessions_as_failed(tmp_path: Path) -> None:
    """A target store that cannot hold a trash copies the live sessions and names every
    trashed one as not copied (exit 1 in the CLI): nothing is dropped silently."""
    from prompt_sessions.storage.json_backend import JsonBackend

    class Plain:
        """The JSON store with its trash hidden."""

        name = "plain"

        def __init__(self, inner: JsonBackend) -> None:
            self._inner = inner

        def __getattr__(self, attr: str) -> object:
            if attr in {"trash", "trashed", "restore", "purge", "read_trashed", "put_trashed"}:
                raise AttributeError(attr)
            return getattr(self._inner, attr)

    with _open(tmp_path / "a", "sqlite") as src:
        live, gone, empty = _fill(src)
        inner = JsonBackend(tmp_path / "b")
        try:
            report = migrate(src.backend, Plain(inner))  # type: ignore[arg-type]
        finally:
            inner.close()
        assert report.copied == [live] and not report.ok
        assert sorted(report.failed) == sorted([gone, empty])
        assert "has no trash" in report.failed[gone]


def test_cli_migrate_reports_the_trash(run: Run, tmp_path: Path) -> None:
    """`migrate` prints how many trashed sessions it copied; `trash` in the target lists them
    and `restore` there brings back the same messages."""
    run("new", "coordinator", "--name", "Binned")
    run("send", "coordinator", "hello there", "--session", "Binned")
    assert run("delete", "Binned", "--yes")[0] == 0
    target = tmp_path / "elsewhere"
    code, out, err = run("migrate", "--to", "sqlite", "--to-dir", str(target))
    assert code == 0, err
    assert "1 in the trash: 1 copied to the trash, 0 already there" in out
    report = run.json("migrate", "--to", "sqlite", "--to-dir", str(target), "--json")
    assert report["trash"] == {"sessions": 1, "copied": 0, "skipped": 1}
    with _open(target, "sqlite") as copied:
        assert [e.summary.name for e in copied.trashed()] == ["Binned"]
        sid = copied.restore("Binned").summary.id
        assert copied.get(sid).history[0].content == "hello there"


def test_json_put_trashed_reports_a_time_it_cannot_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the JSON store cannot set a copied trash file's time, the copy says so in one
    StorageError naming the file; the session is in the trash, whole."""
    import os

    from prompt_sessions.errors import StorageError
    from prompt_sessions.storage import json_trash

    with _open(tmp_path / "a", "json") as mgr:
        s = mgr.create("coordinator", "Dated")
        session = mgr.get(s.id)
        mgr.backend.trash(s.id)  # type: ignore[attr-defined]
        mgr.backend.purge(s.id)  # type: ignore[attr-defined]

        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(json_trash.os, "utime", refuse)
        with pytest.raises(StorageError, match=f"trash/{s.id}.json"):
            mgr.backend.put_trashed(session, "2025-01-01T00:00:00.000Z")  # type: ignore[attr-defined]
        monkeypatch.setattr(json_trash.os, "utime", os.utime)
        assert mgr.backend.read_trashed(s.id) == session  # type: ignore[attr-defined]


def test_a_damaged_trashed_session_is_reported_and_the_rest_copied(tmp_path: Path) -> None:
    """A trashed session whose rows cannot be read is listed as failed (the source untouched);
    the other trashed sessions are copied; a damaged copy already in the target's trash is a
    conflict, left as it is."""
    import sqlite3
    from contextlib import closing

    from prompt_sessions.storage.sqlite_backend import DB_NAME

    with _open(tmp_path / "a", "sqlite") as src:
        _, gone, empty = _fill(src)
    with closing(sqlite3.connect(tmp_path / "a" / DB_NAME)) as conn, conn:
        conn.execute("UPDATE trash_messages SET body = '{' WHERE session_id = ?", (gone,))
    with _open(tmp_path / "a", "sqlite") as src, _open(tmp_path / "b", "json") as dst:
        report = migrate(src.backend, dst.backend)
        assert list(report.failed) == [gone] and "unreadable" in report.failed[gone]
        assert report.trash_copied == [empty]
        (tmp_path / "b" / "trash" / f"{empty}.json").write_bytes(b"{broken")
        again = migrate(src.backend, dst.backend)
        assert list(again.conflicts) == [empty]
        assert (tmp_path / "b" / "trash" / f"{empty}.json").read_bytes() == b"{broken"


def test_a_source_trash_that_cannot_be_read_whole_is_listed_as_failed(tmp_path: Path) -> None:
    """A source backend with a trash but without SupportsTrashCopy: its trashed sessions are
    named as not copied, and the live ones are copied."""
    from prompt_sessions.storage.sqlite_backend import SqliteBackend

    class OldTrash:
        """The sqlite store with only the four trash methods of an older backend."""

        name = "old"

        def __init__(self, inner: SqliteBackend) -> None:
            self._inner = inner

        def __getattr__(self, attr: str) -> object:
            if attr in {"read_trashed", "put_trashed"}:
                raise AttributeError(attr)
            return getattr(self._inner, attr)

    with _open(tmp_path / "a", "sqlite") as src:
        live, gone, empty = _fill(src)
        with _open(tmp_path / "b", "json") as dst:
            report = migrate(OldTrash(src.backend), dst.backend)  # type: ignore[arg-type]
            assert report.copied == [live] and sorted(report.failed) == sorted([gone, empty])
            assert "cannot be read whole" in report.failed[gone]
            assert dst.trashed() == []


@pytest.mark.parametrize("backend", ["json", "sqlite"])
@pytest.mark.parametrize(
    "deleted_at",
    ["2025-01-01T00:00:00Z\n", "\u0662\u0660\u0662\u0665-01-01T00:00:00Z", "yesterday"],
    ids=["trailing newline", "other script's digits", "words"],
)
def test_put_trashed_refuses_a_time_that_is_not_iso_8601(
    tmp_path: Path, backend: str, deleted_at: str
) -> None:
    """A trashed copy's ``deleted_at`` is the whole of an ISO-8601 UTC time with ASCII digits:
    a trailing newline or another script's digits are refused before anything is written."""
    from prompt_sessions.errors import StorageError

    with _open(tmp_path / "a", backend) as mgr:
        s = mgr.create("coordinator", "Dated")
        session = mgr.get(s.id)
        mgr.backend.trash(s.id)  # type: ignore[attr-defined]
        mgr.backend.purge(s.id)  # type: ignore[attr-defined]
        with pytest.raises(StorageError, match="deleted_at must be"):
            mgr.backend.put_trashed(session, deleted_at)  # type: ignore[attr-defined]
        assert mgr.backend.trashed() == []  # type: ignore[attr-defined]
