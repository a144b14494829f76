"""backup and restore-backup (DESIGN section 14): a dated zip of sessions, trash, PO files and
config; a restore that only adds and lists conflicts; hostile zips refused in one line."""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.organise import backup
from prompt_sessions.plugins import PluginHost

BACKENDS = ["json", "sqlite"]


def _use(store: Path, backend: str) -> None:
    if backend == "sqlite":
        config = store / "config.toml"
        config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


def _manager(store: Path) -> SessionManager:
    return SessionManager.open(store, host=PluginHost.create(entry_points=False))


def _seed(store: Path) -> tuple[str, str]:
    (store / "objects").mkdir(exist_ok=True)
    (store / "objects" / "writer.md").write_text("You write.\n")
    with _manager(store) as mgr:
        kept = mgr.create("writer", "Kept")
        mgr.append(kept.id, Message(role="user", content="hello ✓"))
        gone = mgr.create("writer", "Deleted")
        mgr.delete(gone.id)
    return kept.id, gone.id


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_then_restore_into_an_empty_environment(
    run: Run, tmp_path: Path, backend: str
) -> None:
    """The zip holds the sessions, the trash, PO files and config; restoring it into an empty
    environment brings back the same sessions, trashed ones into the trash (the JSON store's
    files byte for byte), and files."""
    _use(run.store, backend)
    kept, gone = _seed(run.store)
    target = tmp_path / "b.zip"
    result = run.json("backup", "-o", str(target), "--json")
    assert result["sessions"] == 1 and result["objects"] == 1 and result["config"] == 1
    names = set(zipfile.ZipFile(target).namelist())
    assert {f"sessions/{kept}.json", "objects/writer.md", "config.toml", "manifest.json"} <= names
    fresh = tmp_path / "fresh" / ".prompt_objects"
    fresh.mkdir(parents=True)
    restored = Run(run.capsys, run.monkeypatch, fresh)
    report = restored.json("restore-backup", str(target), "--json")
    assert f"sessions/{kept}.json" in report["added"] and report["conflicts"] == []
    assert (fresh / "objects" / "writer.md").read_text() == "You write.\n"
    assert [s["id"] for s in restored.json("list", "--json")] == [kept]
    with _manager(run.store) as a, _manager(fresh) as b:
        assert a.get(kept) == b.get(kept)
    assert f"trash/{gone}.json" in names and result["trash"] == 1
    assert [e["id"] for e in restored.json("trash", "--json")] == [gone]
    with _manager(run.store) as a, _manager(fresh) as b:
        assert a.backend.read_trashed(gone) == b.backend.read_trashed(gone)  # type: ignore[attr-defined]
    if backend == "json":
        original = (run.store / "sessions" / f"{kept}.json").read_bytes()
        assert (fresh / "sessions" / f"{kept}.json").read_bytes() == original


def test_restore_never_overwrites_and_lists_conflicts(run: Run, tmp_path: Path) -> None:
    """Restoring over the environment it came from changes nothing; a session or PO file that
    changed since is kept as it is now and listed as a conflict."""
    kept, _ = _seed(run.store)
    target = tmp_path / "b.zip"
    run("backup", "-o", str(target))
    again = run.json("restore-backup", str(target), "--json")
    assert again["added"] == [] and again["conflicts"] == []
    with _manager(run.store) as mgr:
        mgr.append(kept, Message(role="user", content="newer"))
    (run.store / "objects" / "writer.md").write_text("Changed.\n")
    code, out, _ = run("restore-backup", str(target))
    assert code == 0 and "2 conflicts" in out
    assert f"sessions/{kept}.json" in out and "objects/writer.md" in out
    assert (run.store / "objects" / "writer.md").read_text() == "Changed.\n"
    with _manager(run.store) as mgr:
        assert [m.content for m in mgr.get(kept).history] == ["hello ✓", "newer"]


def test_backup_is_dated_and_never_replaces_a_file(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without -o the zip is named by the UTC time in the current folder; an existing -o file
    is refused in one line and left as it was."""
    _seed(run.store)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("backup")
    assert code == 0
    (made,) = list(tmp_path.glob("prompt-sessions-backup-*.zip"))
    assert re.fullmatch(r"prompt-sessions-backup-\d{8}-\d{6}\.zip", made.name)
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    code, _, err = run("backup", "-o", str(made))
    assert code == 1 and "exists already" in err and err.count("\n") == 1


def test_backup_into_a_folder_gets_the_dated_name_there(run: Run, tmp_path: Path) -> None:
    """`-o DIR` writes the dated zip into that folder (as `export -o DIR` does)."""
    _seed(run.store)
    folder = tmp_path / "backups"
    folder.mkdir()
    code, out, _ = run("backup", "-o", str(folder))
    (made,) = list(folder.iterdir())
    assert code == 0 and out.startswith(f"Wrote {made}:")
    assert re.fullmatch(r"prompt-sessions-backup-\d{8}-\d{6}\.zip", made.name)


def _zip(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", b'{"format": 1}')
        for name, data in members.items():
            zf.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("members", "link", "said"),
    [
        ({"../evil.md": b"x"}, None, "not part of a backup"),
        ({"/etc/evil": b"x"}, None, "not part of a backup"),
        ({"objects/../../evil.md": b"x"}, None, "not part of a backup"),
        ({"sessions/not-an-id.json": b"{}"}, None, "not part of a backup"),
        ({}, "objects/link.md", "is a link"),
        ({"sessions/6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11.json": b"{bad"}, None, "cannot be read"),
    ],
)
def test_hostile_zips_are_refused_whole(
    run: Run, tmp_path: Path, members: dict[str, bytes], link: str | None, said: str
) -> None:
    """Path traversal, odd names, links and unreadable sessions refuse the whole zip in one
    line; nothing is written (not even the harmless members)."""
    path = _zip(tmp_path / "h.zip", {"objects/fine.md": b"ok", **members}, link)
    code, _, err = run("restore-backup", str(path))
    assert code == 1 and said in err and err.count("\n") == 1
    assert not (run.store / "objects").exists()
    assert not (tmp_path / "evil.md").exists()


def test_huge_members_are_refused_by_what_they_unpack_to(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member larger than the limit is refused, by its declared size and, when that lies,
    by the bytes it unpacks to (a zip bomb); not a zip at all is one line too."""
    monkeypatch.setattr(backup, "MAX_MEMBER_BYTES", 1000)
    path = _zip(tmp_path / "big.zip", {"objects/big.md": b"x" * 5000})
    code, _, err = run("restore-backup", str(path))
    assert code == 1 and "limit" in err and err.count("\n") == 1
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    monkeypatch.setattr(
        backup.zipfile.ZipFile,
        "infolist",
        lambda self: [_small(i) if i.filename == "objects/big.md" else i for i in infos],
    )
    code, _, err = run("restore-backup", str(path))
    assert code == 1 and "objects/big.md" in err and err.count("\n") == 1
    assert not (run.store / "objects").exists()
    monkeypatch.undo()
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    code, _, err = run("restore-backup", str(junk))
    assert code == 1 and "not a readable zip" in err and err.count("\n") == 1


def _small(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    info.file_size = 10  # the declared size lies
    return info
