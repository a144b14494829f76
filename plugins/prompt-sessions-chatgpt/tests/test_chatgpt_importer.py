"""The ChatGPT importer: sniffing, the current branch, skipped content, times, and refusals."""

from __future__ import annotations

import copy
import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import prompt_sessions_chatgpt
import pytest
from prompt_sessions_chatgpt import ChatGptImporter

from prompt_sessions import Message
from prompt_sessions.errors import ImportFormatError
from prompt_sessions.importing import ImportRun, Skipped
from prompt_sessions.plugins import PluginHost
from prompt_sessions.timeutil import now_iso

DATA = Path(__file__).parent / "data"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def minimal() -> dict[str, Any]:
    """The smallest valid conversation: one user message under a root node."""
    return {
        "title": "Small",
        "create_time": 1700000000,
        "update_time": 1700000060,
        "current_node": "m1",
        "mapping": {
            "root": {"message": None, "parent": None, "children": ["m1"]},
            "m1": {
                "message": {
                    "author": {"role": "user"},
                    "create_time": 1700000030,
                    "content": {"content_type": "text", "parts": ["hello"]},
                },
                "parent": "root",
                "children": [],
            },
        },
    }


def load(doc: Any, importer: ChatGptImporter | None = None) -> list[Any]:
    data = json.dumps(doc).encode("utf-8")
    return list((importer or ChatGptImporter()).load(data, "conversations.json"))


def test_sniff_recognises_an_export_and_nothing_else() -> None:
    """sniff says yes to ChatGPT exports (a list, or one conversation) and no to our own session
    files, other text and undecodable bytes, without raising."""
    importer = ChatGptImporter()
    assert importer.sniff(read("conversations.json"), "conversations.json")
    assert importer.sniff(b"\xef\xbb\xbf" + json.dumps(minimal()).encode(), None)
    own = {"id": "x", "name": "n", "po_name": "p", "history": [{"role": "user"}]}
    assert not importer.sniff(json.dumps(own).encode(), "s.json")
    assert not importer.sniff(b"# Notes\n\nmapping author", "notes.md")
    assert not importer.sniff(b"\xff\xfe\x00garbage", None)
    assert not importer.sniff(b"", None)


def test_loads_every_conversation_with_its_current_branch() -> None:
    """Each conversation becomes one session holding the branch that ends at current_node;
    edited and regenerated branches are left out."""
    sessions = list(ChatGptImporter().load(read("conversations.json"), "conversations.json"))
    assert [s.name for s in sessions] == ["Packing list for Oslo", "Rename the variable"]
    branch = sessions[1]
    assert [(m.role, m.content) for m in branch.history] == [
        ("user", "Rename x to total."),
        ("assistant", "Done: total = 0"),
    ]


def test_hidden_and_non_text_content_is_skipped() -> None:
    """Hidden system text and context, code run by a tool and its output are skipped;
    an image among a message's parts is dropped and the text beside it kept."""
    oslo = list(ChatGptImporter().load(read("conversations.json"), None))[0]
    assert [(m.role, m.content) for m in oslo.history] == [
        ("user", "What should I pack for Oslo in January?"),
        ("assistant", "Warm layers, a hat and <b>waterproof</b> boots."),
        ("user", "Are these boots good enough?"),
        ("assistant", "Yes, with wool socks:\n\n```\nsocks = 2\n```"),
    ]
    assert [m.model for m in oslo.history] == [None, "gpt-4o", None, "gpt-4o-mini"]


def test_times_become_iso_utc() -> None:
    """Epoch seconds become ISO-8601 UTC with Z (milliseconds when there are some); a message
    without a time takes the time of the message before it."""
    oslo, rename = ChatGptImporter().load(read("conversations.json"), None)
    assert (oslo.created_at, oslo.updated_at) == (
        "2025-01-03T10:26:40.500Z",
        "2025-01-03T10:31:40Z",
    )
    assert [m.created_at for m in oslo.history] == [
        "2025-01-03T10:26:50.250Z",
        "2025-01-03T10:27:00Z",
        "2025-01-03T10:28:20Z",
        "2025-01-03T10:28:20Z",
    ]
    assert rename.updated_at == "2025-01-04T14:20:00.750Z"


