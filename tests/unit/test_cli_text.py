"""What the command line prints for people (without --json): tables, transcripts, listings."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions import limits
from prompt_sessions.cli.output import when
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost


def _manager(run: Run) -> SessionManager:
    return SessionManager.open(run.store, host=PluginHost.create(entry_points=False))


def test_list_on_an_empty_store_says_so(run: Run) -> None:
    """No sessions is a sentence, not an empty table."""
    code, out, _ = run("list")
    assert (code, out) == (0, "No sessions.\n")


def test_list_table_marks_current_sessions_and_archived_ones(run: Run) -> None:
    """One row per session under a header; a star marks each PO's current session."""
    run("new", "coordinator", "--name", "Older")
    run("new", "coordinator", "--name", "Current one")
    run("new", "writer", "--name", "Shelved")
    run("archive", "Shelved")
    code, out, _ = run("list", "--all")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "NAME", "PO", "MSGS", "UPDATED"]
    by_name = {
        name: next(row for row in rows if f"  {name}  " in row)
        for name in ("Older", "Current one", "Shelved")
    }
    assert len(rows) == 3
    marks = {name: row[0] for name, row in by_name.items()}
    assert marks == {"Older": " ", "Current one": "*", "Shelved": "*"}
    assert by_name["Shelved"].endswith("(archived)")
    assert not by_name["Older"].endswith("(archived)")


def test_list_table_cuts_long_names(run: Run) -> None:
    """Names longer than the name column end in an ellipsis; the row keeps its width."""
    long_name = "A very long session name that goes on and on past forty"
    run("new", "coordinator", "--name", long_name)
    _, out, _ = run("list")
    row = out.splitlines()[1]
    assert long_name not in row
    assert long_name[:39] + "…" in row


def test_show_prints_a_transcript_with_speakers_and_flags(run: Run) -> None:
    """show: the PO and name, the counts and times, then each message under its speaker."""
    mgr = _manager(run)
    session = mgr.create("coordinator", "Transcript")
    mgr.append(
        session.id, Message(role="user", content="question", created_at="2025-01-03T10:00:00.000Z")
    )
    mgr.append(session.id, Message(role="assistant", content="answer"))
    mgr.append(session.id, Message(role="assistant", content="from a helper", from_po="researcher"))
    mgr.append(session.id, Message(role="system", content="a note"))
    mgr.append(session.id, Message(role="assistant", content="cut off", incomplete=True))
    mgr.close()
    code, out, _ = run("show", "Transcript")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "coordinator: Transcript"
    assert lines[1].startswith(f"id {session.id} · 5 messages · created ")
    speakers = [line.split(" · ")[0] for line in lines[2:] if " · " in line]
    assert speakers == ["you", "coordinator", "researcher", "system", "coordinator"]
    assert f"you · {when('2025-01-03T10:00:00.000Z')}" in lines
    assert any(
        line.startswith("coordinator · ") and line.endswith(" (incomplete)") for line in lines
    )
    assert lines[-1] == "cut off"


def test_show_prints_tool_calls_and_results_a_message_holds(run: Run) -> None:
    """A reply that only calls tools is not a blank: a delegation shows as ``-> PO: message``
    (as ``send`` and the TUI show it), any other call with its arguments, and results the
    message's text does not already hold."""
    mgr = _manager(run)
    session = mgr.create("coordinator", "Tools")
    mgr.append(session.id, Message(role="user", content="plan it"))
    calls = [
        {"id": "c1", "name": "researcher", "arguments": {"message": "find\nthe dates"}},
        {"id": "c2", "name": "clock", "arguments": {"zone": "UTC"}},
    ]
    mgr.append(session.id, Message(role="assistant", content="", tool_calls=calls))
    mgr.append(
        session.id,
        Message(
            role="tool",
            content="May 3",
            tool_results=[{"tool_call_id": "c1", "content": "May 3"}],
        ),
    )
    mgr.append(
        session.id,
        Message(role="tool", content="", tool_results=[{"tool_call_id": "c2", "content": "12:00"}]),
    )
    mgr.close()
    code, out, _ = run("show", "Tools")
    assert code == 0
    lines = out.splitlines()
    assert "-> researcher: find\\nthe dates" in lines  # one line: its newline made visible
    assert '-> clock {"zone": "UTC"}' in lines
    assert lines.count("May 3") == 1  # the result the text already says is not said twice
    assert "result for c2: 12:00" in lines


