"""The marks of copies never stack (DESIGN section 5): a name that already ends in
" (imported)" or " (imported N)" is numbered on instead of marked again, and so are
" (copy)" and " (fork)" for duplicates and forks, on both backends; a dry run names the
copies as the real run does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions.copies import numbered

BACKENDS = ["json", "sqlite"]


def _use(run: Run, backend: str) -> None:
    if backend == "sqlite":
        config = run.store / "config.toml"
        config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


def _names(run: Run, po: str) -> list[str]:
    return sorted(s["name"] for s in run.json("list", "--po", po, "--json"))


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("Plan", set(), "Plan (imported)"),
        ("Plan", {"Plan (imported)"}, "Plan (imported 2)"),
        ("Plan (imported)", set(), "Plan (imported 2)"),
        ("Plan (imported)", {"Plan (imported 2)"}, "Plan (imported 3)"),
        ("Plan (imported 3)", set(), "Plan (imported 4)"),
        ("Plan (imported 3)", {"Plan (imported 4)", "Plan (imported 5)"}, "Plan (imported 6)"),
        ("Plan (imported) (copy)", set(), "Plan (imported) (copy) (imported)"),
        ("Plan (importedx)", set(), "Plan (importedx) (imported)"),
        ("Plan (imported ٣)", set(), "Plan (imported ٣) (imported)"),  # ASCII digits only
    ],
)
def test_numbered_continues_a_mark_the_name_has(name: str, taken: set[str], expected: str) -> None:
    """The mark is added once: a name ending in it, bare or numbered, gets the next number
    that is free; a name ending in another mark, or in something merely alike, is marked."""
    assert numbered(name, " (imported)", taken) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_importing_an_imported_session_numbers_it(run: Run, tmp_path: Path, backend: str) -> None:
    """A session named "Plan (imported)" (an earlier import), exported and imported again,
    becomes "Plan (imported 2)", not "Plan (imported) (imported)"; into its own PO, where
    that name is taken too, "Plan (imported 3)"; a dry run announces the same names."""
    _use(run, backend)
    run("new", "po", "--name", "Plan (imported)")
    run("new", "po", "--name", "Plan (imported 2)")
    path = tmp_path / "plan.json"
    assert run("export", "Plan (imported)", "-f", "json", "-o", str(path))[0] == 0
    code, dry, _ = run("import", "--dry-run", "--po", "other", str(path))
    assert code == 0 and dry.startswith("Would import 'Plan (imported 2)' (")
    code, out, _ = run("import", "--po", "other", str(path))
    assert code == 0 and out.startswith("Imported 'Plan (imported 2)' (")
    code, out, _ = run("import", "--as-new", str(path))
    assert code == 0 and out.startswith("Imported 'Plan (imported 3)' (")
    assert _names(run, "other") == ["Plan (imported 2)"]
    assert _names(run, "po") == ["Plan (imported 2)", "Plan (imported 3)", "Plan (imported)"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_markdown_import_of_an_imported_session_numbers_it(
    run: Run, tmp_path: Path, backend: str
) -> None:
    """The Markdown round trip names its copy by the same rule: "Notes (imported 4)" comes
    back as "Notes (imported 5)"."""
    _use(run, backend)
    run("new", "po", "--name", "Notes (imported 4)")
    run("send", "po", "hello", "--session", "Notes (imported 4)")
    path = tmp_path / "notes.md"
    assert run("export", "Notes (imported 4)", "-o", str(path))[0] == 0
    code, out, err = run("import", "--format", "markdown", "--po", "md", str(path))
    assert code == 0, err
    assert _names(run, "md") == ["Notes (imported 5)"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicates_and_forks_of_copies_are_numbered(run: Run, backend: str) -> None:
    """A duplicate of "Draft (copy)" is "Draft (copy 2)" and the next "Draft (copy 3)"; a fork
    of "Draft (fork)" is "Draft (fork 2)"; through the Python API as through the CLI."""
    _use(run, backend)
    run("new", "po", "--name", "Draft (copy)")
    run("new", "po", "--name", "Draft (fork)")
    code, out, _ = run("duplicate", "Draft (copy)")
    assert code == 0 and out.startswith("Created 'Draft (copy 2)' (")
    assert run("duplicate", "Draft (copy)")[1].startswith("Created 'Draft (copy 3)' (")
    assert run("fork", "Draft (fork)")[1].startswith("Created 'Draft (fork 2)' (")
    names = _names(run, "po")
    assert names == sorted(
        ["Draft (copy)", "Draft (copy 2)", "Draft (copy 3)", "Draft (fork)", "Draft (fork 2)"]
    )
    assert not [n for n in names if re.search(r"\)\s\(", n)]
