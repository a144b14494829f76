"""send, new, copy --to-po and import --po name a PO that has no file while others have one
(most often a typo): the command still works for that bare PO, and one note on stderr says so
and names the closest PO."""

from __future__ import annotations

from cli_runner import Run


def _po_files(run: Run, *names: str) -> None:
    folder = run.store / "objects"
    folder.mkdir()
    for name in names:
        (folder / f"{name}.md").write_text(f"---\nname: {name}\n---\nYou are {name}.\n")


def test_send_to_a_mistyped_po_notes_the_closest_one(run: Run) -> None:
    """send cordinator answers (a bare PO) and the note names coordinator; a second send to
    the same PO, which now has a session, says nothing more."""
    _po_files(run, "coordinator", "writer")
    code, out, err = run("send", "cordinator", "hi")
    assert (code, out) == (0, "You said: hi\n")
    assert err == (
        "Note: no PO file for 'cordinator' (did you mean 'coordinator'? the POs: coordinator, "
        "writer); it answers as a bare PO, without a system prompt\n"
    )
    assert run("send", "cordinator", "again") == (0, "You said: again\n", "")


def test_new_for_a_po_without_a_file_notes_it(run: Run) -> None:
    """new zzz makes the session and notes that zzz has no PO file, listing the POs."""
    _po_files(run, "coordinator")
    code, out, err = run("new", "zzz", "--name", "Try")
    assert code == 0 and out.startswith("Created 'Try'")
    assert err == (
        "Note: no PO file for 'zzz' (the POs: coordinator); it answers as a bare PO, "
        "without a system prompt\n"
    )


def test_no_note_for_a_po_with_a_file_or_without_any_po_files(run: Run) -> None:
    """A PO with its file, and any PO in an environment with no PO files at all (bare POs
    only, DESIGN section 3), get no note."""
    assert run("send", "anyone", "hi") == (0, "You said: hi\n", "")
    _po_files(run, "coordinator")
    assert run("send", "coordinator", "hi") == (0, "You said: hi\n", "")
    assert run("new", "coordinator")[2] == ""


def test_an_invalid_po_name_gets_its_error_and_no_note(run: Run) -> None:
    """An empty PO name or one with a slash is the one-line error alone, without a note."""
    _po_files(run, "coordinator")
    for po in ("", " ", "bad/po"):
        code, out, err = run("new", po)
        assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1, err
        code, out, err = run("send", po, "hi")
        assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1, err


def test_copy_and_import_to_a_mistyped_po_note_it(run: Run, tmp_path) -> None:
    """copy --to-po writter and import --po writter go on for that bare PO, with the note
    naming writer (the copies would otherwise look orphaned with no word why)."""
    _po_files(run, "coordinator", "writer")
    run("new", "coordinator", "--name", "Draft")
    code, out, err = run("copy", "Draft", "--to-po", "writter")
    assert code == 0
    assert err.startswith("Note: no PO file for 'writter' (did you mean 'writer'?")
    run(
        "export", "Draft", "--po", "coordinator", "--format", "json", "-o", str(tmp_path / "d.json")
    )
    code, out, err = run("import", str(tmp_path / "d.json"), "--po", "writtr")
    assert code == 0
    assert err.startswith("Note: no PO file for 'writtr' (did you mean 'writer'?")
    code, out, err = run("import", str(tmp_path / "d.json"), "--po", "writer", "--as-new")
    assert code == 0 and "no PO file" not in err  # a known PO (the shared name is noted)
