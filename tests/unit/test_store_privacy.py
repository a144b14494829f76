"""Private by default, also for files that already exist (DESIGN section 4): a store restored
from git or a backup comes back 0644/0755; what a write touches becomes 0600/0700 again, doctor
reports what is still loose and doctor --repair tightens it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cli_runner import Run

from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.sqlite_backend import DB_NAME, SqliteBackend
from prompt_sessions.testing.conformance import make_message, make_session


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _loosen(root: Path) -> None:
    """What a git checkout or a plain copy leaves: folders 0755, files 0644."""
    os.chmod(root, 0o755)
    for folder, dirs, names in os.walk(root):
        for d in dirs:
            os.chmod(Path(folder) / d, 0o755)
        for n in names:
            os.chmod(Path(folder) / n, 0o644)


def _new(run: Run, name: str) -> str:
    return str(run.json("new", "coordinator", "--name", name, "--json")["id"])


def test_a_restored_json_store_is_private_again(run: Run) -> None:
    """The reported case: after a restore, a write makes the folders and the files it touches
    private (not every file: that would cost a stat per session per write); doctor names the
    rest and exits 1; --repair tightens them and doctor is then clean."""
    talked = _new(run, "Talked")
    untouched = _new(run, "Untouched")
    assert run("send", "coordinator", "hi", "--session", "Talked")[0] == 0
    sessions = run.store / "sessions"
    _loosen(run.store)
    (run.store / "config.toml").chmod(0o644)  # the user's own file: not the store's to judge
    assert run("send", "coordinator", "again", "--session", "Talked")[0] == 0
    assert _mode(run.store) == 0o700 and _mode(sessions) == 0o700
    assert _mode(sessions / f"{talked}.json") == 0o600
    for name in ("index.json", ".lock"):
        assert _mode(sessions / name) == 0o600, name
    assert _mode(sessions / f"{untouched}.json") == 0o644
    code, out, _ = run("doctor")
    assert code == 1
    assert f"NOT PRIVATE {sessions / f'{untouched}.json'} is 0644, not 0600" in out
    assert "config.toml" not in out
    code, out, _ = run("doctor", "--repair")
    assert code == 0 and f"fixed: made {sessions / f'{untouched}.json'} private" in out
    for path in sessions.iterdir():
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    code, out, _ = run("doctor")
    assert code == 0 and "NOT PRIVATE" not in out


def test_doctor_reports_loose_folders(run: Run) -> None:
    """A folder of the store left world-readable is reported by doctor and fixed by --repair."""
    _new(run, "A")
    sessions = run.store / "sessions"
    sessions.chmod(0o755)
    code, out, _ = run("doctor")
    assert code == 1 and f"NOT PRIVATE {sessions} is 0755, not 0700" in out
    assert run("doctor", "--repair")[0] == 0
    assert _mode(sessions) == 0o700


def test_each_json_write_tightens_the_file_it_writes(tmp_path: Path) -> None:
    """An append (written in place), an update (a rewrite) and a repair's move aside each leave
    the file they wrote 0600, whatever its mode was."""
    root = tmp_path / ".prompt_objects"
    backend = JsonBackend(root, idle_fold_seconds=None)
    appended, renamed = make_session(name="a"), make_session(name="b")
    backend.create(appended)
    backend.create(renamed)
    backend.close()
    _loosen(root)
    again = JsonBackend(root, idle_fold_seconds=None)
    again.append(appended.id, make_message("x", 1))
    again.update(renamed.id, name="renamed")
    for s in (appended, renamed):
        assert _mode(root / "sessions" / f"{s.id}.json") == 0o600
    bad = root / "sessions" / f"{make_session().id}.json"
    bad.write_bytes(b"not json")
    bad.chmod(0o644)
    report = again.check(repair=True)
    (moved,) = report.moved
    assert _mode(Path(moved)) == 0o600 and _mode(Path(moved).parent) == 0o700
    again.close()


def test_a_restored_sqlite_store_is_private_again(tmp_path: Path) -> None:
    """The sqlite store: doctor reports a database, WAL files and folder restored world-readable;
    the first write tightens them (new -wal and -shm files then inherit 0600); --repair does the
    same without a write."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    s = make_session()
    backend.create(s)
    backend.close()
    _loosen(root)
    reader = SqliteBackend(root)
    assert [x.id for x in reader.list()] == [s.id]  # reading does not change modes
    report = reader.check()
    assert not report.healthy
    assert any(line.startswith(f"{root / DB_NAME} is 0644") for line in report.loose)
    assert any(line.startswith(f"{root} is 0755") for line in report.loose)
    reader.close()
    writer = SqliteBackend(root)
    writer.append(s.id, make_message("x"))
    assert _mode(root) == 0o700
    for name in os.listdir(root):
        assert _mode(root / name) == 0o600, name
    assert writer.check().healthy
    writer.close()
    _loosen(root)
    repairer = SqliteBackend(root)
    report = repairer.check(repair=True)
    assert report.loose == [] and any("private" in line for line in report.fixed)
    assert _mode(root / DB_NAME) == 0o600 and _mode(root) == 0o700
    repairer.close()
