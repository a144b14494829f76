"""SessionManager: the whole public API of DESIGN section 5 over the JSON store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from prompt_sessions import Message, SessionManager
from prompt_sessions.errors import (
    AmbiguousSession,
    ImportFormatError,
    InvalidName,
    InvalidSessionId,
    PromptSessionsError,
    SessionNotFound,
    UnknownFormat,
    UsageError,
)
from prompt_sessions.models import Session


def user(text: str) -> Message:
    return Message(role="user", content=text)


def reply(text: str) -> Message:
    return Message(role="assistant", content=text)


def snapshot_folder(root: Path) -> dict[str, bytes]:
    """Every session file's bytes, to prove an operation changed nothing."""
    folder = root / "sessions"
    if not folder.exists():
        return {}
    return {p.name: p.read_bytes() for p in folder.glob("*-*-*-*-*.json")}


# ---------------------------------------------------------------- create, list, get


def test_create_defaults_to_new_session(manager: SessionManager) -> None:
    """create() without a name makes a "New Session" for the PO, empty and timestamped."""
    s = manager.create("coordinator")
    assert s.name == "New Session"
    assert s.po_name == "coordinator"
    assert s.history == []
    assert s.created_at == s.updated_at
    assert manager.get(s.id) == s


def test_create_trims_and_validates_names(manager: SessionManager) -> None:
    """Names are trimmed; invalid names raise InvalidName and write nothing."""
    assert manager.create("po", "  Debug task ").name == "Debug task"
    for bad in ("", "   ", "x" * 81, "a\nb"):
        with pytest.raises(InvalidName):
            manager.create("po", bad)
    with pytest.raises(InvalidName):
        manager.create("../escape")
    assert len(manager.list()) == 1


def test_list_is_most_recent_first_and_filters_by_po(manager: SessionManager) -> None:
    """list() orders by last update and po_name narrows it to one PO."""
    a = manager.create("coordinator", "a")
    b = manager.create("coordinator", "b")
    c = manager.create("writer", "c")
    assert [s.name for s in manager.list()] == ["c", "b", "a"]
    manager.append(a.id, user("bump"))
    assert [s.name for s in manager.list()] == ["a", "c", "b"]
    assert [s.name for s in manager.list("coordinator")] == ["a", "b"]
    assert [s.id for s in manager.list("writer")] == [c.id]
    assert manager.list("nobody") == []


def test_list_can_hide_archived(manager: SessionManager) -> None:
    """Archived sessions are listed by default and hidden on request."""
    a = manager.create("po", "a")
    b = manager.create("po", "b")
    manager.archive(a.id)
    assert {s.id for s in manager.list()} == {a.id, b.id}
    assert [s.id for s in manager.list(include_archived=False)] == [b.id]


def test_get_unknown_and_invalid_ids(manager: SessionManager) -> None:
    """An unknown id raises SessionNotFound; a path-like one InvalidSessionId; both are our errors."""
    with pytest.raises(SessionNotFound):
        manager.get("6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11")
    for bad in ("../x", "/etc/passwd", "../../etc/passwd"):
        with pytest.raises(InvalidSessionId):
            manager.get(bad)
        with pytest.raises(InvalidSessionId):
            manager.delete(bad)
        with pytest.raises(InvalidSessionId):
            manager.append(bad, user("x"))
        with pytest.raises(InvalidSessionId):
            manager.rename(bad, "x")
    assert issubclass(InvalidSessionId, PromptSessionsError)


def test_append_stores_validated_messages(manager: SessionManager) -> None:
    """append() returns the stored message; a malformed one is refused before writing."""
    s = manager.create("po")
    stored = manager.append(s.id, user("Hello"))
    assert stored.content == "Hello"
    with pytest.raises(UsageError):
        manager.append(s.id, Message(role="robot", content="x"))  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        manager.append(s.id, {"role": "user", "content": "x"})  # type: ignore[arg-type]
    assert [m.content for m in manager.get(s.id).history] == ["Hello"]


# ---------------------------------------------------------------- rename, duplicate, fork, delete


def test_rename(manager: SessionManager) -> None:
    """rename() changes only the name, and refuses invalid ones."""
    s = manager.create("po", "old")
    manager.append(s.id, user("keep me"))
    renamed = manager.rename(s.id, "  new name ")
    assert renamed.name == "new name"
    got = manager.get(s.id)
    assert got.name == "new name"
    assert [m.content for m in got.history] == ["keep me"]
    with pytest.raises(InvalidName):
        manager.rename(s.id, "\x00")
    assert manager.get(s.id).name == "new name"


