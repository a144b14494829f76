"""--dir given a project folder (one that holds a .prompt_objects/ environment and none of an
environment's own files) is refused in one line naming the folder to use; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def test_dir_of_a_project_folder_names_its_environment(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    """list, send and the TUI (no command) with --dir PROJECT, where PROJECT/.prompt_objects is
    the environment, fail with one Error line that names PROJECT/.prompt_objects; PROJECT gets
    no file and the environment's session stays where it was."""
    assert run("send", "coordinator", "hello")[0] == 0
    project = run.store.parent
    before = sorted(p.name for p in project.iterdir())
    said = f"Error: {project} holds no environment but {run.store} does: use --dir {run.store}\n"
    for args in (["list"], ["send", "coordinator", "more"], []):
        assert _run(capsys, "--dir", str(project), *args) == (1, "", said)
    assert sorted(p.name for p in project.iterdir()) == before
    assert [s["message_count"] for s in run.json("list", "--json")] == [2]


@pytest.mark.parametrize("marker", ["config.toml", "sessions", "objects", "trash"])
def test_a_folder_that_is_an_environment_is_used_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], marker: str
) -> None:
    """A folder holding an environment's file is the environment, even with a .prompt_objects/
    inside it; a new folder with no .prompt_objects/ is an empty environment (DESIGN section 3)."""
    (tmp_path / ".prompt_objects").mkdir()
    (tmp_path / marker).mkdir() if marker != "config.toml" else (tmp_path / marker).write_text("")
    assert _run(capsys, "--dir", str(tmp_path), "list") == (0, "No sessions.\n", "")
    assert _run(capsys, "--dir", str(tmp_path / "new"), "list") == (0, "No sessions.\n", "")
