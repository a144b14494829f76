"""The rules every importer follows (DESIGN section 16): metadata.import on each copy, a second
import adding only new messages to the earlier copy, --as-new, --dry-run, and the CLI's
one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import Run


def exported(run: Run, name: str = "Source", messages: int = 0) -> dict:
    run("new", "po", "--name", name)
    doc = run.json("show", name, "--json")
    doc["history"] = [
        {"role": "user", "content": f"message {i}", "created_at": f"2025-01-01T00:00:0{i}Z"}
        for i in range(messages)
    ]
    return doc


def imported(run: Run) -> list[dict]:
    return [s for s in run.json("list", "--json") if "(imported" in s["name"]]


def test_an_import_records_format_source_id_and_digest(run: Run, tmp_path: Path) -> None:
    """Each copy's metadata.import names the format, the session's id at the source and a
    digest of the messages taken."""
    doc = exported(run, messages=2)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    code, out, _ = run("import", str(path))
    assert code == 0 and out.startswith("Imported 'Source (imported)' (")
    (copy,) = imported(run)
    stamp = run.json("show", copy["id"], "--json")["metadata"]["import"]
    assert stamp["format"] == "json" and stamp["source_id"] == doc["id"]
    assert len(stamp["digest"]) == 32


def test_importing_again_adds_only_new_messages(run: Run, tmp_path: Path) -> None:
    """The same file twice leaves one copy ('Unchanged'); a grown file adds only the messages
    the copy lacks."""
    doc = exported(run, messages=2)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    run("import", str(path))
    code, out, _ = run("import", str(path))
    assert code == 0 and out.startswith("Unchanged 'Source (imported)' (") and "nothing new" in out
    (copy,) = imported(run)
    doc["history"].append(
        {"role": "assistant", "content": "new one", "created_at": "2025-01-01T00:00:09Z"}
    )
    path.write_text(json.dumps(doc))
    code, out, _ = run("import", str(path))
    assert code == 0 and out.rstrip().endswith("+1 message)")
    assert out.startswith(f"Updated 'Source (imported)' ({copy['id']}, ")
    history = run.json("show", copy["id"], "--json")["history"]
    assert [m["content"] for m in history] == ["message 0", "message 1", "new one"]
    assert len(imported(run)) == 1


def test_as_new_makes_a_fresh_copy(run: Run, tmp_path: Path) -> None:
    """--as-new imports a source seen before as a second, separate copy, numbered so that the
    two do not look alike in lists."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps(exported(run, messages=1)))
    run("import", str(path))
    code, out, _ = run("import", str(path), "--as-new")
    assert code == 0 and out.startswith("Imported 'Source (imported 2)'")
    assert len(imported(run)) == 2
    code, out, _ = run("import", str(path), "--as-new", "--dry-run")
    assert code == 0 and "'Source (imported 3)'" in out


def test_dry_run_lists_and_writes_nothing(run: Run, tmp_path: Path) -> None:
    """--dry-run says what would be imported or updated and leaves the store as it was."""
    doc = exported(run, messages=1)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    before = run.json("list", "--json")
    code, out, _ = run("import", str(path), "--dry-run")
    assert (code, out) == (0, "Would import 'Source (imported)' (1 message)\n")
    assert run.json("list", "--json") == before
    run("import", str(path))
    doc["history"].append({"role": "user", "content": "x", "created_at": "2025-01-02T00:00:00Z"})
    path.write_text(json.dumps(doc))
    code, out, _ = run("import", str(path), "--dry-run", "--json")
    (entry,) = json.loads(out)
    assert (entry["import"], entry["added"], entry["message_count"]) == ("updated", 1, 1)


