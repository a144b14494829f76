"""Hostile inputs to ``import`` as files on disk (DESIGN section 16): pipes, devices and files
that grow while read are held to the size limit, and every problem is one ``Error:`` line."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions import limits

CLAUDE_LINES = (
    b'{"type":"user","sessionId":"s1","uuid":"u1","timestamp":"2025-01-01T00:00:00Z",'
    b'"message":{"role":"user","content":"hello there"}}\n'
)


def _feed(fifo: Path, data: bytes) -> threading.Thread:
    def write() -> None:
        # The reader may stop at the limit, before all of it is written.
        with contextlib.suppress(BrokenPipeError), fifo.open("wb") as stream:
            stream.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_device_with_no_end_is_cut_at_the_size_limit(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/dev/zero has size 0 and never ends: the import reads one byte past the limit and says
    so in one line, instead of reading until memory runs out."""
    monkeypatch.setattr(limits, "MAX_IMPORT_BYTES", 4096)
    code, out, err = run("import", "--format", "claude-code", "/dev/zero")
    assert code == 1
    assert err.startswith("Error: /dev/zero: ") and "limit is 4,096 bytes" in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_a_pipe_is_read_and_held_to_the_size_limit(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipe (as a shell's ``<(command)`` gives) is imported when it holds a transcript, and
    refused in one line when it carries more than the limit."""
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    writer = _feed(fifo, CLAUDE_LINES)
    code, out, err = run("import", "--format", "claude-code", str(fifo))
    writer.join(5)
    assert code == 0, err
    assert out.startswith("Imported 'hello there (imported)'")

    monkeypatch.setattr(limits, "MAX_IMPORT_BYTES", len(CLAUDE_LINES) * 3)
    writer = _feed(fifo, CLAUDE_LINES * 10)
    code, out, err = run("import", "--format", "claude-code", str(fifo))
    writer.join(5)
    assert code == 1
    assert err.startswith(f"Error: {fifo}: ") and "limit" in err
    assert len(run.json("list", "--json")) == 1


def test_the_session_import_command_is_held_to_the_limit_too(
    session_manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/session import`` (``actions.import_file``) reads through the same bounded read as
    the CLI: /dev/zero is refused with the limit named, nothing is written."""
    from prompt_sessions.commands import actions
    from prompt_sessions.errors import ImportFormatError

    monkeypatch.setattr(limits, "MAX_IMPORT_BYTES", 4096)
    with pytest.raises(ImportFormatError, match="limit is 4,096 bytes"):
        actions.import_file(session_manager, "/dev/zero")
    assert session_manager.list() == []
