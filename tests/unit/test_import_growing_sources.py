"""Importing a tool's file again while the tool still writes it (DESIGN section 16): whatever
stage each earlier import caught, the copy ends up as a fresh import of the finished file
would be, in every backend. A reply streamed over several lines (its text, tool calls and
usage written one after another) is completed in place, not added twice."""

from __future__ import annotations

import contextlib
import time
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


def _chat(branches: dict[str, list[str]], current: str = "a1") -> bytes:
    """An Open WebUI export of one chat: ``u1`` answered by ``a1`` and ``a2``, ``current``
    shown; each entry of ``branches`` continues the message it names with user messages of
    those ids."""
    nodes: dict[str, dict] = {
        "u1": {"parentId": None, "role": "user", "content": "hello", "timestamp": 1_700_000_000},
        "a1": {"parentId": "u1", "role": "assistant", "content": "one", "timestamp": 1_700_000_010},
        "a2": {"parentId": "u1", "role": "assistant", "content": "two", "timestamp": 1_700_000_020},
    }
    for at, ids in branches.items():
        for number, node_id in enumerate(ids):
            nodes[node_id] = {
                "parentId": at,
                "role": "user",
                "content": f"more {node_id}",
                "timestamp": 1_700_000_100 + number,
            }
            at = node_id
    for node_id, node in nodes.items():
        node["id"] = node_id
        node["childrenIds"] = [k for k, n in nodes.items() if n["parentId"] == node_id]
    history = {"currentId": current, "messages": nodes}
    record = {"id": "c1", "user_id": "u", "title": "T", "chat": {"title": "T", "history": history}}
    return msgspec.json.encode([record])


def test_an_open_webui_branch_continued_since_the_last_import_updates_its_fork(
    session_manager: SessionManager,
) -> None:
    """A branch (a regenerated answer) continued in Open WebUI after an import is known again
    by where it parts from the others, so its fork copy gets the new messages instead of a
    second fork beside it; a new branch off it is a fork of its own."""
    first = ImportRun(session_manager).add(_chat({}), "open-webui")
    assert [o.action for o in first.outcomes] == ["new", "new"]
    fork_id = first.outcomes[1].session.id
    grown = ImportRun(session_manager).add(_chat({"a2": ["u3", "u4"]}), "open-webui")
    assert [(o.action, o.added) for o in grown.outcomes] == [("unchanged", 0), ("updated", 2)]
    assert grown.outcomes[1].session.id == fork_id
    assert [m.content for m in session_manager.get(fork_id).history][-1] == "more u4"
    split = ImportRun(session_manager).add(_chat({"a2": ["u3", "u4"], "u3": ["u5"]}), "open-webui")
    assert [o.action for o in split.outcomes] == ["unchanged", "unchanged", "new"]
    assert len(session_manager.list()) == 3


def test_the_oldest_copy_takes_the_new_messages_however_recently_others_were_used(
    session_manager: SessionManager,
) -> None:
    """An ``--as-new`` copy, a duplicate or a rewind's fork carries the same import stamp as
    the first copy; a later import still adds the new messages to the first copy, even when
    one of the others was written to since and so comes first in lists."""
    path = TRANSCRIPTS[0][1]
    lines = path.read_bytes().splitlines(keepends=True)
    head = b"".join(lines[:-2])
    first = ImportRun(session_manager).add(head, "claude-code", path.name).outcomes[0].session
    time.sleep(0.01)  # imported_at has millisecond steps: the second copy is told apart by it
    again = ImportRun(session_manager, as_new=True).add(head, "claude-code", path.name)
    other = again.outcomes[0].session
    twin = session_manager.duplicate(first.id)
    for copy in (other, twin):
        session_manager.append(copy.id, Message(role="user", content="used here"))
    assert session_manager.list()[0].id in (other.id, twin.id)
    grown = ImportRun(session_manager).add(b"".join(lines), "claude-code", path.name)
    assert grown.outcomes[0].session.id == first.id
    assert grown.outcomes[0].action == "updated"
    assert len(session_manager.get(other.id).history) == len(first.history) + 1


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_a_source_that_switched_branch_is_followed_and_the_old_path_kept(
    tmp_path: Path, backend: str
) -> None:
    """Open WebUI showing another answer since the import (a regenerated reply chosen): the
    copy becomes that path, as a fresh import would make it, instead of holding both answers
    in a row; the path it held is kept in a fork first, so nothing is lost."""
    with SessionManager.open(tmp_path / ".prompt_objects", backend=backend) as manager:
        first = ImportRun(manager).add(_chat({}, current="a1"), "open-webui")
        main = first.outcomes[0].session
        switched = ImportRun(manager).add(_chat({}, current="a2"), "open-webui")
        assert (switched.outcomes[0].session.id, switched.outcomes[0].action) == (
            main.id,
            "updated",
        )
        assert [m.content for m in manager.get(main.id).history] == ["hello", "two"]
        kept = [s for s in manager.list() if s.parent_id == main.id and "re-import" in s.name]
        assert len(kept) == 1
        assert [m.content for m in manager.get(kept[0].id).history] == ["hello", "one"]
        again = ImportRun(manager).add(_chat({}, current="a2"), "open-webui")
        assert {o.action for o in again.outcomes} == {"unchanged"}