def test_duplicate_copies_history_under_a_new_id(manager: SessionManager) -> None:
    """duplicate() gives an independent copy, named "<name> (copy)" unless a name is given."""
    s = manager.create("po", "orig", metadata={"k": 1})
    manager.append(s.id, user("one"))
    manager.append(s.id, reply("two"))
    copy = manager.duplicate(s.id)
    assert copy.id != s.id
    assert copy.name == "orig (copy)"
    assert copy.po_name == "po"
    assert [m.content for m in copy.history] == ["one", "two"]
    assert copy.metadata == {"k": 1}
    assert manager.duplicate(s.id, new_name="Copy").name == "Copy"
    manager.append(copy.id, user("only in the copy"))
    assert len(manager.get(s.id).history) == 2


def test_duplicate_of_a_long_name_stays_within_the_limit(manager: SessionManager) -> None:
    """Suffixes never push a name over 80 characters."""
    s = manager.create("po", "n" * 80)
    assert len(manager.duplicate(s.id).name) <= 80
    assert manager.fork(s.id).name.endswith(" (fork)")


def test_a_second_duplicate_or_fork_is_numbered(manager: SessionManager) -> None:
    """Duplicating (or forking) twice gives "X (copy)" then "X (copy 2)": copies never look
    alike in lists and the picker. Another PO's names do not count; a long name stays within
    the limit with its number."""
    s = manager.create("po", "Tricky")
    names = [manager.duplicate(s.id).name for _ in range(3)]
    assert names == ["Tricky (copy)", "Tricky (copy 2)", "Tricky (copy 3)"]
    assert [manager.fork(s.id).name for _ in range(2)] == ["Tricky (fork)", "Tricky (fork 2)"]
    other = manager.create("other", "Tricky")
    assert manager.duplicate(other.id).name == "Tricky (copy)"
    long = manager.create("po", "a" * 80)
    manager.duplicate(long.id)
    assert manager.duplicate(long.id).name == "a" * 71 + " (copy 2)"


def test_a_suffix_never_cuts_a_family_emoji_in_half(manager: SessionManager) -> None:
    """Where the suffix needs room inside a family emoji, the whole family gives way."""
    family = "👨‍👩‍👧‍👦"
    s = manager.create("po", "a" * 70 + family)
    assert manager.duplicate(s.id).name == "a" * 70 + " (copy)"
    assert manager.fork(s.id).name == "a" * 70 + " (fork)"


@pytest.mark.parametrize("at", [0, 1, 3])
def test_fork_records_parent_and_fork_point(manager: SessionManager, at: int) -> None:
    """fork(at=N) keeps history[:N] and records parent_id and parent_message_index."""
    s = manager.create("po", "main")
    for i in range(3):
        manager.append(s.id, user(f"m{i}"))
    fork = manager.fork(s.id, at=at)
    assert fork.id != s.id
    assert fork.parent_id == s.id
    assert fork.parent_message_index == at
    assert fork.thread_type == "fork"
    assert fork.name == "main (fork)"
    assert [m.content for m in manager.get(fork.id).history] == [f"m{i}" for i in range(at)]
    assert len(manager.get(s.id).history) == 3


def test_fork_defaults_to_whole_history_and_checks_the_point(manager: SessionManager) -> None:
    """fork() without at copies everything; an out-of-range point is a UsageError."""
    s = manager.create("po")
    manager.append(s.id, user("a"))
    whole = manager.fork(s.id, name="branch")
    assert (whole.name, whole.parent_message_index, len(whole.history)) == ("branch", 1, 1)
    for bad in (-1, 2):
        with pytest.raises(UsageError):
            manager.fork(s.id, at=bad)


def test_delete(manager: SessionManager, root: Path) -> None:
    """delete() removes the session and its file; deleting again is SessionNotFound."""
    s = manager.create("po")
    keep = manager.create("po", "keep")
    manager.delete(s.id)
    assert [x.id for x in manager.list()] == [keep.id]
    assert not (root / "sessions" / f"{s.id}.json").exists()
    with pytest.raises(SessionNotFound):
        manager.delete(s.id)


# ---------------------------------------------------------------- export and import


def test_export_uses_the_exporter_plugins(manager: SessionManager) -> None:
    """export() renders through the named exporter; unknown formats list the known ones."""
    s = manager.create("po", "Exported")
    manager.append(s.id, user("hello"))
    md = manager.export(s.id, format="markdown")
    assert isinstance(md, str) and md.startswith("# Exported")
    assert json.loads(manager.export(s.id, format="json"))["history"][0]["content"] == "hello"
    assert manager.export(s.id) == md  # markdown is the default
    with pytest.raises(UnknownFormat) as info:
        manager.export(s.id, format="pdf")
    assert "json" in str(info.value) and "markdown" in str(info.value)


