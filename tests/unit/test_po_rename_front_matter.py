"""``po rename OLD NEW`` and the PO file's front matter (DESIGN section 14 "Moving between
POs"): a ``name: OLD`` line becomes ``name: NEW`` (that one line, every other byte kept) and
``objects/OLD.md`` becomes ``objects/NEW.md``, so the PO is called NEW and its sessions are
not orphaned; a front matter that cannot be edited safely is left as it is with a one-line
note naming the line to edit; a run cut short is finished by running it again."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.manager import SessionManager
from prompt_sessions.objects import load_prompt_objects
from prompt_sessions.organise import po_file
from prompt_sessions.plugins import PluginHost

DEMO = Path(__file__).parents[2] / ".prompt_objects"


def _manager(run: Run) -> SessionManager:
    return SessionManager.open(run.store, host=PluginHost.create(entry_points=False))


def _objects(run: Run) -> Path:
    folder = run.store / "objects"
    folder.mkdir(exist_ok=True)
    return folder


def _sessions_of(run: Run, po: str, count: int = 2) -> list[str]:
    with _manager(run) as manager:
        return [manager.create(po, f"S{i}").id for i in range(count)]


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_the_demo_environment_po_renamed_is_whole(run: Run, backend: str) -> None:
    """In a copy of the demo environment, renaming the writer PO gives objects/author.md that
    differs from writer.md only in its name line; the PO is called author, its sessions
    follow and none is orphaned; the coordinator, which calls it, calls author (that list
    item alone changed); the answer says what was done to each file."""
    shutil.rmtree(run.store)
    shutil.copytree(DEMO, run.store)
    if backend == "sqlite":
        config = run.store / "config.toml"
        config.write_text(config.read_text().replace('backend = "json"', 'backend = "sqlite"'))
    before = (run.store / "objects" / "writer.md").read_bytes()
    assert b"\nname: writer\n" in before
    caller = (run.store / "objects" / "coordinator.md").read_bytes()
    assert b"\n  - writer\n" in caller
    ids = _sessions_of(run, "writer")
    _sessions_of(run, "reviewer", 1)
    code, out, err = run("po", "rename", "writer", "author")
    assert (code, err) == (0, "")
    assert out == (
        "Moved 2 sessions to author\n"
        "changed 'writer' to 'author' in the capabilities of coordinator.md\n"
        "renamed writer.md to author.md and set its front matter to 'name: author'\n"
    )
    assert (run.store / "objects" / "coordinator.md").read_bytes() == caller.replace(
        b"\n  - writer\n", b"\n  - author\n"
    )
    objects = load_prompt_objects(run.store)
    assert objects["coordinator"].capabilities == ["researcher", "author", "reviewer"]
    assert all(c in objects for po in objects.values() for c in po.capabilities)
    assert not (run.store / "objects" / "writer.md").exists()
    after = (run.store / "objects" / "author.md").read_bytes()
    assert after == before.replace(b"\nname: writer\n", b"\nname: author\n")
    assert sorted(load_prompt_objects(run.store)) == [
        "author",
        "coordinator",
        "researcher",
        "reviewer",
    ]
    assert run.json("list", "--orphaned", "--json") == []
    listed = run.json("list", "--po", "author", "--json")
    assert sorted(s["id"] for s in listed) == sorted(ids)
    assert not any(s.get("orphaned") for s in run.json("list", "--json"))


HAND_MADE = {
    "comments and order": (
        b"---\n# who this is\ndescription: d  # short\nname: old   # the PO's name\n"
        b"options:\n  name: inner\ncapabilities: [read]\n---\nBody\n---\nname: old\n",
        b"---\n# who this is\ndescription: d  # short\nname: new   # the PO's name\n"
        b"options:\n  name: inner\ncapabilities: [read]\n---\nBody\n---\nname: old\n",
    ),
    "byte-order mark and CRLF": (
        b"\xef\xbb\xbf---\r\nname: old\r\ndescription: d\r\n---\r\nHi.\r\n",
        b"\xef\xbb\xbf---\r\nname: new\r\ndescription: d\r\n---\r\nHi.\r\n",
    ),
    "single quotes": (b"---\nname: 'old'\n---\nHi.\n", b"---\nname: 'new'\n---\nHi.\n"),
    "double quotes": (b'---\nname:  "old"\n---\nHi.\n', b'---\nname:  "new"\n---\nHi.\n'),
    "no body": (b"---\nname: old\n---", b"---\nname: new\n---"),
    "trailing blanks": (b"---\nname: old  \n---\nHi.\n", b"---\nname: new  \n---\nHi.\n"),
}


@pytest.mark.parametrize("case", sorted(HAND_MADE))
def test_hand_made_front_matter_gets_the_new_name_and_nothing_else(run: Run, case: str) -> None:
    """The name line alone changes, its spacing, quotes and comment kept; comments, key order,
    other fields (a nested name: too), the body, a byte-order mark and CRLF line ends are kept
    byte for byte, and the file's mode too."""
    given, expected = HAND_MADE[case]
    old_file = _objects(run) / "old.md"
    old_file.write_bytes(given)
    old_file.chmod(0o644)
    _sessions_of(run, "old", 1)
    code, out, _ = run("po", "rename", "old", "new")
    assert code == 0 and "set its front matter to 'name: new'" in out
    new_file = run.store / "objects" / "new.md"
    assert new_file.read_bytes() == expected
    assert new_file.stat().st_mode & 0o777 == 0o644
    assert list(load_prompt_objects(run.store)) == ["new"]
    assert run.json("list", "--orphaned", "--json") == []


