"""The claude-code importer: Claude Code's per-project JSON Lines transcripts, in the older shape
(sub-agent lines inside the parent's file, summaries) and the newer one (agent-<id>.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.importers.claude_code import ClaudeCodeImporter
from prompt_sessions.importing import ImportRun, Skipped

DATA = Path(__file__).parent / "data" / "import" / "claude-code"
PROJECT = DATA / "-home-ana-garden"
OLDER = PROJECT / "5b1f0c2e-8d4a-4f61-9a3e-2c7d1e0b9f44.jsonl"
NEWER = PROJECT / "9c3d2a1b-7e6f-4a5b-8c9d-0e1f2a3b4c5d.jsonl"
AGENT = PROJECT / "agent-a1b2c3d4.jsonl"


def load(path: Path) -> list:
    return list(ClaudeCodeImporter().load(path.read_bytes(), str(path)))


def test_turns_tools_thinking_usage_and_times() -> None:
    """User and assistant turns come in order; a reply streamed over three lines is one message
    with its thinking in metadata, its tool call, the last usage and the model; tool results
    are tool messages; hidden (isMeta) lines are left out."""
    main, delegation = load(OLDER)
    assert [(m.role, m.content) for m in main.history] == [
        ("user", "Write a script that prints my watering schedule."),
        ("assistant", "Let me look at your plants file first."),
        ("tool", "basil: daily\nfern: weekly"),
        ("assistant", ""),
        ("tool", "Two formats: daily and weekly."),
        ("assistant", "Here is the script:\n\n```python\nprint('basil: daily')\n```"),
        ("user", "Thanks!"),
    ]
    reply = main.history[1]
    assert reply.metadata == {"thinking": ["The user wants a small script."]}
    assert reply.tool_calls == [
        {
            "id": "toolu_01",
            "name": "Read",
            "arguments": {"file_path": "/home/ana/garden/plants.txt"},
        }
    ]
    assert reply.model == "claude-sonnet-4-20250514"
    assert (reply.usage.input_tokens, reply.usage.output_tokens, reply.usage.cached_tokens) == (
        112,
        52,
        40,
    )
    assert main.history[2].tool_results == [
        {"tool_call_id": "toolu_01", "content": "basil: daily\nfern: weekly"}
    ]
    assert reply.created_at == "2025-06-02T09:00:03.120Z"
    assert main.history[-1].created_at == "2025-06-02T09:01:00Z"
    assert main.created_at == "2025-06-02T09:00:00.000Z"


def test_session_name_metadata_and_source_id() -> None:
    """The summary names the session; cwd, version and branch are kept; the source id is the
    Claude Code session id."""
    main, _ = load(OLDER)
    assert main.name == "Watering schedule script"
    assert main.po_name == "claude-code"
    assert main.metadata["cwd"] == "/home/ana/garden"
    assert main.metadata["claude_code"] == {
        "session_id": "5b1f0c2e-8d4a-4f61-9a3e-2c7d1e0b9f44",
        "version": "1.0.51",
        "git_branch": "main",
        "summaries": ["Watering schedule script"],
    }
    assert main.metadata["import"] == {"source_id": "5b1f0c2e-8d4a-4f61-9a3e-2c7d1e0b9f44"}


def test_inline_sidechain_is_a_delegation_under_the_call() -> None:
    """Sub-agent lines in the parent's file become a delegation session whose parent is the
    main session, at the assistant message that made the Task call."""
    main, delegation = load(OLDER)
    assert delegation.thread_type == "delegation"
    assert delegation.parent_id == main.id
    assert delegation.parent_message_index == 3
    assert [m.content for m in delegation.history] == [
        "List the schedule formats in use.",
        "Two formats: daily and weekly.",
    ]


def test_newer_files_without_summary_are_named_from_the_first_message() -> None:
    """A newer transcript (no summary line, a file-history snapshot line) is named from its
    first user message."""
    (main,) = load(NEWER)
    assert main.name == "Ask a helper to count the plants."
    assert main.metadata["claude_code"]["version"] == "2.0.14"
    assert "git_branch" not in main.metadata["claude_code"]


def test_agent_file_lands_under_its_parent_copy(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """import --from claude-code reads ~/.claude/projects: the agent file's delegation is stored
    under the copy of the session that started it, at the message whose call started it; a
    second run finds every copy unchanged."""
    home = Path(run.store).parent / "home"
    (home / ".claude" / "projects").mkdir(parents=True)
    import shutil

    shutil.copytree(PROJECT, home / ".claude" / "projects" / PROJECT.name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    code, out, err = run("import", "--from", "claude-code")
    assert (code, err) == (0, ""), err
    assert out.count("Imported ") == 4
    sessions = {s["name"]: s for s in run.json("list", "--json")}
    parent = sessions["Ask a helper to count the plants. (imported)"]
    child = sessions["Count the plants in plants.txt. (imported)"]
    assert child["parent_id"] == parent["id"] and child["thread_type"] == "delegation"
    shown = run.json("show", child["id"], "--json")
    assert shown["parent_message_index"] == 1  # the reply whose Task call started it
    assert shown["metadata"]["import"]["source_id"].endswith("/agent-a1b2c3d4")
    again = run("import", "--from", "claude-code")
    assert again[1].count("Unchanged ") == 4 and len(run.json("list", "--json")) == 4


def test_dry_run_from_the_config_dir_variable(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """CLAUDE_CONFIG_DIR moves the default location; --dry-run lists and writes nothing."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(DATA.parent / "no-such-place"))
    code, _, err = run("import", "--from", "claude-code")
    assert code != 0 and "no claude-code files found" in err
    config = Path(run.store).parent / "cc"
    (config / "projects").mkdir(parents=True)
    (config / "projects" / "p").mkdir()
    (config / "projects" / "p" / NEWER.name).write_bytes(NEWER.read_bytes())
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    code, out, _ = run("import", "--from", "claude-code", "--dry-run")
    assert (code, out) == (
        0,
        "Would import 'Ask a helper to count the plants. (imported)' (4 messages)\n",
    )
    assert run.json("list", "--json") == []