def test_origin_is_kept_in_metadata_and_po_name_is_an_option() -> None:
    """The conversation id and default model are kept under metadata['chatgpt'], the id also
    as the import's source id; the PO is 'imported' unless the importer is built with another."""
    oslo = list(ChatGptImporter().load(read("conversations.json"), None))[0]
    assert oslo.po_name == "imported"
    assert oslo.metadata == {
        "chatgpt": {
            "conversation_id": "3f8a5a8e-2d55-4b8e-9f1d-6b0a1c2e7d40",
            "default_model_slug": "gpt-4o",
        },
        "import": {"source_id": "3f8a5a8e-2d55-4b8e-9f1d-6b0a1c2e7d40"},
    }
    assert load([minimal()], ChatGptImporter(po_name="travel"))[0].po_name == "travel"


def test_without_current_node_the_newest_branch_is_taken() -> None:
    """With no current_node the branch written last is imported, judged by its leaf's time or
    the nearest earlier one; a missing title and create_time are filled in."""
    (session,) = ChatGptImporter().load(read("no_current_node.json"), None)
    assert [m.content for m in session.history] == ["second try", "answer to the second try"]
    assert session.name == "Untitled conversation"
    assert session.created_at == session.history[0].created_at == "2023-11-14T22:21:40Z"
    assert session.history[1].created_at == "2023-11-14T22:21:40Z"


def test_a_single_conversation_object_is_accepted() -> None:
    """A conversation on its own, not in a list, imports as one session."""
    data = json.dumps(minimal()).encode()
    (session,) = ChatGptImporter().load(data, None)
    assert [m.content for m in session.history] == ["hello"]


def test_titles_become_valid_session_names() -> None:
    """Titles are put on one line, stripped of control characters and cut to 80 characters."""
    long_title = dict(minimal(), title="word " * 40)
    control = dict(minimal(), title="two\nlines\x07 here\ud800")
    blank = dict(minimal(), title="  \t ")
    names = [s.name for s in load([long_title, control, blank])]
    assert len(names[0]) == 80 and names[0].endswith("…")
    assert names[1] == "two lines here\ufffd"
    assert names[2] == "Untitled conversation"


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    """``minimal()`` with the value at ``path`` replaced (or deleted when value is ...)."""
    doc = copy.deepcopy(minimal())
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


MESSAGE = ["mapping", "m1", "message"]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"conversations": []}, "expected a list of conversations"),
        ([], "holds no conversations"),
        (["text"], "conversation 1 must be an object, not text"),
        ([minimal(), _broken(["mapping"], ...)], "conversation 2 ('Small'): 'mapping' is missing"),
        ([_broken(["mapping"], [])], "'mapping' must be an object, not a list"),
        ([_broken(["title"], 7)], "'title' must be text, not a number"),
        ([_broken(["create_time"], "yesterday")], "'create_time' must be a number, not text"),
        ([_broken(["create_time"], True)], "'create_time' must be a number, not true or false"),
        ([_broken(["create_time"], 1e300)], "'create_time' (1e+300) is not a usable time"),
        ([_broken(["current_node"], "gone")], "current_node 'gone' is not in the mapping"),
        ([_broken(["current_node"], 5)], "'current_node' must be text, not a number"),
        ([_broken(["mapping", "m1"], "node")], "mapping entry 'm1' must be an object, not text"),
        (
            [_broken(["mapping", "m1", "parent"], "nowhere")],
            "has parent 'nowhere', which is not in",
        ),
        ([_broken(["mapping", "root", "parent"], "m1")], "the parent links of node 'm1' loop"),
        ([_broken([*MESSAGE, "author"], ...)], "node 'm1': 'author' is missing"),
        ([_broken([*MESSAGE, "author", "role"], None)], "node 'm1', author: 'role' is missing"),
        ([_broken([*MESSAGE, "author", "role"], "critic")], "unknown author role 'critic'"),
        ([_broken([*MESSAGE, "content"], "hello")], "'content' must be an object, not text"),
        ([_broken([*MESSAGE, "content", "parts"], "hello")], "'parts' must be a list, not text"),
        ([_broken([*MESSAGE, "content", "content_type"], ...)], "'content_type' is missing"),
        ([_broken([*MESSAGE, "create_time"], [1])], "'create_time' must be a number, not a list"),
    ],
)
def test_malformed_input_is_refused_with_what_is_wrong(doc: Any, expected: str) -> None:
    """Wrong shapes, wrong types and broken links are reported naming the conversation, the
    node and the field: the file as a whole raises ImportFormatError, a conversation is
    skipped with its reason."""
    try:
        found = load(doc)
    except ImportFormatError as exc:
        said = str(exc)
    else:
        said = " | ".join(str(s) for s in found if isinstance(s, Skipped))
    assert expected in said


