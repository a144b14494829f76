"""Paths that are symbolic link loops or links to nothing, given to every command that takes a
path: one line naming the link and what is wrong with it (``path_links``), never the system's
"No such file" or "Too many levels of symbolic links", with the exit code of that command's
other bad paths (1 for the command's own checks, 2 for click's usage errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.cli import main
from prompt_sessions.commands.actions import import_file
from prompt_sessions.errors import UsageError
from prompt_sessions.manager import SessionManager


@pytest.fixture
def links(tmp_path: Path) -> dict[str, Path]:
    """``loop`` links to itself, ``dangling`` to a name that does not exist, ``folder`` is a
    folder."""
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    dangling = tmp_path / "dangling"
    dangling.symlink_to("nowhere")
    folder = tmp_path / "folder"
    folder.mkdir()
    return {"loop": loop, "dangling": dangling, "folder": folder}


def bare(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``prompt-sessions ARGS`` without the fixture's ``--dir``: exit code and stderr."""
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    return code, capsys.readouterr().err


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


LOOP = "{} is a symbolic link loop"
NOWHERE = "{} is a symbolic link to nowhere, which does not exist"


@pytest.mark.parametrize("args", [[], ["--format", "json"], ["--from", "codex"]])
def test_import_of_a_link_loop_says_so(run: Run, links: dict[str, Path], args: list[str]) -> None:
    """``import [--format F | --from F] loop``: the loop is named, in one line, exit 1."""
    code, out, err = run("import", *args, str(links["loop"]))
    assert (code, out, err) == (1, "", f"Error: {LOOP.format(links['loop'])}\n")


def test_import_through_a_link_loop_names_the_loop(run: Run, links: dict[str, Path]) -> None:
    """A file under the loop (``loop/a.json``): the loop is the part named."""
    code, _, err = run("import", str(links["loop"] / "a.json"))
    assert (code, err) == (1, f"Error: {LOOP.format(links['loop'])}\n")


def test_import_of_a_link_to_nothing_names_its_target(run: Run, links: dict[str, Path]) -> None:
    """``import dangling``: the link and the missing name it points to, not "No such file"."""
    code, _, err = run("import", str(links["dangling"]))
    assert (code, err) == (1, f"Error: {NOWHERE.format(links['dangling'])}\n")


def test_import_of_a_folder_asks_for_a_file(run: Run, links: dict[str, Path]) -> None:
    """A folder where a file is expected: its own one line, exit 1."""
    code, _, err = run("import", str(links["folder"]))
    assert (code, err) == (1, f"Error: {links['folder']} is a folder; name a file\n")


def test_export_to_a_link_loop_says_so(run: Run, links: dict[str, Path]) -> None:
    """``export -o loop`` and ``-o loop/x.md`` name the loop; nothing is written."""
    run("new", "po", "--name", "S")
    for target in (links["loop"], links["loop"] / "x.md"):
        code, out, err = run("export", "S", "-o", str(target))
        assert (code, out, err) == (1, "", f"Error: {LOOP.format(links['loop'])}\n")


def test_export_through_a_link_to_nothing_writes_its_target(
    run: Run, links: dict[str, Path]
) -> None:
    """``export -o dangling`` writes the file the link names, as a shell's ``>`` does: a link
    to nothing is a file not written yet, not an error."""
    run("new", "po", "--name", "S")
    code, _, err = run("export", "S", "-o", str(links["dangling"]), "--format", "json")
    assert code == 0, err
    assert json.loads((links["dangling"].parent / "nowhere").read_text())["name"] == "S"


def test_backup_to_a_link_loop_says_so(run: Run, links: dict[str, Path]) -> None:
    """``backup -o loop``: the loop is named, exit 1."""
    code, _, err = run("backup", "-o", str(links["loop"]))
    assert (code, err) == (1, f"Error: {LOOP.format(links['loop'])}\n")


@pytest.mark.parametrize(("name", "said"), [("loop", LOOP), ("dangling", NOWHERE)])
def test_restore_backup_of_a_bad_link_says_what_it_is(
    run: Run, links: dict[str, Path], name: str, said: str
) -> None:
    """``restore-backup loop`` and ``restore-backup dangling``: a usage error naming the link
    (exit 2, as for a missing file), where click said "does not exist"."""
    code, _, err = run("restore-backup", str(links[name]))
    assert code == 2
    assert last_line(err) == f"Error: Invalid value for 'FILE': {said.format(links[name])}"