def test_a_broken_line_is_skipped_and_the_rest_imported() -> None:
    """A line cut short (a transcript being written) or not JSON is one skipped line."""
    data = OLDER.read_bytes() + b'{"type": "user", "message": {"role": "us'
    found = list(ClaudeCodeImporter().load(data, None))
    skipped = [f for f in found if isinstance(f, Skipped)]
    assert [s.where for s in skipped] == ["line 14"]
    assert len(found) == 3 and len(found[0].history) == 7


def test_sniff_knows_its_lines_only() -> None:
    """sniff() takes a Claude Code transcript and refuses JSON of other tools."""
    importer = ClaudeCodeImporter()
    assert importer.sniff(OLDER.read_bytes(), None)
    assert importer.sniff(NEWER.read_bytes(), None)
    assert not importer.sniff(b'{"timestamp": "x", "type": "session_meta", "payload": {}}', None)
    assert not importer.sniff(json.dumps({"po_name": "x"}).encode(), None)


def test_reimport_of_a_grown_transcript_adds_its_new_lines(session_manager) -> None:
    """A transcript that grew since the last import adds only the new messages."""
    run = ImportRun(session_manager)
    lines = NEWER.read_bytes().splitlines(keepends=True)
    first = run.add(b"".join(lines[:-1]), "claude-code")
    again = ImportRun(session_manager).add(b"".join(lines), "claude-code")
    assert [(o.action, o.added) for o in again.outcomes] == [("updated", 1)]
    stored = session_manager.get(first.outcomes[0].session.id)
    assert stored.history[-1].content == "You have 2 plants."


def test_a_transcript_without_messages(run: Run, tmp_path: Path) -> None:
    """A transcript holding only a summary is passed over when found in a folder (exit 0, the
    others imported) and is a one-line error when named."""
    folder = tmp_path / "projects" / "p"
    folder.mkdir(parents=True)
    empty = folder / "0f0e0d0c-0b0a-4909-8807-060504030201.jsonl"
    empty.write_text('{"type": "summary", "summary": "Nothing yet", "leafUuid": "x"}\n')
    (folder / NEWER.name).write_bytes(NEWER.read_bytes())
    code, out, err = run("import", "--from", "claude-code", str(tmp_path / "projects"))
    assert (code, err) == (0, "") and out.count("Imported ") == 1
    code, out, err = run("import", str(empty), "--format", "claude-code")
    assert (code, out) == (1, "")
    assert err == f"Error: {empty}: the file holds no conversation\n"