def test_import_always_makes_a_new_session(manager: SessionManager) -> None:
    """Importing gives a new id, the " (imported)" suffix and metadata.imported_from; twice gives two."""
    s = manager.create("po", "Original", metadata={"keep": True})
    manager.append(s.id, user("hi"))
    data = manager.export(s.id, format="json")
    first = manager.import_session(data)
    second = manager.import_session(data.encode(), format="json", filename="/some/dir/export.json")
    assert len({s.id, first.id, second.id}) == 3
    assert first.name == "Original (imported)"
    assert first.metadata["keep"] is True
    assert first.metadata["imported_from"]["id"] == s.id
    assert first.metadata["imported_from"]["format"] == "json"
    assert second.metadata["imported_from"]["file"] == "export.json"
    assert [m.content for m in manager.get(first.id).history] == ["hi"]
    assert len(manager.list()) == 3


def test_import_into_another_po(manager: SessionManager) -> None:
    """po_name= moves an imported session to another PO."""
    s = manager.create("po", "x")
    moved = manager.import_sessions(manager.export(s.id, "json"), po_name="writer")[0]
    assert moved.po_name == "writer"


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


BAD_IMPORTS = {
    "not json": b"this is not json at all",
    "truncated json": b'{"history": [',
    "nested 100000 deep": b'{"history": ' + _deep(100_000) + b"}",
    "nested objects": b'{"history": [], "metadata": '
    + b'{"a":' * 100_000
    + b"1"
    + b"}" * 100_000
    + b"}",
    "wrong types": json.dumps(
        {
            "id": 5,
            "name": ["x"],
            "po_name": "po",
            "created_at": "now",
            "updated_at": "now",
            "history": "no",
        }
    ).encode(),
    "bad role": json.dumps(
        {
            "id": "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
            "name": "x",
            "po_name": "po",
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "history": [{"role": "god", "content": "x", "created_at": "2025-01-01T00:00:00Z"}],
        }
    ).encode(),
    "empty list": b'[{"history": []}, 5]',
    "no sessions": b'{"sessions": [], "history": []}',
}


@pytest.mark.parametrize("data", list(BAD_IMPORTS.values()), ids=list(BAD_IMPORTS))
def test_bad_imports_raise_and_leave_the_store_unchanged(
    manager: SessionManager, root: Path, data: bytes
) -> None:
    """Non-JSON, deeply nested and wrongly typed imports raise ImportFormatError and write nothing."""
    manager.create("po", "existing")
    before = snapshot_folder(root)
    with pytest.raises(ImportFormatError) as info:
        manager.import_session(data, format="json")
    assert str(info.value)
    assert snapshot_folder(root) == before
    assert [s.name for s in manager.list()] == ["existing"]


def test_import_of_many_takes_the_good_and_reports_the_bad(
    manager: SessionManager, root: Path
) -> None:
    """A file with one bad session among good ones imports the good ones and reports the bad
    one with where and why; a file where none can be read writes nothing."""
    s = manager.create("po", "good")
    good = json.loads(manager.export(s.id, "json"))
    bad = dict(good, name="\x07bell")
    report = manager.import_report(json.dumps([good, bad]))
    assert [x.name for x in report.sessions] == ["good (imported)"]
    assert [str(x) for x in report.skipped] == [
        "session 1: `$.name` must be 1 to 80 characters without control characters"
    ]
    before = snapshot_folder(root)
    with pytest.raises(ImportFormatError, match=r"session 0: .*\(1 more skipped\)"):
        manager.import_sessions(json.dumps([bad, bad]))
    assert snapshot_folder(root) == before
    both = manager.import_sessions(json.dumps({"sessions": [good, good]}))
    assert len(both) == 2


@pytest.mark.parametrize("name", ["\x9b2J", "a\x85b", "\x80"])
def test_c1_controls_in_names_are_refused_everywhere(manager: SessionManager, name: str) -> None:
    """A name holding a C1 control (U+0080 to U+009F; U+009B starts a terminal command like
    ESC [) is refused like a C0 one: create, rename, duplicate, fork, and an import's entry."""
    s = manager.create("po", "fine")
    for attempt in (
        lambda: manager.create("po", name),
        lambda: manager.rename(s.id, name),
        lambda: manager.duplicate(s.id, new_name=name),
        lambda: manager.fork(s.id, name=name),
        lambda: manager.create(name),
    ):
        with pytest.raises(InvalidName, match="control characters"):
            attempt()
    doc = dict(json.loads(manager.export(s.id, "json")), name=f"x{name}")
    with pytest.raises(ImportFormatError, match="control characters"):
        manager.import_sessions(json.dumps(doc))
    assert [x.name for x in manager.list()] == ["fine"]


