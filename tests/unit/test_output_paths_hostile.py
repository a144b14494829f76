"""Output paths typed oddly (``export -o``, ``backup -o``, the TUI's ``/session export``): a
name holding a newline or an escape, a name too long for the file system, ``-`` for a backup, a
PO file removed while a backup copies it. Each error is one line on stderr, exit 1, nothing
written anywhere; each success message is one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions.commands.actions import export_to_file
from prompt_sessions.context import AppContext
from prompt_sessions.errors import UsageError
from prompt_sessions.organise import backup as backup_rules

TOO_LONG = "a" * 300


@pytest.fixture
def session(run: Run) -> str:
    run("send", "po", "hello there")
    return "hello there"  # auto-named from the first message


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    "output",
    [f"{TOO_LONG}.md", f"{TOO_LONG}/", f"d/{TOO_LONG}/x.md", "no\nfolder/x.md", "no\x1b[31m/"],
)
@pytest.mark.parametrize("command", ["export", "backup"])
def test_bad_output_paths_are_one_line_and_write_nothing(
    run: Run,
    session: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    output: str,
) -> None:
    """A name too long for the file system, or a missing folder whose name holds a newline or
    an escape: one 'Error: cannot write' line with the control characters shown as escapes,
    no 'unexpected' error, exit 1, no file made."""
    monkeypatch.chdir(tmp_path)
    before = files_in(tmp_path)
    args = ["export", session, "-o", output] if command == "export" else ["backup", "-o", output]
    code, out, err = run(*args)
    assert code == 1, out
    assert len(err.splitlines()) == 1 and err.startswith("Error: cannot write")
    assert "unexpected" not in err and "\x1b" not in err
    assert files_in(tmp_path) == before


def test_a_name_with_a_newline_is_written_and_reported_on_one_line(
    run: Run, session: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`backup -o 'nl<newline>x.zip'` writes that file (the person named it) and says so in
    one line, the newline shown as \\n, as export already does."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run("backup", "-o", "nl\nx.zip")
    assert code == 0, err
    assert out.strip() and len(out.splitlines()) == 1 and "nl\\nx.zip" in out
    assert (tmp_path / "nl\nx.zip").is_file()


def test_backup_to_dash_is_refused(
    run: Run, session: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`backup -o -` (standard output, for export) is refused in one line: the backup is a
    zip file, and no file named '-' is made."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run("backup", "-o", "-")
    assert code == 1 and len(err.splitlines()) == 1 and err.startswith("Error:")
    assert not (tmp_path / "-").exists() and out == ""


def test_the_tui_export_refuses_a_too_long_name_in_one_line(tmp_path: Path, run: Run) -> None:
    """export_to_file (the TUI's /session export) raises UsageError for a name too long for
    the file system, never an OSError."""
    ctx = AppContext.open(run.store)
    sid = ctx.manager.create("po", "Notes").id
    with pytest.raises(UsageError, match="cannot write"):
        export_to_file(ctx.manager, sid, "markdown", str(tmp_path / f"{TOO_LONG}.md"))
    with pytest.raises(UsageError, match="cannot write"):
        export_to_file(ctx.manager, sid, "markdown", str(tmp_path / TOO_LONG) + "/")
    ctx.manager.close()


def test_a_po_file_removed_during_a_backup_is_left_out(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PO file listed for the backup but removed before it is copied is left out, as a
    session deleted meanwhile is: the backup is written with the other files."""
    objects = run.store / "objects"
    objects.mkdir()
    (objects / "writer.md").write_text("---\nname: writer\n---\nYou write.\n")
    gone = objects / "critic.md"
    gone.write_text("---\nname: critic\n---\nFind faults.\n")
    real_glob = Path.glob

    def glob_then_remove(self: Path, pattern: str):
        found = list(real_glob(self, pattern))
        if self == objects:
            gone.unlink(missing_ok=True)
        return iter(found)

    monkeypatch.setattr(Path, "glob", glob_then_remove)
    target = tmp_path / "b.zip"
    ctx = AppContext.open(run.store)
    counts = backup_rules.write_backup(ctx.manager, target)
    ctx.manager.close()
    assert counts["objects"] == 1 and target.is_file()
