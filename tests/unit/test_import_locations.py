"""``import --from FORMAT`` without files reads the tool's own folder (DESIGN section 16); when
nothing is there, the one-line error names the folder it looked in and the environment variable
that moves it, for every format that has a default location."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import Run

# format -> (the variable that moves its folder, the folder read under it, the folder read
# under the home directory when the variable is unset)
FOLDERS = {
    "claude-code": ("CLAUDE_CONFIG_DIR", "projects", ".claude/projects"),
    "codex": ("CODEX_HOME", "sessions", ".codex/sessions"),
    "gemini-cli": ("GEMINI_CLI_HOME", ".gemini/tmp", ".gemini/tmp"),
    "llm": ("LLM_USER_PATH", "", ".config/io.datasette.llm"),
    "prompt-objects": ("PROMPT_OBJECTS_HOME", "", ".prompt_objects"),
}


@pytest.fixture
def home(run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home directory with none of the tools' variables set."""
    folder = Path(run.store).parent / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    for variable, _, _ in FOLDERS.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return folder


@pytest.mark.parametrize("fmt", sorted(FOLDERS))
def test_nothing_at_home_names_the_folder_and_its_variable(run: Run, home: Path, fmt: str) -> None:
    """With no variable set, the error names the folder under the home directory that was
    read and the variable that would move it, in one line."""
    variable, _, under_home = FOLDERS[fmt]
    code, out, err = run("import", "--from", fmt)
    assert code == 1 and out == ""
    assert err.strip() == (
        f"Error: no {fmt} files found in {home / under_home} (no such folder); "
        f"set {variable} to read another folder, or name the files or folders to read"
    )


@pytest.mark.parametrize("fmt", sorted(FOLDERS))
def test_nothing_where_the_variable_points_names_that_folder(
    run: Run, home: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the variable set to an existing, empty folder, the error names the folder read
    under it (which exists or not) and the variable."""
    variable, inside, _ = FOLDERS[fmt]
    moved = home / "elsewhere"
    moved.mkdir()
    monkeypatch.setenv(variable, str(moved))
    code, _, err = run("import", "--from", fmt)
    looked = moved / inside if inside else moved
    state = "" if looked.is_dir() else " (no such folder)"
    assert code == 1
    assert err.strip() == (
        f"Error: no {fmt} files found in {looked}{state}; "
        f"set {variable} to read another folder, or name the files or folders to read"
    )
    assert not list(Path(run.store).glob("sessions/*"))  # nothing written


@pytest.mark.parametrize("fmt", sorted(FOLDERS))
def test_a_named_folder_without_the_tools_files_is_named(run: Run, home: Path, fmt: str) -> None:
    """A folder given on the command line that holds none of the format's files is an error
    naming it, not a silent success."""
    empty = home / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a transcript")
    code, out, err = run("import", "--from", fmt, str(empty))
    assert code == 1 and out == ""
    assert err.strip() == (
        f"Error: no {fmt} files found in {empty}; name the files or folders to read"
    )