def test_import_without_format_sniffs_or_explains(manager: SessionManager) -> None:
    """Without --format the importer is sniffed; unrecognised input lists the known formats."""
    with pytest.raises(ImportFormatError, match="json"):
        manager.import_session(b"plain text")
    with pytest.raises(UnknownFormat, match="json"):
        manager.import_session(b"{}", format="csv")


# ---------------------------------------------------------------- search


def test_search_finds_content_and_names_with_snippets(manager: SessionManager) -> None:
    """search() finds names and message text case-insensitively, with a snippet and message index."""
    a = manager.create("coordinator", "Deploy plan")
    manager.append(
        a.id, user("first we build " + "filler " * 20 + "then we DEPLOY to staging " + "x " * 30)
    )
    b = manager.create("writer", "Notes")
    manager.append(b.id, user("nothing here"))
    manager.append(b.id, reply("we deploy on fridays"))
    hits = manager.search("deploy")
    found = {(h.session.id, h.message_index) for h in hits}
    assert found == {(a.id, None), (a.id, 0), (b.id, 1)}
    content_hit = next(h for h in hits if h.session.id == a.id and h.message_index == 0)
    assert "DEPLOY" in content_hit.snippet
    assert content_hit.snippet.startswith("…") and content_hit.snippet.endswith("…")
    assert len(content_hit.snippet) < 150
    assert [
        (h.session.id, h.message_index) for h in manager.search("deploy", po_name="writer")
    ] == [(b.id, 1)]
    assert manager.search("absent words") == []
    with pytest.raises(UsageError):
        manager.search("   ")


def test_search_skips_damaged_sessions(manager: SessionManager, root: Path) -> None:
    """A damaged session does not stop search from finding the others."""
    a = manager.create("po", "alpha")
    b = manager.create("po", "alpha two")
    (root / "sessions" / f"{b.id}.json").write_bytes(b"{damaged")
    assert [h.session.id for h in manager.search("alpha")] == [a.id]


# ---------------------------------------------------------------- current and switch


def test_current_creates_a_new_session_once(manager: SessionManager) -> None:
    """current() on a PO without sessions creates one "New Session", then keeps returning it."""
    first = manager.current("coordinator")
    assert first.name == "New Session"
    assert manager.current("coordinator").id == first.id
    assert len(manager.list("coordinator")) == 1


def test_current_defaults_to_the_most_recent_session(manager: SessionManager) -> None:
    """Without a switch, the current session is the PO's most recently updated one."""
    old = manager.create("po", "old")
    manager.create("po", "newer")
    manager.append(old.id, user("bump"))
    assert manager.current("po").id == old.id


def test_switch_is_persisted_across_managers(
    manager: SessionManager, open_manager: Callable[[], SessionManager]
) -> None:
    """switch() is remembered per PO, seen by another manager and after reopening."""
    a = manager.create("po", "a")
    b = manager.create("po", "b")
    other = manager.create("writer", "w")
    manager.switch("po", a.id)
    manager.switch("writer", other.id)
    second = open_manager()
    assert second.current("po").id == a.id
    assert second.current("writer").id == other.id
    second.switch("po", b.id)
    assert manager.current("po").id == b.id
    manager.close()
    assert open_manager().current("po").id == b.id


def test_switch_checks_the_po(manager: SessionManager) -> None:
    """Switching a PO to another PO's session is refused; unknown ids are SessionNotFound."""
    w = manager.create("writer")
    with pytest.raises(UsageError, match="writer"):
        manager.switch("po", w.id)
    with pytest.raises(SessionNotFound):
        manager.switch("po", "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11")


def test_deleting_the_current_session_falls_back(manager: SessionManager) -> None:
    """After deleting the current session, current() moves to another one of the PO."""
    a = manager.create("po", "a")
    b = manager.create("po", "b")
    manager.switch("po", a.id)
    manager.delete(a.id)
    assert manager.current("po").id == b.id


# ---------------------------------------------------------------- resolve


def test_resolve_order(manager: SessionManager) -> None:
    """Exact name first, then unique id prefix, then unique name prefix; ambiguity lists candidates."""
    debug = manager.create("po", "Debug task")
    debugging = manager.create("po", "Debugging")
    manager.create("other", "Debug task")
    assert manager.resolve("po", "Debug task").id == debug.id
    assert manager.resolve("po", debugging.id[:8]).id == debugging.id
    assert manager.resolve("po", debugging.id).id == debugging.id
    assert manager.resolve("po", "debug t").id == debug.id
    with pytest.raises(AmbiguousSession) as info:
        manager.resolve("po", "Debug")
    assert {sid for sid, _ in info.value.candidates} == {debug.id, debugging.id}
    assert "Debug task" in str(info.value) and "Debugging" in str(info.value)
    with pytest.raises(AmbiguousSession):
        manager.resolve(None, "Debug task")  # across POs the exact name is shared
    with pytest.raises(SessionNotFound):
        manager.resolve("po", "nothing like it")