def test_a_copy_with_messages_added_here_is_never_cut(session_manager: SessionManager) -> None:
    """When the copy holds messages added here since the import, a source that switched
    branch only adds its new messages after them: what was written here stays in place."""
    first = ImportRun(session_manager).add(_chat({}, current="a1"), "open-webui")
    main = first.outcomes[0].session
    session_manager.append(main.id, Message(role="user", content="mine"))
    ImportRun(session_manager).add(_chat({}, current="a2"), "open-webui")
    assert [m.content for m in session_manager.get(main.id).history] == [
        "hello",
        "one",
        "mine",
        "two",
    ]


def test_a_last_message_edited_at_the_source_is_kept_not_overwritten(
    session_manager: SessionManager,
) -> None:
    """A source whose last message now says something else at the same time (edited, not
    still being written) does not overwrite the copy's message in place: the copy follows the
    source and the message it held is kept in the '(before re-import)' fork."""

    def export(text: str) -> bytes:
        message = {"role": "user", "content": text, "created_at": "2025-01-01T00:00:00Z"}
        session = {
            "id": "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
            "name": "n",
            "po_name": "p",
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "history": [message],
        }
        return msgspec.json.encode(session)

    first = ImportRun(session_manager).add(export("first words"), "json").outcomes[0].session
    ImportRun(session_manager).add(export("other words"), "json")
    assert [m.content for m in session_manager.get(first.id).history] == ["other words"]
    kept = [s for s in session_manager.list() if s.parent_id == first.id]
    assert [m.content for m in session_manager.get(kept[0].id).history] == ["first words"]


def _markdown_without_its_session_line(session_manager: SessionManager) -> bytes:
    session = session_manager.create(
        "po",
        "Notes",
        history=[Message(role="user", content="hi", created_at="2025-01-01T00:00:00Z")],
    )
    text = session_manager.export(session.id, "markdown")
    session_manager.backend.delete(session.id)
    lines = [line for line in str(text).splitlines(keepends=True) if "**Session:**" not in line]
    assert len(lines) < len(str(text).splitlines())
    return "".join(lines).encode()


@pytest.mark.parametrize("fmt", ["open-webui", "markdown", "gemini-cli"])
def test_a_conversation_without_an_id_is_found_again(
    session_manager: SessionManager, fmt: str
) -> None:
    """A conversation whose file gives it no id (an Open WebUI chat without one, a Markdown
    export whose Session line was taken out, a Gemini chat read without its file name) is
    known again by what does not change as it grows: a second import is ``unchanged``, not a
    second copy."""
    if fmt == "open-webui":
        chat = {"title": "T", "messages": [{"role": "user", "content": "hi", "timestamp": 1}]}
        data = msgspec.json.encode([{"user_id": "u", "title": "T", "chat": chat}])
    elif fmt == "markdown":
        data = _markdown_without_its_session_line(session_manager)
    else:
        data = msgspec.json.encode([{"role": "user", "parts": [{"text": "hi"}]}])
    first = ImportRun(session_manager).add(data, fmt)
    again = ImportRun(session_manager).add(data, fmt)
    assert [o.action for o in first.outcomes] == ["new"]
    assert [o.action for o in again.outcomes] == ["unchanged"]
    assert len(session_manager.list()) == 1