def test_null_times_fall_back_to_update_time_then_message_times_then_now() -> None:
    """``"create_time": null`` (and null message times) import: the start is the earliest of
    update_time and the message times, else the time of the import; a message without a time
    takes the one before it, the first one the start."""
    no_start = _broken(["create_time"], None)
    (session,) = load([no_start])
    assert session.created_at == "2023-11-14T22:13:50Z"  # the message, before update_time
    assert session.updated_at == "2023-11-14T22:14:20Z"
    only_update = _broken([*MESSAGE, "create_time"], None) | {"create_time": None}
    (session,) = load([only_update])
    assert session.created_at == session.history[0].created_at == "2023-11-14T22:14:20Z"
    nothing = only_update | {"update_time": None}
    before = now_iso()
    (session,) = load([nothing])
    assert before <= session.created_at <= now_iso()
    assert session.history[0].created_at == session.created_at == session.updated_at
    empty = _broken(["create_time"], None) | {"mapping": {}, "current_node": None}
    (session,) = load([empty])
    assert session.history == [] and session.created_at == "2023-11-14T22:14:20Z"


def test_a_message_with_null_content_is_left_out() -> None:
    """A message node whose content is null holds no text: it is left out, the rest kept."""
    doc = _broken([*MESSAGE, "content"], None)
    doc["mapping"]["m2"] = {
        "message": {
            "author": {"role": "assistant"},
            "create_time": None,
            "content": {"content_type": "text", "parts": ["still here"]},
        },
        "parent": "m1",
        "children": [],
    }
    doc["current_node"] = "m2"
    (session,) = load([doc])
    assert [(m.role, m.content) for m in session.history] == [("assistant", "still here")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'[{"title": ', "not valid JSON"),
        (b"\xff\xfe\xfa", "not valid JSON"),
        (b'[{"create_time": NaN, "mapping": {}}]', "NaN is not a JSON number"),
    ],
)
def test_undecodable_input_is_refused(data: bytes, expected: str) -> None:
    """Bytes that are not JSON (or use JSON extensions such as NaN) are refused."""
    with pytest.raises(ImportFormatError) as caught:
        list(ChatGptImporter().load(data, None))
    assert expected in str(caught.value)


def test_imports_through_the_session_manager(session_manager, registered_plugin) -> None:
    """Registered as a plugin, the importer is picked by sniffing and its sessions are stored
    with new ids, ' (imported)' names and the PO given to the import."""
    with registered_plugin(prompt_sessions_chatgpt):
        assert "chatgpt" in session_manager.formats()["import"]
        sessions = session_manager.import_sessions(
            read("conversations.json"), filename="conversations.json", po_name="travel"
        )
    assert [s.name for s in sessions] == [
        "Packing list for Oslo (imported)",
        "Rename the variable (imported)",
    ]
    stored = session_manager.get(sessions[1].id)
    assert stored.po_name == "travel" and stored.source == "import"
    assert [m.content for m in stored.history] == ["Rename x to total.", "Done: total = 0"]
    assert stored.metadata["imported_from"]["format"] == "chatgpt"
    assert stored.metadata["chatgpt"]["conversation_id"] == "9b2e1f7c-0a3d-4e6f-8c1b-2d4e6f8a0b1c"
    session_manager.append(stored.id, Message(role="user", content="and now?"))
    assert len(session_manager.get(stored.id).history) == 3