@pytest.mark.parametrize(
    ("new", "written"),
    [("123", b"'123'"), ("yes", b"'yes'"), ("a: b", b"'a: b'"), ("#x", b"'#x'"), ("it's", b"it's")],
)
def test_a_new_name_yaml_would_misread_is_quoted(run: Run, new: str, written: bytes) -> None:
    """A new name that as a plain YAML value would read as a number, a truth value, a
    mapping or a comment is written quoted (one that reads as itself stays plain), so the PO
    loads under exactly that name."""
    (_objects(run) / "old.md").write_bytes(b"---\nname: old\n---\nHi.\n")
    _sessions_of(run, "old", 1)
    code, out, err = run("po", "rename", "old", new)
    assert (code, err) == (0, "")
    assert (run.store / "objects" / f"{new}.md").read_bytes() == (
        b"---\nname: " + written + b"\n---\nHi.\n"
    )
    assert list(load_prompt_objects(run.store)) == [new]


UNSAFE = {
    "anchor": (b"---\nname: &n old\ntitle: *n\n---\nHi.\n", "line 2"),
    "tag": (b"---\nname: !!str old\n---\nHi.\n", "line 2"),
    "block": (b"---\nname: >-\n  old\n---\nHi.\n", "line 2"),
    "escape": (b'---\nname: "ol\\x64"\n---\nHi.\n', "line 2"),
    "quoted key": (b'---\ndescription: d\n"name": old\n---\nHi.\n', "line 3"),
    "flow mapping": (b"---\n{name: old, description: d}\n---\nHi.\n", "its front matter"),
    "twice": (b"---\nname: x\nname: old\n---\nHi.\n", "line 2"),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_a_front_matter_that_cannot_be_edited_safely_is_left_with_a_note(
    run: Run, case: str
) -> None:
    """A name that is not one plain (or simply quoted) value on its own line is left as it
    is, the file not renamed either; the sessions move, and one line says which line to change
    by hand. After that edit the sessions are the PO's again."""
    given, where = UNSAFE[case]
    old_file = _objects(run) / "old.md"
    old_file.write_bytes(given)
    _sessions_of(run, "old", 1)
    code, out, err = run("po", "rename", "old", "new")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Moved 1 session to new",
        f"{old_file} still names PO 'old': change {where} to 'name: new' by hand",
    ]
    assert old_file.read_bytes() == given
    assert not (run.store / "objects" / "new.md").exists()
    report = run.json("po", "rename", "old", "new", "--json")  # nothing more to move
    assert report["sessions"] == [] and "by hand" in report["file"]


