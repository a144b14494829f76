"""Names of copies cut to the 80-character limit (DESIGN section 5): the cut never leaves half
of a mark in parentheses (an earlier "(imported 7)"), on either backend, for imports,
duplicates and forks; a dry run names the copies as the real run does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_runner import Run

LONG = "N" * 67 + " (imported 7)"  # exactly 80 characters


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_copies_of_a_name_at_the_limit_hold_no_half_mark(
    run: Run, tmp_path: Path, backend: str
) -> None:
    """Twelve sessions named LONG in other POs, exported and imported into one PO: twelve
    distinct names of at most 80 characters, none with a stray "(", the same names a dry run
    announced; a duplicate and a fork of LONG are cut before its mark too."""
    if backend == "sqlite":
        assert run("config", "set", "storage.backend", "sqlite")[0] == 0
    files = []
    for n in range(12):
        assert run("new", f"po{n}", "--name", LONG)[0] == 0
        path = tmp_path / f"ex{n}.json"
        assert run("export", LONG, "--po", f"po{n}", "-f", "json", "-o", str(path))[0] == 0
        files.append(str(path))
    code, dry, err = run("import", "--dry-run", "--po", "dest", *files)
    assert code == 0, err
    code, out, err = run("import", "--po", "dest", *files)
    assert code == 0, err
    names = [s["name"] for s in run.json("list", "--po", "dest", "--json")]
    assert len(set(names)) == 12 and max(map(len, names)) <= 80
    assert not [n for n in names if "( (" in n or n.count("(") != n.count(")")]
    assert "N" * 67 + " (imported 8)" in names  # numbered on from its own mark, never stacked
    assert sorted(re.findall(r"^Would import '(.*)' \(", dry, re.M)) == sorted(names)
    run("duplicate", LONG, "--po", "po0")
    run("fork", LONG, "--po", "po0")
    copies = sorted(s["name"] for s in run.json("list", "--po", "po0", "--json"))
    assert copies == sorted([LONG, "N" * 67 + " (copy)", "N" * 67 + " (fork)"])