def test_one_bad_conversation_is_skipped_and_reported(session_manager, registered_plugin) -> None:
    """A malformed conversation among good ones is skipped with its reason; the good ones and
    one with null times are imported."""
    doc = [
        minimal(),
        _broken(["mapping", "m1", "parent"], "nowhere"),
        _broken(["create_time"], None) | {"title": "No start"},
    ]
    with registered_plugin(prompt_sessions_chatgpt):
        report = session_manager.import_report(json.dumps(doc).encode(), format="chatgpt")
    assert [s.name for s in report.sessions] == ["Small (imported)", "No start (imported)"]
    assert [str(s) for s in report.skipped] == [
        "conversation 2 ('Small'): node 'm1' has parent 'nowhere', which is not in the mapping"
    ]
    assert len(session_manager.list()) == 2


def test_a_file_where_no_conversation_can_be_read_is_refused(
    session_manager, registered_plugin
) -> None:
    """When every conversation is skipped the import fails with the first reason and a count,
    and nothing is written."""
    bad = _broken(["mapping", "m1", "parent"], "nowhere")
    with registered_plugin(prompt_sessions_chatgpt), pytest.raises(ImportFormatError) as caught:
        session_manager.import_sessions(json.dumps([bad, bad]).encode(), format="chatgpt")
    assert str(caught.value).startswith("conversation 1 ('Small'): node 'm1' has parent")
    assert str(caught.value).endswith("(1 more skipped)")
    assert session_manager.list() == []


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),
    ],
    ids=["utf-8 bom", "utf-16 bom"],
)
@pytest.mark.parametrize("fmt", [None, "chatgpt"])
def test_an_export_with_a_byte_order_mark_imports(
    session_manager, registered_plugin, encode: Any, fmt: str | None
) -> None:
    """An export saved with a byte order mark (UTF-8's, or UTF-16 as PowerShell writes) is
    recognised and imported, with or without --format."""
    data = encode(json.dumps([minimal()], ensure_ascii=False))
    with registered_plugin(prompt_sessions_chatgpt):
        (session,) = session_manager.import_sessions(data, format=fmt)
    assert [m.content for m in session.history] == ["hello"]