def test_a_po_file_of_another_name_gets_the_new_name_in_place(run: Run) -> None:
    """A PO named in the front matter of a file called otherwise has that line changed; the
    file keeps its name (it never was OLD.md)."""
    (_objects(run) / "helper.md").write_bytes(b"---\nname: old\n---\nHi.\n")
    _sessions_of(run, "old", 1)
    code, out, _ = run("po", "rename", "old", "new")
    assert code == 0 and out.splitlines()[1] == "set 'name: new' in the front matter of helper.md"
    assert (run.store / "objects" / "helper.md").read_bytes() == b"---\nname: new\n---\nHi.\n"
    assert run.json("list", "--orphaned", "--json") == []


def test_a_file_already_named_new_is_refused(run: Run) -> None:
    """Another PO file that already names the PO NEW is refused before anything changes."""
    (_objects(run) / "old.md").write_bytes(b"---\nname: old\n---\nHi.\n")
    (_objects(run) / "other.md").write_bytes(b"---\nname: new\n---\nHi.\n")
    _sessions_of(run, "old", 1)
    code, out, err = run("po", "rename", "old", "new")
    assert (code, out) == (1, "") and "is PO 'new' already" in err and err.count("\n") == 1
    assert [s["po_name"] for s in run.json("list", "--json")] == ["old"]
    assert (run.store / "objects" / "old.md").read_bytes() == b"---\nname: old\n---\nHi.\n"


@pytest.mark.parametrize("file_name", ["old.md", "helper.md"])
def test_a_rename_cut_short_before_the_file_is_finished_by_running_it_again(
    run: Run, monkeypatch: pytest.MonkeyPatch, file_name: str
) -> None:
    """Cut short after the callers' capabilities were changed and the sessions moved but
    before the PO file was touched, running the command again edits and renames the file;
    the sessions and the callers stay as they are."""
    path = _objects(run) / file_name
    path.write_bytes(b"---\nname: old\n---\nHi.\n")
    caller = _objects(run) / "boss.md"
    caller.write_bytes(b"---\ncapabilities: [old]\n---\nHi.\n")
    ids = _sessions_of(run, "old")

    class CutShort(Exception):
        """The process stopping there (a crash, a kill)."""

    def cut(*args: object) -> str:
        raise CutShort

    monkeypatch.setattr(po_file, "rename_po_file", cut)
    with _manager(run) as manager, pytest.raises(CutShort):
        manager.rename_po("old", "new")
    monkeypatch.undo()
    assert path.read_bytes() == b"---\nname: old\n---\nHi.\n"
    code, out, err = run("po", "rename", "old", "new")
    assert (code, err) == (0, "")
    assert out.startswith("Moved 0 sessions to new\n")
    kept = "new.md" if file_name == "old.md" else file_name
    assert (run.store / "objects" / kept).read_bytes() == b"---\nname: new\n---\nHi.\n"
    assert caller.read_bytes() == b"---\ncapabilities: [new]\n---\nHi.\n"
    assert sorted(s["id"] for s in run.json("list", "--po", "new", "--json")) == sorted(ids)
    assert run.json("list", "--orphaned", "--json") == []


def test_a_rename_cut_short_after_the_edit_is_finished_by_running_it_again(run: Run) -> None:
    """Cut short after the name line was edited but before objects/OLD.md was renamed (the PO
    already called NEW), running the command again renames the file and changes nothing else."""
    path = _objects(run) / "old.md"
    path.write_bytes(b"---\nname: new\n---\nHi.\n")
    _sessions_of(run, "new", 1)
    code, out, err = run("po", "rename", "old", "new")
    assert (code, err) == (0, "")
    assert out == "Moved 0 sessions to new\nrenamed old.md to new.md\n"
    assert (run.store / "objects" / "new.md").read_bytes() == b"---\nname: new\n---\nHi.\n"
    code, _, err = run("po", "rename", "old", "new")
    assert code == 1 and err.startswith("Error: there is no PO 'old'")