def test_json_output_names_each_outcome(run: Run, tmp_path: Path) -> None:
    """--json gives each session's summary with what the import did with it."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps(exported(run, messages=1)))
    code, out, _ = run("import", str(path), "--json")
    (entry,) = json.loads(out)
    assert (code, entry["import"], entry["added"]) == (0, "new", 1)


def test_no_files_and_no_tool_is_a_usage_error(run: Run) -> None:
    """`import` with neither files nor --from says what to give, in one line."""
    code, out, err = run("import")
    assert code != 0 and out == ""
    assert err.strip().splitlines()[-1].startswith("Error: name the files to import")


def test_from_a_format_without_a_default_location_is_one_line(run: Run) -> None:
    """--from json has no folder of its own: one line saying to name the files."""
    code, _, err = run("import", "--from", "json")
    assert code != 0
    assert err.strip() == "Error: the json format has no default location; name the files"


def test_from_an_unknown_format_lists_the_known(run: Run) -> None:
    """--from NAME of no importer lists the known formats."""
    code, _, err = run("import", "--from", "nothing")
    assert code != 0 and "unknown import format 'nothing'" in err and "json" in err


def test_new_messages_follow_what_was_added_to_the_copy(session_manager) -> None:
    """Messages a person added to the imported copy stay; a later import appends the source's
    new messages after them, and nothing already there is added twice."""
    from prompt_sessions.importing import ImportRun
    from prompt_sessions.models import Message

    doc = {
        "id": "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        "name": "Source",
        "po_name": "po",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "history": [{"role": "user", "content": "a", "created_at": "2025-01-01T00:00:01Z"}],
    }
    copy = ImportRun(session_manager).add(json.dumps(doc).encode()).outcomes[0].session
    session_manager.append(copy.id, Message(role="user", content="mine"))
    doc["history"].append(
        {"role": "assistant", "content": "b", "created_at": "2025-01-01T00:00:02Z"}
    )
    report = ImportRun(session_manager).add(json.dumps(doc).encode())
    assert [(o.action, o.added) for o in report.outcomes] == [("updated", 1)]
    assert [m.content for m in session_manager.get(copy.id).history] == ["a", "mine", "b"]


def test_a_progress_bar_on_a_terminal_only(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing several files shows a progress bar on stderr when it is a terminal, and
    nothing extra when it is not."""
    import sys

    paths = []
    for i in range(3):
        path = tmp_path / f"s{i}.json"
        path.write_text(json.dumps(exported(run, name=f"S{i}", messages=1)))
        paths.append(str(path))
    code, _, err = run("import", *paths)
    assert (code, err) == (0, "")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    code, _, err = run("import", *paths, "--as-new")
    assert code == 0 and "Importing" in err


def test_the_manager_import_report_records_the_import_too(session_manager) -> None:
    """SessionManager.import_report (the API and /session import) also records
    metadata.import on every copy."""
    doc = {
        "id": "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        "name": "Source",
        "po_name": "po",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
    }
    (copy,) = session_manager.import_report(json.dumps(doc).encode()).sessions
    stamp = session_manager.get(copy.id).metadata["import"]
    assert (stamp["format"], stamp["source_id"]) == ("json", doc["id"])


def test_a_folder_needs_a_tool_and_formats_must_agree(run: Run, tmp_path: Path) -> None:
    """A folder without --from, and --from with a different --format, are one-line errors."""
    code, _, err = run("import", str(tmp_path))
    assert code != 0 and err.strip().endswith("is a folder; name a file")
    code, _, err = run("import", "--from", "codex", "--format", "json", str(tmp_path))
    assert code != 0 and err.strip() == "Error: --from codex and --format json disagree; give one"


def test_text_that_cannot_be_written_is_refused_before_the_write() -> None:
    """A session holding a lone surrogate (legal in Python, not in UTF-8) is refused by the
    import's check with a one-line reason, rather than failing mid-write."""
    from prompt_sessions.errors import ImportFormatError
    from prompt_sessions.importing import checked_session
    from prompt_sessions.models import Message, Session

    bad = Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="x",
        po_name="po",
        created_at="2025-01-01T00:00:00Z",
        updated_at="2025-01-01T00:00:00Z",
        history=[Message(role="user", content="a\ud800b", created_at="2025-01-01T00:00:00Z")],
    )
    with pytest.raises(ImportFormatError, match="cannot be stored as JSON"):
        checked_session(bad, "test")


def test_a_session_imported_from_its_two_exports_gets_two_names(run: Run, tmp_path: Path) -> None:
    """The JSON and the Markdown export of one session, both imported: two copies, named
    "(imported)" and "(imported 2)", so that they can be told apart and named in commands."""
    code, out, _ = run("new", "po", "--name", "Notes", "--json")
    run("send", "po", "hello")
    run("export", "Notes", "--format", "json", "-o", str(tmp_path / "n.json"))
    run("export", "Notes", "--format", "markdown", "-o", str(tmp_path / "n.md"))
    assert run("import", str(tmp_path / "n.json"))[0] == 0
    assert run("import", str(tmp_path / "n.md"))[0] == 0
    names = sorted(s["name"] for s in imported(run))
    assert names == ["Notes (imported 2)", "Notes (imported)"]
    assert run("show", "Notes (imported 2)")[0] == 0


def test_a_reimport_that_replaces_messages_says_so(run: Run, tmp_path: Path) -> None:
    """A source edited earlier than its end: the re-import says how many messages of the copy
    were replaced and names the fork that keeps them, not "+N messages" (as if only added)."""
    doc = exported(run, messages=3)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    run("import", str(path))
    doc["history"][1]["content"] = "changed at the source"
    path.write_text(json.dumps(doc))
    code, out, _ = run("import", str(path))
    assert code == 0, out
    assert "2 messages replaced by 2; the old path is kept in 'Source (imported) (before" in out
    code, out, _ = run("import", str(path), "--dry-run")
    assert "nothing new" in out