def test_restore_backup_of_a_folder_says_it_is_one(run: Run, links: dict[str, Path]) -> None:
    """A folder where the zip is expected: click's usage error, which says so."""
    code, _, err = run("restore-backup", str(links["folder"]))
    assert code == 2 and last_line(err).endswith("is a directory.")


@pytest.mark.parametrize(("name", "said"), [("loop", LOOP), ("dangling", NOWHERE)])
def test_dir_that_is_a_bad_link_says_what_it_is(
    capsys: pytest.CaptureFixture[str], links: dict[str, Path], name: str, said: str
) -> None:
    """``--dir loop list`` and ``--dir dangling list``: a usage error naming the link (exit 2,
    as for ``--dir`` naming a file), where it said "cannot read .../config.toml: Too many
    levels of symbolic links" or that the link "is a file"."""
    code, err = bare(capsys, "--dir", str(links[name]), "list")
    assert code == 2
    assert last_line(err) == f"Error: Invalid value for '--dir': {said.format(links[name])}"


@pytest.mark.parametrize(("name", "said"), [("loop", LOOP), ("dangling", NOWHERE)])
def test_env_dir_variable_that_is_a_bad_link_says_what_it_is(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    links: dict[str, Path],
    name: str,
    said: str,
) -> None:
    """``PROMPT_OBJECTS_DIR`` naming a bad link: one line naming it, exit 1."""
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "")
    monkeypatch.setenv("PROMPT_OBJECTS_DIR", str(links[name]))
    code, err = bare(capsys, "list")
    assert (code, err) == (1, f"Error: {said.format(links[name])}\n")


def test_migrate_to_a_link_loop_says_so(run: Run, links: dict[str, Path]) -> None:
    """``migrate --to-dir loop``: a usage error naming the loop, exit 2."""
    code, _, err = run("migrate", "--to", "sqlite", "--to-dir", str(links["loop"]))
    assert code == 2
    assert last_line(err) == f"Error: Invalid value for '--to-dir': {LOOP.format(links['loop'])}"


@pytest.mark.parametrize(("name", "said"), [("loop", LOOP), ("dangling", NOWHERE)])
def test_slash_import_of_a_bad_link_says_what_it_is(
    session_manager: SessionManager, links: dict[str, Path], name: str, said: str
) -> None:
    """``/session import loop`` in the TUI (``actions.import_file``): the same line."""
    with pytest.raises(UsageError) as raised:
        import_file(session_manager, links[name])
    assert str(raised.value) == said.format(links[name])


TRANSCRIPT = (
    '{"type":"user","uuid":"u1","sessionId":"s1","timestamp":"2025-06-02T09:00:00.000Z",'
    '"cwd":"/x","message":{"role":"user","content":"hello"}}\n'
)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("claude-code", "{}.jsonl"),
        ("codex", "rollout-{}.jsonl"),
        ("gemini-cli", "chats/session-{}.json"),
    ],
)
def test_bad_links_in_a_folder_read_by_from_are_named(
    run: Run, tmp_path: Path, fmt: str, name: str
) -> None:
    """``import --from FORMAT folder`` where links in the folder bear the tool's file names but
    lead nowhere (a loop, a link to nothing): each is named with what is wrong with it, in one
    line, instead of being passed over as if it were not there; exit 1."""
    folder = tmp_path / "tool"
    (folder / "chats").mkdir(parents=True)
    loop, gone = folder / name.format("loop"), folder / name.format("gone")
    loop.symlink_to(loop.name)
    gone.symlink_to("nowhere")
    code, out, err = run("import", "--from", fmt, str(folder))
    assert (code, out) == (1, "")
    assert sorted(err.splitlines()) == [
        f"Error: {gone}: it is a symbolic link to nowhere, which does not exist",
        f"Error: {loop}: it is a symbolic link loop",
    ]


def test_bad_links_beside_a_transcript_do_not_stop_its_import(run: Run, tmp_path: Path) -> None:
    """The transcripts that can be read are imported; the bad links beside them are named."""
    folder = tmp_path / "projects"
    folder.mkdir()
    (folder / "real.jsonl").write_text(TRANSCRIPT)
    (folder / "loop.jsonl").symlink_to("loop.jsonl")
    code, out, err = run("import", "--from", "claude-code", str(folder))
    assert code == 1
    assert out.startswith("Imported 'hello (imported)' (")
    assert err == f"Error: {folder / 'loop.jsonl'}: it is a symbolic link loop\n"
    assert [s["name"] for s in json.loads(run("list", "--json")[1])] == ["hello (imported)"]