def test_timestamps_show_in_local_time_and_odd_ones_as_they_are() -> None:
    """A stored UTC time is shown as local 'YYYY-MM-DD HH:MM'; text that is no time is kept."""
    assert len(when("2025-01-03T10:00:00.000Z")) == len("2025-01-03 10:00")
    assert when("not a time") == "not a time"


def test_search_text_names_where_each_hit_is(run: Run) -> None:
    """search: one line per hit saying whether the name or which message matched, then a snippet."""
    mgr = _manager(run)
    named = mgr.create("coordinator", "Fox hunt")
    inside = mgr.create("writer", "Story")
    mgr.append(inside.id, Message(role="user", content="once upon a time"))
    mgr.append(inside.id, Message(role="assistant", content="the quick brown fox"))
    mgr.close()
    code, out, _ = run("search", "fox")
    assert code == 0
    lines = out.splitlines()
    assert any(
        line.startswith(named.id[:8]) and "coordinator: Fox hunt  (name, " in line for line in lines
    )
    assert any(
        line.startswith(inside.id[:8]) and "writer: Story  (message 2, " in line for line in lines
    )
    assert "    the quick brown fox" in lines
    assert run("search", "badger") == (0, "No matches.\n", "")


def test_send_refuses_an_empty_message(run: Run) -> None:
    """A blank MESSAGE is a usage error and stores nothing."""
    code, _, err = run("send", "coordinator", "   ")
    assert code == 2 and "MESSAGE is empty" in err
    assert all(s["message_count"] == 0 for s in run.json("list", "--json"))


def test_new_and_session_commands_say_what_they_did(run: Run) -> None:
    """Each session command answers with one line naming the session it touched."""
    code, out, _ = run("new", "coordinator", "--name", "Plain")
    assert code == 0 and out.startswith("Created 'Plain' (") and out.endswith(") for coordinator\n")
    assert run("archive", "Plain")[1] == "Archived 'Plain'\n"
    assert run("archive", "Plain", "--undo")[1] == "Restored 'Plain'\n"
    assert run("duplicate", "Plain", "--name", "Copy")[1].startswith("Created 'Copy' (")
    assert run("fork", "Plain", "--name", "Branch")[1].endswith("with 0 messages\n")
    said = run("delete", "Copy", "--yes")[1]
    assert said.startswith(
        "Deleted 'Copy' (moved to the trash; undo with: prompt-sessions restore "
    )


def test_plugins_without_external_ones_points_at_all(run: Run) -> None:
    """plugins: with only built-ins installed, a sentence pointing at --all; --all lists them."""
    code, out, _ = run("plugins")
    assert (code, out) == (0, "No external plugins installed. (--all shows the built-ins)\n")
    code, out, _ = run("plugins", "--all")
    lines = out.splitlines()
    assert code == 0 and lines
    names = lines[0::2]
    hooks = lines[1::2]
    assert all(name.endswith(" (built-in)") for name in names)
    assert all(line.startswith("  hooks: ") for line in hooks)
    assert any("register_exporters" in line for line in hooks)


