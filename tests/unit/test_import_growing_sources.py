"""Importing a tool's file again while the tool still writes it (DESIGN section 16): whatever
stage each earlier import caught, the copy ends up as a fresh import of the finished file
would be, in every backend. A reply streamed over several lines (its text, tool calls and
usage written one after another) is completed in place, not added twice."""

from __future__ import annotations

import contextlib
from pathlib import Path

import msgspec
import pytest

from prompt_sessions.errors import ImportFormatError
from prompt_sessions.importing import ImportRun
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message

DATA = Path(__file__).parent / "data" / "import"
TRANSCRIPTS = [
    ("claude-code", next(DATA.glob("claude-code/*/5b1f*.jsonl"))),
    ("codex", next(DATA.glob("codex/2025/09/14/rollout-*.jsonl"))),
]


def _view(history: list[Message]) -> list[dict]:
    return [msgspec.to_builtins(msgspec.structs.replace(m, source=None)) for m in history]


@pytest.mark.parametrize("backend", ["json", "sqlite"])
@pytest.mark.parametrize(("fmt", "path"), TRANSCRIPTS, ids=[f for f, _ in TRANSCRIPTS])
def test_importing_every_stage_of_a_growing_file_ends_as_a_fresh_import(
    tmp_path: Path, backend: str, fmt: str, path: Path
) -> None:
    """The file is imported after each line the tool writes, then whole: every copy holds the
    same messages, with the same fields, as a fresh import of the whole file."""
    lines = path.read_bytes().splitlines(keepends=True)
    with SessionManager.open(tmp_path / ".prompt_objects", backend=backend) as manager:
        for end in range(1, len(lines)):
            with contextlib.suppress(ImportFormatError):  # no conversation yet
                ImportRun(manager).add(b"".join(lines[:end]), fmt, path.name)
        final = ImportRun(manager).add(b"".join(lines), fmt, path.name)
        fresh = ImportRun(manager, as_new=True, dry_run=True).add(b"".join(lines), fmt, path.name)
        assert len(final.outcomes) == len(fresh.outcomes)
        for outcome, wanted in zip(final.outcomes, fresh.outcomes, strict=True):
            stored = manager.get(outcome.session.id)
            assert _view(stored.history) == _view(wanted.session.history)
        again = ImportRun(manager).add(b"".join(lines), fmt, path.name)
        assert {o.action for o in again.outcomes} == {"unchanged"}


def test_a_reply_completed_after_a_message_added_here_is_added_not_replaced(
    session_manager: SessionManager,
) -> None:
    """When a message was added to the copy here since the import, the copy's last message is
    that one: the source's completed reply is added after it, and nothing here is replaced."""
    path = TRANSCRIPTS[0][1]
    lines = path.read_bytes().splitlines(keepends=True)
    first = ImportRun(session_manager).add(b"".join(lines[:3]), "claude-code", path.name)
    copy = first.outcomes[0].session
    session_manager.append(copy.id, Message(role="user", content="a note added here"))
    ImportRun(session_manager).add(b"".join(lines[:4]), "claude-code", path.name)
    history = session_manager.get(copy.id).history
    assert [m.content for m in history][2] == "a note added here"
    assert history[1].content == "" and history[3].content