def test_installed_entry_point_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed distribution declares the chatgpt entry point, and a host that loads entry
    points (limited to this one) offers the import format."""
    declared = {ep.name: ep.value for ep in entry_points(group="prompt_sessions")}
    assert declared.get("chatgpt") == "prompt_sessions_chatgpt"
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "chatgpt")
    monkeypatch.delenv("PROMPT_SESSIONS_DISABLE_PLUGINS", raising=False)
    host = PluginHost.create()
    assert isinstance(host.importers()["chatgpt"].value, ChatGptImporter)


def test_importing_the_export_again_adds_only_new_messages(
    session_manager, registered_plugin
) -> None:
    """A second import of a grown export finds the earlier copies by conversation id: the
    unchanged conversation stays as it is and the grown one gets only its new message; the
    copies record metadata.import with the format, the conversation id and a digest."""
    from prompt_sessions.importing import ImportRun

    doc = json.loads(read("conversations.json"))
    with registered_plugin(prompt_sessions_chatgpt):
        first = ImportRun(session_manager).add(json.dumps(doc).encode())
        stamp = first.outcomes[1].session.metadata["import"]
        assert stamp["format"] == "chatgpt"
        assert stamp["source_id"] == "9b2e1f7c-0a3d-4e6f-8c1b-2d4e6f8a0b1c"
        grown = doc[1]
        leaf = grown["current_node"]
        grown["mapping"]["extra"] = {
            "id": "extra",
            "parent": leaf,
            "children": [],
            "message": {
                "author": {"role": "user"},
                "create_time": 1736100000.0,
                "content": {"content_type": "text", "parts": ["One more thing."]},
            },
        }
        grown["mapping"][leaf]["children"] = ["extra"]
        grown["current_node"] = "extra"
        again = ImportRun(session_manager).add(json.dumps(doc).encode())
    assert [(o.action, o.added) for o in again.outcomes] == [("unchanged", 0), ("updated", 1)]
    assert len(session_manager.list()) == 2
    stored = session_manager.get(first.outcomes[1].session.id)
    assert [m.content for m in stored.history][-1] == "One more thing."
    assert stored.metadata["import"]["digest"] != stamp["digest"]


def test_a_conversation_saved_without_its_id_is_found_again(
    session_manager, registered_plugin
) -> None:
    """A conversation without ``id`` or ``conversation_id`` is known again by its start and
    first message: importing it a second time, grown by a reply, adds the reply to the
    earlier copy instead of making a second one."""
    grown = minimal()
    grown["mapping"]["m1"]["children"] = ["m2"]
    grown["mapping"]["m2"] = {
        "message": {
            "author": {"role": "assistant"},
            "create_time": 1700000040,
            "content": {"content_type": "text", "parts": ["hi there"]},
        },
        "parent": "m1",
        "children": [],
    }
    grown["current_node"] = "m2"
    with registered_plugin(prompt_sessions_chatgpt):
        first = ImportRun(session_manager).add(json.dumps([minimal()]).encode(), "chatgpt")
        second = ImportRun(session_manager).add(json.dumps([grown]).encode(), "chatgpt")
    copy = first.outcomes[0].session
    assert [(o.session.id, o.action) for o in second.outcomes] == [(copy.id, "updated")]
    assert [m.content for m in session_manager.get(copy.id).history] == [
        "hello",
        "hi there",
    ]
    assert len(session_manager.list()) == 1


def test_a_lone_surrogate_escape_reads_as_replacement_character() -> None:
    """A lone surrogate escape (legal JSON, no character) in a title, a text part or the
    default model keeps its text with U+FFFD in its place, as every importer does."""
    doc = minimal()
    doc["title"] = "Plans \ud800"
    doc["default_model_slug"] = "gpt-\udc00"
    doc["mapping"]["m1"]["message"]["content"]["parts"] = ["bad \ud800 here"]
    data = json.dumps(doc).encode()
    assert b"\\ud800" in data and b"\\udc00" in data
    (session,) = ChatGptImporter().load(data, None)
    assert session.name == "Plans \ufffd"
    assert [m.content for m in session.history] == ["bad \ufffd here"]
    assert session.metadata["chatgpt"]["default_model_slug"] == "gpt-\ufffd"


def test_a_conversation_without_any_time_is_found_again_unchanged(
    session_manager, registered_plugin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conversation with no time at all takes the import's; it is marked as keeping no
    times, so importing it again (later, another time) is 'unchanged' instead of adding its
    messages again or forking, and a grown one gains only its new message."""
    from prompt_sessions.importing import ImportRun

    minutes = iter(range(10, 60))  # each import a minute after the one before, in the past
    monkeypatch.setattr(
        prompt_sessions_chatgpt, "now_iso", lambda: f"2020-01-01T00:{next(minutes)}:00Z"
    )

    doc = minimal()
    del doc["create_time"], doc["update_time"]
    del doc["mapping"]["m1"]["message"]["create_time"]
    (loaded,) = load([doc])
    assert loaded.metadata["import"]["timed"] is False
    with registered_plugin(prompt_sessions_chatgpt):
        first = ImportRun(session_manager).add(json.dumps([doc]).encode(), "chatgpt")
        copy = first.outcomes[0].session
        again = ImportRun(session_manager).add(json.dumps([doc]).encode(), "chatgpt")
        assert [(o.action, o.added) for o in again.outcomes] == [("unchanged", 0)]
        doc["mapping"]["m1"]["children"] = ["m2"]
        doc["mapping"]["m2"] = {
            "message": {
                "author": {"role": "assistant"},
                "content": {"content_type": "text", "parts": ["hi there"]},
            },
            "parent": "m1",
            "children": [],
        }
        doc["current_node"] = "m2"
        grown = ImportRun(session_manager).add(json.dumps([doc]).encode(), "chatgpt")
    assert [(o.action, o.added) for o in grown.outcomes] == [("updated", 1)]
    assert [m.content for m in session_manager.get(copy.id).history] == ["hello", "hi there"]
    assert len(session_manager.list()) == 1
