"""A path written with a trailing ``/`` names a folder (README: ``-o DIR``): an export or a
backup goes into it as a new file, and a missing folder is refused in one line, never taken as
a file name (in the CLI and in the TUI's ``/session export``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions.commands.actions import export_to_file
from prompt_sessions.errors import UsageError
from prompt_sessions.outputs import folder_asked


def test_folder_asked() -> None:
    """An existing folder with or without the slash; a file path; a missing folder refused."""
    assert folder_asked("/") == Path("/")
    assert folder_asked("/tmp") == Path("/tmp")
    assert folder_asked("/tmp/no-such-file.md") is None
    with pytest.raises(UsageError, match="no such folder"):
        folder_asked("/tmp/no-such-folder-x1/")


@pytest.mark.parametrize("command", [["export", "One"], ["backup"]])
def test_cli_refuses_a_missing_folder_and_writes_nothing(
    run: Run, tmp_path: Path, command: list[str]
) -> None:
    """``-o missing/`` exits 1 with one line and makes no file of that name."""
    assert run("new", "po", "--name", "One")[0] == 0
    missing = tmp_path / "exports"
    code, _, err = run(*command, "-o", f"{missing}/")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "no such folder" in err
    assert not missing.exists()


@pytest.mark.parametrize("command", [["export", "One"], ["backup"]])
def test_cli_writes_a_new_file_into_an_existing_folder(
    run: Run, tmp_path: Path, command: list[str]
) -> None:
    """``-o folder/`` that exists: one new file in it."""
    assert run("new", "po", "--name", "One")[0] == 0
    folder = tmp_path / "exports"
    folder.mkdir()
    code, _, err = run(*command, "-o", f"{folder}/")
    assert code == 0, err
    assert len(list(folder.iterdir())) == 1


def test_tui_export_refuses_a_missing_folder(run: Run, tmp_path: Path) -> None:
    """The TUI's export (``/session export json path/``) follows the same rule."""
    from prompt_sessions.manager import SessionManager

    mgr = SessionManager.open(run.store)
    session = mgr.create("po", "One")
    with pytest.raises(UsageError, match="no such folder"):
        export_to_file(mgr, session.id, "json", f"{tmp_path / 'nope'}/")
    assert not (tmp_path / "nope").exists()
    mgr.close()
