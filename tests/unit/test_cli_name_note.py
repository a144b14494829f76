"""new --name, rename, copy --to-po, import, duplicate and fork note a name that cannot name
the session in later commands (another session bears it, or an id starts with it), with the
id to use instead."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runner import Run


def test_a_second_session_of_one_name_is_noted(run: Run) -> None:
    """The second "Plan" is made, with a note giving its id; a unique name gets no note."""
    assert run("new", "po", "--name", "Plan")[2] == ""
    code, out, err = run("new", "other", "--name", "Plan", "--json")
    assert code == 0
    sid = run.json("list", "--po", "other", "--json")[0]["id"]
    assert err == (
        f"Note: another session is also called 'Plan': name this one by its id, {sid[:8]}\n"
    )


def test_a_rename_to_an_id_prefix_of_another_session_is_noted(run: Run) -> None:
    """Renaming a session to the first characters of another's id is kept, and noted."""
    first = run.json("new", "po", "--name", "One", "--json")["id"]
    run("new", "po", "--name", "Two")
    code, out, err = run("rename", "Two", first[:4])
    assert (code, out) == (0, f"Renamed 'Two' to '{first[:4]}'\n")
    assert err.startswith(f"Note: another session's id starts with '{first[:4]}'")
    assert run("rename", first[:8], "Uno")[2] == ""


BACKENDS = ["json", "sqlite"]


def _use(run: Run, backend: str) -> None:
    if backend == "sqlite":
        config = run.store / "config.toml"
        config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


def _made(out: str) -> str:
    """The id in a "Created 'NAME' (ID)" line."""
    found = re.search(r"\(([0-9a-f-]{36})\)", out)
    assert found is not None, out
    return found[1]


def _note(name: str, sid: str) -> str:
    return f"Note: another session is also called '{name}': name this one by its id, {sid[:8]}\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_copy_to_another_po_notes_the_shared_name(run: Run, backend: str) -> None:
    """copy --to-po keeps the name (DESIGN section 14), so the name alone now names two
    sessions: the copy is made and a note gives its id, in text and with --json; a bare
    name then is ambiguous, and the id the note gave names the copy."""
    _use(run, backend)
    run("new", "alpha", "--name", "Plan")
    code, out, err = run("copy", "Plan", "--to-po", "beta")
    copied = run.json("list", "--po", "beta", "--json")[0]["id"]
    assert code == 0 and out.startswith("Copied 'Plan' to beta (")
    assert err == _note("Plan", copied)
    code, out, err = run("copy", "Plan", "--po", "alpha", "--to-po", "gamma", "--json")
    again = json.loads(out)["id"]
    assert code == 0 and err == _note("Plan", again)
    assert run("show", "Plan")[0] == 1  # ambiguous, as the note said
    assert run.json("show", copied[:8], "--json")["po_name"] == "beta"


@pytest.mark.parametrize("backend", BACKENDS)
def test_import_notes_copies_whose_name_another_po_has(
    run: Run, tmp_path: Path, backend: str
) -> None:
    """An import names its copy uniquely within its PO only: a copy whose name another PO's
    session bears gets the note with its id; a dry run writes nothing and notes nothing; a
    copy with a name of its own gets no note."""
    _use(run, backend)
    run("new", "alpha", "--name", "Plan")
    path = tmp_path / "plan.json"
    assert run("export", "Plan", "-f", "json", "-o", str(path))[0] == 0
    code, out, err = run("import", "--po", "beta", str(path))
    assert code == 0 and err == ""  # "Plan (imported)": no other session has it
    assert run("import", "--dry-run", "--as-new", "--po", "gamma", str(path))[2] == ""
    code, out, err = run("import", "--as-new", "--po", "gamma", str(path), "--json")
    (copy,) = json.loads(out)
    assert code == 0 and copy["name"] == "Plan (imported)"
    assert err == _note("Plan (imported)", copy["id"])


def test_an_import_of_many_clashing_copies_notes_a_few_and_counts_the_rest(
    run: Run, tmp_path: Path
) -> None:
    """Five copies that share their names with other POs' sessions: three notes with their
    ids, then one line counting the two others (their ids are in the import's own lines)."""
    paths = []
    for n in range(5):
        run("new", f"po{n}", "--name", f"Plan {n}")
        paths.append(tmp_path / f"p{n}.json")
        assert run("export", f"Plan {n}", "-f", "json", "-o", str(paths[-1]))[0] == 0
    run("import", "--po", "beta", *map(str, paths))
    code, out, err = run("import", "--as-new", "--po", "gamma", *map(str, paths))
    lines = err.splitlines()
    assert code == 0 and len(lines) == 4 and out.count("Imported") == 5
    assert all(line.startswith("Note: another session is also called 'Plan ") for line in lines[:3])
    assert lines[3] == "Note: 2 more sessions share their name the same way; name them by their ids"


@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicate_and_fork_note_a_name_that_names_another(run: Run, backend: str) -> None:
    """duplicate and fork --name give a name that another session bears: noted with the new
    session's id; without --name the numbered name is unique and nothing is noted, unless
    another PO's session bears it already."""
    _use(run, backend)
    run("new", "alpha", "--name", "Plan")
    run("new", "beta", "--name", "Plan (copy)")
    code, out, err = run("duplicate", "Plan", "--name", "Plan")
    sid = _made(out)
    assert code == 0 and err == _note("Plan", sid)
    code, out, err = run("fork", sid, "--name", "Plan (copy)")
    assert code == 0 and err == _note("Plan (copy)", _made(out))
    code, out, err = run("duplicate", sid)  # "Plan (copy)" is taken in alpha now: numbered
    assert code == 0 and out.startswith("Created 'Plan (copy 2)' (") and err == ""
