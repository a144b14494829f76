"""The open-webui importer: Open WebUI's chat export, current (message tree with currentId) and
older (a plain message list), with branches kept as forks."""

from __future__ import annotations

from pathlib import Path

from cli_runner import Run
from prompt_sessions.importers.open_webui import OpenWebUiImporter
from prompt_sessions.importing import Skipped

DATA = Path(__file__).parent / "data" / "import" / "open-webui"
CURRENT = DATA / "chat-export-current.json"
OLDER = DATA / "chat-export-older.json"


def load(path: Path) -> list:
    return list(OpenWebUiImporter().load(path.read_bytes(), None))


def test_current_branch_is_the_session_and_other_branches_are_forks() -> None:
    """The branch ending at currentId is the session (model, usage, times, tags, pin); the
    regenerated answer is a fork under it at the point the branches part; a broken chat is
    skipped with its reason."""
    main, fork, broken = load(CURRENT)
    assert [(m.role, m.content) for m in main.history] == [
        ("user", "Suggest a name for a cat."),
        ("assistant", "How about Miso?"),
        ("user", "Something longer?"),
        ("assistant", "Sir Reginald Whiskers."),
    ]
    reply = main.history[1]
    assert (reply.model, reply.usage.input_tokens, reply.usage.output_tokens) == (
        "llama3.1:8b",
        14,
        6,
    )
    assert reply.created_at == "2024-10-27T03:33:24Z"
    assert (main.name, main.pinned, main.tags) == ("Cat names", True, ["pets"])
    assert main.metadata["import"] == {"source_id": "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e"}
    assert [m.content for m in fork.history] == ["Suggest a name for a cat.", "Maybe Pepper."]
    assert (fork.thread_type, fork.parent_id, fork.parent_message_index) == ("fork", main.id, 1)
    assert fork.metadata["import"]["source_id"].endswith("#m2b")
    assert isinstance(broken, Skipped) and broken.where == "chat 2 ('Broken')"


def test_older_export_with_a_message_list() -> None:
    """An older export (chat.messages, tags as objects) imports as one session."""
    (session,) = load(OLDER)
    assert [m.content for m in session.history] == ["How long to proof bread?", "About an hour."]
    assert session.tags == ["cooking"] and session.created_at == "2023-11-14T22:13:20Z"


def test_sniffed_and_imported_with_its_fork(run: Run) -> None:
    """Without --format the export is recognised; the fork's copy sits under the main copy,
    and the broken chat is a warning."""
    code, out, err = run("import", str(CURRENT))
    assert code == 0 and out.count("Imported ") == 2
    assert "skipped chat 2 ('Broken'): it has no 'chat' object" in err
    listed = {s["name"]: s for s in run.json("list", "--json")}
    main = listed["Cat names (imported)"]
    assert listed["Cat names (branch) (imported)"]["parent_id"] == main["id"]


def test_sniff() -> None:
    """sniff() takes both shapes and not a ChatGPT export."""
    importer = OpenWebUiImporter()
    assert importer.sniff(CURRENT.read_bytes(), None)
    assert importer.sniff(OLDER.read_bytes(), None)
    assert not importer.sniff(b'[{"mapping": {}, "title": "x", "current_node": null}]', None)