def test_the_json_answer_says_what_was_done_to_the_file(run: Run) -> None:
    """po rename --json gives the moved sessions and the sentence about the file."""
    (_objects(run) / "old.md").write_bytes(b"---\nname: old\n---\nHi.\n")
    _sessions_of(run, "old", 1)
    report = run.json("po", "rename", "old", "new", "--json")
    assert [s["po_name"] for s in report["sessions"]] == ["new"]
    assert report["file"] == "renamed old.md to new.md and set its front matter to 'name: new'"
    assert json.loads(json.dumps(report))  # plain JSON
    assert os.path.exists(run.store / "objects" / "new.md")


CALLERS = {
    "block list": (
        b"---\nname: boss\ncapabilities:\n  - old  # the old one\n  - search\n---\nold\n",
        b"---\nname: boss\ncapabilities:\n  - new  # the old one\n  - search\n---\nold\n",
    ),
    "unindented list, CRLF and a byte-order mark": (
        b"\xef\xbb\xbf---\r\ncapabilities:\r\n- search\r\n- old\r\nname: boss\r\n---\r\nHi\r\n",
        b"\xef\xbb\xbf---\r\ncapabilities:\r\n- search\r\n- new\r\nname: boss\r\n---\r\nHi\r\n",
    ),
    "flow list": (
        b"---\nname: boss\ncapabilities: [search, old ,x]\n---\nHi\n",
        b"---\nname: boss\ncapabilities: [search, new ,x]\n---\nHi\n",
    ),
}


@pytest.mark.parametrize("case", sorted(CALLERS))
def test_the_pos_that_call_it_call_it_by_its_new_name(run: Run, case: str) -> None:
    """Another PO listing OLD in its capabilities lists NEW instead: that item alone changes,
    in a block list (indented or not) or a one-line flow list, comments, a byte-order mark,
    CRLF and the body (which may say the old name) kept."""
    given, expected = CALLERS[case]
    (_objects(run) / "old.md").write_bytes(b"---\nname: old\n---\nHi.\n")
    (_objects(run) / "boss.md").write_bytes(given)
    code, out, err = run("po", "rename", "old", "new")
    assert (code, err) == (0, "")
    assert "changed 'old' to 'new' in the capabilities of boss.md" in out.splitlines()
    assert (run.store / "objects" / "boss.md").read_bytes() == expected
    assert load_prompt_objects(run.store)["boss"].capabilities.count("new") == 1


@pytest.mark.parametrize(
    ("given", "where"),
    [
        (b'---\nname: boss\ncapabilities:\n  - "old"\n---\nHi\n', "line 3"),
        (b"---\nname: boss\ncapabilities: &c [old]\nmore: *c\n---\nHi\n", "line 3"),
    ],
    ids=["quoted item", "anchor"],
)
def test_a_caller_that_cannot_be_edited_safely_gets_a_note(
    run: Run, given: bytes, where: str
) -> None:
    """A capabilities list whose item is not plainly written is left as it is, with one line
    naming the line to change by hand; the rename itself goes on."""
    (_objects(run) / "old.md").write_bytes(b"---\nname: old\n---\nHi.\n")
    caller = _objects(run) / "boss.md"
    caller.write_bytes(given)
    code, out, err = run("po", "rename", "old", "new")
    assert (code, err) == (0, "")
    assert f"{caller} lists 'old' in its capabilities: change {where} to 'new' by hand" in (
        out.splitlines()
    )
    assert caller.read_bytes() == given
    assert (run.store / "objects" / "new.md").exists()