def test_an_older_file_of_the_same_conversation_changes_nothing(
    session_manager: SessionManager,
) -> None:
    """Importing an earlier state of a file after a later one (an older backup, say) finds
    nothing new: the copy is neither cut nor written, and no fork is made."""
    path = TRANSCRIPTS[0][1]
    lines = path.read_bytes().splitlines(keepends=True)
    whole = ImportRun(session_manager).add(b"".join(lines), "claude-code", path.name)
    copy = whole.outcomes[0].session
    stored = session_manager.session_path(copy.id)
    assert stored is not None
    before = stored.read_bytes()
    older = ImportRun(session_manager).add(b"".join(lines[:-2]), "claude-code", path.name)
    assert [(o.action, o.added) for o in older.outcomes] == [("unchanged", 0), ("unchanged", 0)]
    assert stored.read_bytes() == before
    assert len(session_manager.list()) == len(whole.outcomes)


@pytest.mark.parametrize(
    ("po", "said"),
    [
        ("", "Error: PO name must not be empty\n"),
        ("a/b", "Error: invalid PO name 'a/b': no slashes or control characters\n"),
        ("p" * 201, f"Error: invalid PO name '{'p' * 40}…': at most 200 characters\n"),
    ],
)
def test_a_bad_po_is_refused_even_when_every_conversation_updates_a_copy(
    run, tmp_path: Path, po: str, said: str
) -> None:
    """``--po`` names a PO for new copies; a bad one is one ``Error:`` line before anything is
    read, also when the file only updates copies imported before (which keep their PO)."""
    path = TRANSCRIPTS[0][1]
    assert run("import", str(path))[0] == 0
    before = run.json("list", "--json")
    code, out, err = run("import", "--po", po, str(path))
    assert (code, out, err) == (1, "", said)
    assert run.json("list", "--json") == before


def test_messages_taken_out_of_the_copy_here_do_not_come_back(
    session_manager: SessionManager,
) -> None:
    """A copy rewound here (its later messages kept in a fork) gets only what the source
    gained since the last import: the messages the rewind took out are not added again."""
    path = TRANSCRIPTS[0][1]
    lines = path.read_bytes().splitlines(keepends=True)
    head = b"".join(lines[:-2])
    first = ImportRun(session_manager).add(head, "claude-code", path.name).outcomes[0].session
    session_manager.rewind(first.id, 2)
    grown = ImportRun(session_manager).add(b"".join(lines), "claude-code", path.name)
    fresh = ImportRun(session_manager, as_new=True, dry_run=True).add(
        b"".join(lines), "claude-code", path.name
    )
    whole = fresh.outcomes[0].session.history
    assert [(o.action, o.added) for o in grown.outcomes][0] == ("updated", 2)
    history = session_manager.get(first.id).history
    assert _view(history) == _view(first.history[:2] + whole[len(first.history) :])


@pytest.mark.parametrize("at", [-5, 999])
def test_a_branch_point_outside_the_parent_is_dropped(
    session_manager: SessionManager, at: int
) -> None:
    """A fork in a JSON file whose ``parent_message_index`` is no place in its parent
    (negative, or past the parent's last message) is stored under the parent's copy without
    one, instead of with a number no reader can use."""
    parent = {
        "id": "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        "name": "parent",
        "po_name": "p",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "history": [{"role": "user", "content": "one", "created_at": "2025-01-01T00:00:00Z"}],
    }
    child = {
        **parent,
        "id": "7f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        "name": "child",
        "thread_type": "fork",
        "parent_id": parent["id"],
        "parent_message_index": at,
    }
    report = ImportRun(session_manager).add(msgspec.json.encode([parent, child]), "json")
    stored = session_manager.get(report.outcomes[1].session.id)
    assert stored.parent_id == report.outcomes[0].session.id
    assert stored.parent_message_index is None