# ---------------------------------------------------------------- events and lifecycle


def test_events_are_sent_to_plugins(root: Path) -> None:
    """Every change calls its event hook with what changed."""
    from prompt_sessions import hookimpl
    from prompt_sessions.plugins import PluginHost

    events: list[tuple] = []

    class Recorder:
        @hookimpl
        def session_created(self, session: Session) -> None:
            events.append(("created", session.name))

        @hookimpl
        def session_renamed(self, session: Session, old_name: str) -> None:
            events.append(("renamed", old_name, session.name))

        @hookimpl
        def message_appended(self, session_id: str, message: Message) -> None:
            events.append(("appended", message.content))

        @hookimpl
        def session_switched(self, po_name: str, session_id: str) -> None:
            events.append(("switched", po_name))

        @hookimpl
        def session_deleted(self, session_id: str, po_name: str) -> None:
            events.append(("deleted", po_name))

    host = PluginHost.create(entry_points=False, plugins=[Recorder()])
    with SessionManager.open(root, host=host) as mgr:
        s = mgr.create("po", "a")
        mgr.append(s.id, user("hi"))
        mgr.rename(s.id, "b")
        mgr.switch("po", s.id)
        mgr.fork(s.id, name="f")
        mgr.delete(s.id)
    assert events == [
        ("created", "a"),
        ("appended", "hi"),
        ("renamed", "a", "b"),
        ("switched", "po"),
        ("created", "f"),
        ("deleted", "po"),
    ]


def test_manager_is_a_context_manager_leaving_the_folder_whole(root: Path) -> None:
    """Leaving the with-block flushes: index.json lists everything and no journal is left."""
    from prompt_sessions.plugins import PluginHost

    with SessionManager.open(root, host=PluginHost.create(entry_points=False)) as mgr:
        s = mgr.create("po")
        mgr.append(s.id, user("x"))
    names = {p.name for p in (root / "sessions").iterdir()}
    assert "index.journal" not in names
    entry = json.loads((root / "sessions" / "index.json").read_text())["sessions"][0]
    assert (entry["id"], entry["message_count"]) == (s.id, 1)


# ---------------------------------------------------------------- nothing invalid reaches a file


@pytest.mark.parametrize(
    "fields",
    [
        {"source": 5},
        {"tags": "not-a-list"},
        {"parent_id": "../x"},
        {"thread_type": "spiral"},
        {"metadata": [1]},
        {"metadata": {"bad": "\ud800"}},
        {"no_such_field": 1},
    ],
    ids=[
        "source",
        "tags",
        "parent_id",
        "thread_type",
        "metadata-list",
        "metadata-surrogate",
        "unknown",
    ],
)
def test_create_refuses_fields_that_would_damage_the_file(
    manager: SessionManager, root: Path, fields: dict
) -> None:
    """create() validates every field before writing, so it never leaves a damaged session behind."""
    with pytest.raises(UsageError):
        manager.create("po", "x", **fields)
    assert snapshot_folder(root) == {}
    assert manager.list() == [] and manager.problems() == {}


def test_text_that_cannot_be_utf8_is_refused(manager: SessionManager) -> None:
    """Lone surrogates in a message, a name or tags are refused with our errors, not a crash."""
    s = manager.create("po", "ok")
    with pytest.raises(UsageError):
        manager.append(s.id, user("broken \ud800 text"))
    with pytest.raises(InvalidName):
        manager.rename(s.id, "bad \udfff name")
    with pytest.raises(InvalidName):
        manager.create("po", "\ud800")
    with pytest.raises(UsageError):
        manager.update(s.id, tags=["\ud800"])
    got = manager.get(s.id)
    assert (got.name, got.history, got.tags) == ("ok", [], None)


def test_fork_point_must_be_a_plain_integer(manager: SessionManager) -> None:
    """fork(at=True) or at="1" are refused rather than read as numbers."""
    s = manager.create("po")
    manager.append(s.id, user("a"))
    for bad in (True, "1", 0.5):
        with pytest.raises(UsageError):
            manager.fork(s.id, at=bad)  # type: ignore[arg-type]
    assert len(manager.list()) == 1
