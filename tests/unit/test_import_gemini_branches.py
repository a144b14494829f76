"""Gemini CLI's saved chats and checkpoints keep no message times: importing one again after
the chat was rewound and continued there makes the copy follow the new branch, its old path
kept in a '(before re-import)' fork, as for every other format (DESIGN sections 14 and 16).
Messages are matched by role and text, so a file saved again (a new file time) is the same."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cli_runner import Run
from prompt_sessions.importing import ImportRun, RunReport
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message

Turns = list[tuple[str, str]]
START: Turns = [("user", "u1"), ("model", "a1"), ("user", "u2"), ("model", "a2")]
REWOUND: Turns = [("user", "u1"), ("model", "a1"), ("user", "u3"), ("model", "a3")]

# The three files that hold contents without times: a bare /chat save, a wrapped one, and a
# /restore checkpoint (contents under clientHistory).
SHAPES = {
    "saved": lambda contents: contents,
    "wrapped": lambda contents: {"history": contents},
    "checkpoint": lambda contents: {"clientHistory": contents, "toolCall": {"name": "replace"}},
}


def save(path: Path, turns: Turns, when: int, shape: str = "saved") -> Path:
    """Write ``turns`` as Gemini CLI would, the file's time set to ``when`` (epoch seconds)."""
    contents = [{"role": role, "parts": [{"text": text}]} for role, text in turns]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(SHAPES[shape](contents)))
    os.utime(path, (when, when))
    return path


def add(manager: SessionManager, path: Path, *, dry_run: bool = False) -> RunReport:
    return ImportRun(manager, dry_run=dry_run).add(path.read_bytes(), "gemini-cli", str(path))


def texts(history: list[Message]) -> list[str]:
    return [m.content for m in history]


def forks_of(manager: SessionManager, session_id: str) -> list[Any]:
    return [s for s in manager.list() if s.parent_id == session_id]


@pytest.fixture(params=["json", "sqlite"])
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    with SessionManager.open(tmp_path / ".prompt_objects", backend=request.param) as opened:
        yield opened


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_rewound_and_continued_chat_is_followed_and_the_old_path_kept(
    manager: SessionManager, tmp_path: Path, shape: str
) -> None:
    """The chat rewound after its first reply and continued: the copy becomes the new branch
    (as a fresh import would), its old path is kept in one '(before re-import)' fork that
    records the branch point, and importing the same file again changes nothing."""
    name = "checkpoints/2025-08-10-x.json" if shape == "checkpoint" else "checkpoint-plans.json"
    path = save(tmp_path / "4f2a9c" / name, START, 1_700_000_000, shape)
    copy = add(manager, path).outcomes[0].session
    save(path, REWOUND, 1_700_000_600, shape)
    dry = add(manager, path, dry_run=True)
    assert [(o.action, o.added) for o in dry.outcomes] == [("updated", 2)]
    assert texts(manager.get(copy.id).history) == ["u1", "a1", "u2", "a2"]  # nothing written
    report = add(manager, path)
    assert [(o.session.id, o.action, o.added) for o in report.outcomes] == [(copy.id, "updated", 2)]
    assert texts(manager.get(copy.id).history) == ["u1", "a1", "u3", "a3"]
    (fork,) = forks_of(manager, copy.id)
    assert "(before re-import)" in fork.name
    kept = manager.get(fork.id)
    assert texts(kept.history) == ["u1", "a1", "u2", "a2"]
    assert kept.parent_message_index == 2
    assert [o.action for o in add(manager, path).outcomes] == ["unchanged"]
    assert len(manager.list()) == 2