def test_plugins_reports_a_plugin_that_cannot_be_found(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin named in PROMPT_SESSIONS_PLUGINS but not installed is reported on stderr."""
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "not-installed-anywhere")
    code, _, err = run("plugins")
    assert code == 0
    assert "Broken plugin not-installed-anywhere:" in err


def test_config_get_prints_tables_as_json_and_values_as_toml_reads_them(run: Run) -> None:
    """A table prints as JSON; numbers and booleans print as JSON values; text prints as is."""
    run("config", "set", "responders.echo.awaiting_input", "true")
    run("config", "set", "responders.echo.chunk_delay_ms", "5")
    run("config", "set", "ui.frontend", "tui")
    assert run("config", "get", "ui.frontend")[1] == "tui\n"
    assert run("config", "get", "responders.echo.awaiting_input")[1] == "true\n"
    code, out, _ = run("config", "get", "responders.echo")
    assert code == 0 and out.strip() == '{"chunk_delay_ms":5,"awaiting_input":true}'


def test_import_text_lists_what_it_imported(run: Run, tmp_path: Path) -> None:
    """import without --json: one line per imported session with its message count."""
    run("new", "coordinator", "--name", "Source")
    run("send", "coordinator", "hello")
    exported = tmp_path / "source.json"
    run("export", "Source", "--format", "json", "-o", str(exported))
    code, out, _ = run("import", str(exported))
    assert code == 0
    assert out.startswith("Imported 'Source (imported)' (") and out.endswith(", 2 messages)\n")


def test_import_of_an_unreadable_or_oversized_file_fails_for_that_file_only(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file is all-or-nothing: a missing one and one over the size limit are named in an
    error line, the good one is imported, and the exit code says something failed."""
    run("new", "coordinator", "--name", "Good")
    good = tmp_path / "good.json"
    run("export", "Good", "--format", "json", "-o", str(good))
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    monkeypatch.setattr(limits, "MAX_IMPORT_BYTES", 1024)
    code, out, err = run("import", str(tmp_path / "missing.json"), str(big), str(good))
    assert code == 1
    assert f"Error: {tmp_path / 'missing.json'}: cannot read it: No such file or directory" in err
    assert f"Error: {big}: 2,048 bytes; the limit is 1,024 bytes" in err
    assert out.count("Imported ") == 1


def test_list_columns_line_up_after_emoji_and_cjk_names(run: Run) -> None:
    """Names with a family emoji, CJK characters or an accent do not shift the PO column:
    widths are counted in terminal cells, and a long name is cut between graphemes."""
    from prompt_sessions.cells import cell_len

    family = "👨‍👩‍👧‍👦"
    long = "a" + "日" * 18 + family * 6  # 49 cells: cut at 40, where a family stands
    names = ["plain", f"{family} trip", "日本語のセッション名", "e\u0301tude", long]
    for name in names:
        run("new", "coordinator", "--name", name)
    code, out, _ = run("list")
    assert code == 0
    header, *rows = out.splitlines()
    start = cell_len(header[: header.index("PO")])
    for row in rows:
        at = row.index("coordinator")
        assert cell_len(row[:at]) == start, row
    longest = next(row for row in rows if "a日日" in row)
    assert "…" in longest and longest.count(family) == 1
    assert "\u200d" not in longest.replace(family, "")  # no family cut in half


def test_list_marks_the_session_send_would_use_after_the_current_one_is_deleted(
    run: Run,
) -> None:
    """With the current session deleted no choice is left, and ``send`` uses the PO's most
    recent session: ``list`` stars that one, and ``prune --empty`` keeps it."""
    run("new", "coordinator", "--name", "Older")
    run("new", "coordinator", "--name", "Current one")
    assert run("delete", "Current one", "--yes")[0] == 0
    code, out, _ = run("list")
    assert code == 0
    (row,) = [r for r in out.splitlines() if "  Older  " in r]
    assert row.startswith("*")
    code, out, _ = run("prune", "--empty", "--yes")
    assert code == 0
    assert [s["name"] for s in run.json("list", "--json")] == ["Older"]
    assert run("send", "coordinator", "hi")[0] == 0
    assert [s["message_count"] for s in run.json("list", "--json")] == [2]
