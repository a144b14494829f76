"""``migrate``: every session copied between backends, the source untouched, re-runs safe."""

from __future__ import annotations

from pathlib import Path

from cli_runner import Run

from prompt_sessions import Message, SessionManager
from prompt_sessions.migrate import migrate
from prompt_sessions.plugins import PluginHost


def _open(root: Path, backend: str) -> SessionManager:
    return SessionManager.open(
        root, host=PluginHost.create(entry_points=False), backend=backend, config={}
    )


def _fill(mgr: SessionManager) -> list[str]:
    a = mgr.create("coordinator", "Plan")
    mgr.append(a.id, Message(role="user", content="hello \x1b[2J and \u0000 kept"))
    mgr.append(a.id, Message(role="assistant", content="hi", model="echo"))
    b = mgr.create("writer", "Draft", metadata={"k": [1, 2]})
    mgr.rename(b.id, "Draft two")
    mgr.backend.update(b.id, tags=["x"], archived=True)
    mgr.switch("writer", b.id)
    return [a.id, b.id]


def _everything(mgr: SessionManager) -> dict[str, object]:
    return {s.id: mgr.backend.get(s.id) for s in mgr.backend.list()}


def test_json_to_sqlite_and_back_is_equal(tmp_path: Path) -> None:
    """json -> sqlite -> json (another folder): every session equal, field for field."""
    with _open(tmp_path / "a", "json") as src:
        ids = _fill(src)
        with _open(tmp_path / "a", "sqlite") as mid:
            report = migrate(src.backend, mid.backend)
            assert sorted(report.copied) == sorted(ids) and report.ok
            with _open(tmp_path / "b", "json") as back:
                assert migrate(mid.backend, back.backend).ok
                assert _everything(back) == _everything(src)
                assert back.backend.get_current("writer") == ids[1]


def test_rerun_skips_identical_and_extends_earlier_copies(tmp_path: Path) -> None:
    """A second run copies nothing twice; messages and renames made since are brought over."""
    with _open(tmp_path / "a", "json") as src, _open(tmp_path / "a", "sqlite") as dst:
        a, b = _fill(src)
        migrate(src.backend, dst.backend)
        again = migrate(src.backend, dst.backend)
        assert sorted(again.skipped) == sorted([a, b]) and again.copied == []
        src.append(a, Message(role="user", content="later"))
        src.rename(a, "Plan v2")
        third = migrate(src.backend, dst.backend)
        assert third.extended == [a] and third.ok
        assert dst.backend.get(a) == src.backend.get(a)
        assert len(dst.backend.list()) == 2


def test_a_diverged_copy_is_a_conflict_left_alone(tmp_path: Path) -> None:
    """A target copy with messages the source lacks is reported, not overwritten."""
    with _open(tmp_path / "a", "json") as src, _open(tmp_path / "a", "sqlite") as dst:
        a, _ = _fill(src)
        migrate(src.backend, dst.backend)
        dst.append(a, Message(role="user", content="only in the target"))
        before = dst.backend.get(a)
        report = migrate(src.backend, dst.backend)
        assert list(report.conflicts) == [a] and not report.ok
        assert dst.backend.get(a) == before


def test_cli_migrate_reports_and_never_changes_the_source(run: Run, tmp_path: Path) -> None:
    """`migrate --to sqlite --to-dir` copies, prints counts; the source's files are unchanged;
    a second run says everything is already there; --json prints the report."""
    run("new", "coordinator", "--name", "One")
    run("send", "coordinator", "hi", "--session", "One")
    sessions = run.store / "sessions"
    before = {p.name: p.read_bytes() for p in sessions.iterdir() if p.suffix == ".json"}
    target = tmp_path / "elsewhere"
    code, out, err = run("migrate", "--to", "sqlite", "--to-dir", str(target))
    assert code == 0, err
    assert out.startswith("1 session in json: 1 copied")
    assert f"To use it: prompt-sessions --dir {target} config set storage.backend sqlite" in out
    after = {p.name: p.read_bytes() for p in sessions.iterdir() if p.suffix == ".json"}
    assert after == before
    report = run.json("migrate", "--to", "sqlite", "--to-dir", str(target), "--json")
    assert report == {
        "sessions": 1,
        "copied": 0,
        "extended": 0,
        "skipped": 1,
        "conflicts": {},
        "failed": {},
        "trash": {"sessions": 0, "copied": 0, "skipped": 0},
    }
    with _open(target, "sqlite") as copied:
        assert [s.name for s in copied.list()] == ["One"]


def test_cli_migrate_conflict_says_how_to_keep_both_copies(run: Run, tmp_path: Path) -> None:
    """A session changed in the target since the last migrate is a conflict: exit 1, a line
    naming it, and the way to keep both copies, which works as said."""
    run("new", "coordinator", "--name", "One")
    run("send", "coordinator", "hi", "--session", "One")
    target = tmp_path / "elsewhere"
    assert run("migrate", "--to", "sqlite", "--to-dir", str(target))[0] == 0
    with _open(target, "sqlite") as copied:
        sid = copied.list()[0].id
        copied.append(sid, Message(role="user", content="only in the target"))
    code, out, _ = run("migrate", "--to", "sqlite", "--to-dir", str(target))
    assert code == 1
    assert f"CONFLICT {sid}: the target holds a different version; left as it is" in out
    assert "export ID --format json -o FILE here, then import FILE --as-new" in out
    exported = tmp_path / "one.json"
    assert run("export", sid, "--format", "json", "-o", str(exported))[0] == 0
    in_target = Run(run.capsys, run.monkeypatch, target)
    assert in_target("config", "set", "storage.backend", "sqlite")[0] == 0
    code, _, err = in_target("import", str(exported), "--as-new")
    assert code == 0, err
    with _open(target, "sqlite") as copied:
        counts = sorted(s.message_count for s in copied.list())
    assert counts == [2, 3]  # the source's copy beside the target's own


def test_cli_migrate_refuses_the_store_itself(run: Run) -> None:
    """Migrating a json store to json in its own folder is a one-line usage error."""
    run("new", "coordinator")
    code, _, err = run("migrate", "--to", "json")
    assert code == 1
    assert err.startswith("Error: the target is the store itself") and err.count("\n") == 1


def test_cli_migrate_unknown_backend(run: Run) -> None:
    """An unknown target backend names the known ones in one line."""
    run("new", "coordinator")
    code, _, err = run("migrate", "--to", "nosuch")
    assert code == 1 and "unknown storage backend 'nosuch'" in err and err.count("\n") == 1