def test_a_chat_that_grew_then_switched_branch_is_followed(
    manager: SessionManager, tmp_path: Path
) -> None:
    """Growing first (new turns added at the file's new time) does not stop a later branch
    switch from being followed; and a second switch is followed again, each old path kept."""
    path = save(tmp_path / "p" / "checkpoint-t.json", START[:2], 1_700_000_000)
    copy = add(manager, path).outcomes[0].session
    save(path, START, 1_700_000_100)
    assert [(o.action, o.added) for o in add(manager, path).outcomes] == [("updated", 2)]
    assert texts(manager.get(copy.id).history) == ["u1", "a1", "u2", "a2"]
    save(path, REWOUND, 1_700_000_200)
    assert [(o.action, o.added) for o in add(manager, path).outcomes] == [("updated", 2)]
    assert texts(manager.get(copy.id).history) == ["u1", "a1", "u3", "a3"]
    save(path, [("user", "u0"), ("model", "a0")], 1_700_000_300)
    assert [(o.action, o.added) for o in add(manager, path).outcomes] == [("updated", 2)]
    assert texts(manager.get(copy.id).history) == ["u0", "a0"]
    kept = sorted(texts(manager.get(f.id).history) for f in forks_of(manager, copy.id))
    assert kept == [["u1", "a1", "u2", "a2"], ["u1", "a1", "u3", "a3"]]


def test_a_chat_saved_again_unchanged_is_unchanged(manager: SessionManager, tmp_path: Path) -> None:
    """The same chat saved again (only the file's time differs) is 'unchanged' and writes
    nothing, once it has been followed as well as before."""
    path = save(tmp_path / "p" / "checkpoint-t.json", START, 1_700_000_000)
    copy = add(manager, path).outcomes[0].session
    save(path, START, 1_700_000_900)
    assert [(o.action, o.added) for o in add(manager, path).outcomes] == [("unchanged", 0)]
    save(path, REWOUND, 1_700_001_000)
    add(manager, path)
    before = msgspec.json.encode(manager.get(copy.id))
    save(path, REWOUND, 1_700_002_000)
    assert [(o.action, o.added) for o in add(manager, path).outcomes] == [("unchanged", 0)]
    assert msgspec.json.encode(manager.get(copy.id)) == before


def test_a_copy_with_messages_added_here_is_never_cut(
    manager: SessionManager, tmp_path: Path
) -> None:
    """A copy continued here since the import is not cut when the chat switched branch: the
    source's new messages are added after what was written here, nothing is forked."""
    path = save(tmp_path / "p" / "checkpoint-t.json", START, 1_700_000_000)
    copy = add(manager, path).outcomes[0].session
    manager.append(copy.id, Message(role="user", content="mine"))
    save(path, REWOUND, 1_700_000_600)
    add(manager, path)
    assert texts(manager.get(copy.id).history) == ["u1", "a1", "u2", "a2", "mine", "u3", "a3"]
    assert forks_of(manager, copy.id) == []


def test_messages_taken_out_of_the_copy_here_do_not_come_back(
    manager: SessionManager, tmp_path: Path
) -> None:
    """A copy rewound here gets only what the chat gained since the last import: the messages
    the rewind took out (kept in its own fork) are not added again."""
    path = save(tmp_path / "p" / "checkpoint-t.json", START, 1_700_000_000)
    copy = add(manager, path).outcomes[0].session
    manager.rewind(copy.id, 2)
    save(path, [*START, ("user", "u5"), ("model", "a5")], 1_700_000_600)
    assert [(o.action, o.added) for o in add(manager, path).outcomes] == [("updated", 2)]
    assert texts(manager.get(copy.id).history) == ["u1", "a1", "u5", "a5"]


def test_from_gemini_cli_follows_a_rewound_chat(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``import --from gemini-cli`` on a chat saved again after a rewind says it updated the
    copy (the dry run says the same first), and the copy follows the new branch."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    path = save(home / ".gemini" / "tmp" / "4f2a9c" / "checkpoint-plans.json", START, 1_700_000_000)
    code, out, err = run("import", "--from", "gemini-cli", "--json")
    assert (code, err) == (0, "")
    (first,) = json.loads(out)
    save(path, REWOUND, 1_700_000_600)
    dry = run.json("import", "--from", "gemini-cli", "--dry-run", "--json")
    done = run.json("import", "--from", "gemini-cli", "--json")
    assert [(s["import"], s["added"]) for s in dry] == [("updated", 2)]
    assert [(s["id"], s["import"], s["added"], s["preview"]) for s in done] == [
        (first["id"], "updated", 2, "a3")
    ]
    listed = run.json("list", "--json")
    assert sorted(s["name"] for s in listed) == [
        "plans (imported)",
        "plans (imported) (before re-import)",
    ]
