"""The JSON storage backend: CRUD, the self-healing catalog, local damage, file shape and modes."""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from prompt_sessions.errors import (
    CorruptSession,
    InvalidSessionId,
    LockTimeout,
    ReadOnlyStore,
    SessionNotFound,
    StorageError,
)
from prompt_sessions.models import Message, Session
from prompt_sessions.storage import session_codec
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.locking import StoreLock

T0 = "2025-01-03T10:00:00.000Z"


def ts(n: int) -> str:
    """A distinct, ordered timestamp for message ``n``."""
    minutes, seconds = divmod(n, 60)
    hours, minutes = divmod(minutes, 60)
    return f"2025-01-03T{10 + hours % 10:02d}:{minutes:02d}:{seconds:02d}.000Z"


def make_session(
    name: str = "S", po: str = "coordinator", messages: int = 0, at: str = T0
) -> Session:
    history = [
        Message(
            role="user" if i % 2 == 0 else "assistant", content=f"message {i}", created_at=ts(i)
        )
        for i in range(messages)
    ]
    updated = history[-1].created_at if history else at
    return Session(
        id=str(uuid.uuid4()),
        name=name,
        po_name=po,
        created_at=at,
        updated_at=updated,
        history=history,
    )


@pytest.fixture
def backend(root: Path) -> Iterator[JsonBackend]:
    store = JsonBackend(root, idle_fold_seconds=None)
    yield store
    store.close()


def reopen(root: Path) -> JsonBackend:
    return JsonBackend(root, idle_fold_seconds=None)


def session_file(root: Path, sid: str) -> Path:
    return root / "sessions" / f"{sid}.json"


def index_doc(root: Path) -> dict:
    return json.loads((root / "sessions" / "index.json").read_text())


# ---------------------------------------------------------------- CRUD


def test_empty_store_lists_nothing_and_creates_no_folder(root: Path, backend: JsonBackend) -> None:
    """Reading a folder that does not exist yet is reading an empty store, without creating it."""
    assert backend.list() == []
    assert not root.exists()


def test_searching_a_store_not_yet_created_creates_nothing(root: Path, backend: JsonBackend) -> None:
    """A search of a folder that does not exist yet finds nothing and makes no search cache."""
    from prompt_sessions.search_query import parse

    assert backend.search(parse("hello"), limit=10) == []
    assert not root.exists()


def test_create_get_list_append_update_delete(backend: JsonBackend) -> None:
    """The whole life of a session through the backend."""
    s = make_session("First")
    backend.create(s)
    assert backend.get(s.id) == s
    assert [x.id for x in backend.list()] == [s.id]

    summary = backend.append(s.id, Message(role="user", content="hello", created_at=ts(5)))
    assert summary.message_count == 1
    assert summary.preview == "hello"
    assert summary.updated_at == ts(5)
    got = backend.get(s.id)
    assert [m.content for m in got.history] == ["hello"]
    assert got.updated_at == ts(5)

    updated = backend.update(s.id, name="Renamed", archived=True, tags=["x"])
    assert (updated.name, updated.archived, updated.tags) == ("Renamed", True, ["x"])
    assert backend.get(s.id).history == got.history
    assert backend.list()[0].name == "Renamed"

    backend.delete(s.id)
    assert backend.list() == []
    with pytest.raises(SessionNotFound):
        backend.get(s.id)
    with pytest.raises(SessionNotFound):
        backend.delete(s.id)
    with pytest.raises(SessionNotFound):
        backend.append(s.id, Message(role="user", content="x"))


def test_create_refuses_an_existing_id(backend: JsonBackend) -> None:
    """Creating over an existing session is an error, never an overwrite."""
    s = make_session()
    backend.create(s)
    with pytest.raises(StorageError, match="already exists"):
        backend.create(s)


@pytest.mark.parametrize("field", ["id", "history", "created_at", "format_version"])
def test_update_refuses_identity_fields(backend: JsonBackend, field: str) -> None:
    """update() cannot change a session's id, history, creation time or format version."""
    s = make_session()
    backend.create(s)
    with pytest.raises(StorageError, match=field):
        backend.update(s.id, **{field: getattr(s, field)})


def test_list_is_most_recently_updated_first(backend: JsonBackend) -> None:
    """Summaries come newest first, and an append moves a session to the top."""
    a = make_session("a", at=ts(1))
    b = make_session("b", at=ts(2))
    c = make_session("c", at=ts(3))
    for s in (a, b, c):
        backend.create(s)
    assert [s.name for s in backend.list()] == ["c", "b", "a"]
    backend.append(a.id, Message(role="user", content="bump", created_at=ts(10)))
    assert [s.name for s in backend.list()] == ["a", "c", "b"]


@pytest.mark.parametrize(
    "bad", ["../x", "/etc/passwd", "..", "", "6F1C0E9A-3B7D-4C52-9A55-1F0D2B8E4C11", "a" * 36]
)
def test_path_like_ids_are_refused_before_touching_a_path(
    root: Path, backend: JsonBackend, bad: str
) -> None:
    """Ids that are not lowercase UUIDs raise InvalidSessionId for every operation."""
    for call in (
        lambda: backend.get(bad),
        lambda: backend.delete(bad),
        lambda: backend.update(bad, name="x"),
        lambda: backend.append(bad, Message(role="user", content="x")),
        lambda: backend.set_current("po", bad),
    ):
        with pytest.raises(InvalidSessionId):
            call()
    assert not root.exists(), "nothing was created anywhere"


# ---------------------------------------------------------------- the catalog


def test_catalog_at_rest_lists_every_session(root: Path, backend: JsonBackend) -> None:
    """After close, index.json lists every session with its current metadata and no journal remains."""
    a, b = make_session("a"), make_session("b")
    backend.create(a)
    backend.create(b)
    backend.append(a.id, Message(role="user", content="latest words", created_at=ts(9)))
    backend.update(b.id, name="b renamed")
    backend.close()
    doc = index_doc(root)
    entries = {e["id"]: e for e in doc["sessions"]}
    assert set(entries) == {a.id, b.id}
    assert entries[a.id]["message_count"] == 1
    assert entries[a.id]["preview"] == "latest words"
    assert entries[b.id]["name"] == "b renamed"
    assert not (root / "sessions" / "index.journal").exists()


def _store_with_two(root: Path) -> tuple[Session, Session]:
    store = reopen(root)
    a, b = make_session("a", at=ts(1)), make_session("b", at=ts(2))
    store.create(a)
    store.create(b)
    store.close()
    return a, b


def test_missing_catalog_is_rebuilt(root: Path) -> None:
    """Without index.json every session still lists, and the catalog is written back."""
    a, b = _store_with_two(root)
    (root / "sessions" / "index.json").unlink()
    store = reopen(root)
    assert {s.id for s in store.list()} == {a.id, b.id}
    store.close()
    assert {e["id"] for e in index_doc(root)["sessions"]} == {a.id, b.id}


@pytest.mark.parametrize(
    "garbage", [b"{not json", b"", b"[]", b'{"sessions": 5}', b"\x00\xff" * 10]
)
def test_unparsable_catalog_is_rebuilt(root: Path, garbage: bytes) -> None:
    """A catalog that cannot be read is rebuilt from the session files and replaced at rest."""
    a, b = _store_with_two(root)
    (root / "sessions" / "index.json").write_bytes(garbage)
    store = reopen(root)
    assert {s.id for s in store.list()} == {a.id, b.id}
    store.close()
    assert {e["id"] for e in index_doc(root)["sessions"]} == {a.id, b.id}


def test_session_file_absent_from_catalog_still_shows_up(root: Path) -> None:
    """A session file the catalog does not mention (copied in by hand) is listed."""
    a, _ = _store_with_two(root)
    extra = make_session("copied in", at=ts(50))
    session_file(root, extra.id).write_bytes(session_codec.encode_session(extra))
    store = reopen(root)
    assert store.list()[0].id == extra.id
    assert store.get(extra.id) == extra
    store.close()
    assert extra.id in {e["id"] for e in index_doc(root)["sessions"]}


def test_session_file_changed_since_its_entry_is_read_again(root: Path) -> None:
    """A hand-edited session file (stale entry) shows its new name and messages."""
    a, b = _store_with_two(root)
    path = session_file(root, b.id)
    doc = json.loads(path.read_text())
    doc["name"] = "edited by hand"
    doc["history"] = [{"role": "user", "content": "typed in", "created_at": ts(70)}]
    doc["updated_at"] = ts(70)
    _replace_file(path, json.dumps(doc, indent=2).encode())  # another layout, a new file
    store = reopen(root)
    top = store.list()[0]
    assert (top.id, top.name, top.message_count, top.preview) == (
        b.id,
        "edited by hand",
        1,
        "typed in",
    )
    store.append(b.id, Message(role="assistant", content="reply", created_at=ts(71)))
    assert [m.content for m in store.get(b.id).history] == ["typed in", "reply"]
    store.close()


def test_catalog_entry_whose_file_is_gone_is_dropped(root: Path) -> None:
    """Deleting a session file by hand removes it from the list."""
    a, b = _store_with_two(root)
    session_file(root, a.id).unlink()
    store = reopen(root)
    assert [s.id for s in store.list()] == [b.id]
    store.close()
    assert [e["id"] for e in index_doc(root)["sessions"]] == [b.id]


def test_two_backends_see_each_others_writes(root: Path) -> None:
    """A second backend on the same folder sees creates, appends and deletes made by the first."""
    one, two = reopen(root), reopen(root)
    try:
        s = make_session()
        one.create(s)
        assert [x.id for x in two.list()] == [s.id]
        one.append(s.id, Message(role="user", content="from one", created_at=ts(3)))
        assert two.list()[0].message_count == 1
        two.append(s.id, Message(role="assistant", content="from two", created_at=ts(4)))
        assert [m.content for m in one.get(s.id).history] == ["from one", "from two"]
        one.delete(s.id)
        assert two.list() == []
    finally:
        one.close()
        two.close()


def test_current_session_per_po_is_remembered(root: Path, backend: JsonBackend) -> None:
    """set_current persists per PO, and a deleted session is no longer anyone's current."""
    a, b = make_session(po="x"), make_session(po="y")
    backend.create(a)
    backend.create(b)
    backend.set_current("x", a.id)
    backend.set_current("y", b.id)
    backend.close()
    again = reopen(root)
    assert (again.get_current("x"), again.get_current("y"), again.get_current("z")) == (
        a.id,
        b.id,
        None,
    )
    again.delete(a.id)
    assert again.get_current("x") is None
    again.close()


# ---------------------------------------------------------------- damage stays local


@pytest.mark.parametrize(
    "damage",
    [b"", b"garbage{", b'{"format_version":1,"id":"not-it"}', b"\x00" * 64],
    ids=["empty", "garbage", "wrong-fields", "zeros"],
)
def test_damaged_session_is_reported_and_kept_while_others_work(root: Path, damage: bytes) -> None:
    """A corrupt file is skipped by list, named by problems(), kept byte for byte, and others still work."""
    a, b = _store_with_two(root)
    bad_path = session_file(root, b.id)
    _replace_file(bad_path, damage)
    store = reopen(root)
    try:
        assert [s.id for s in store.list()] == [a.id]
        assert b.id in store.problems()
        with pytest.raises(CorruptSession) as info:
            store.get(b.id)
        assert b.id in str(info.value)
        with pytest.raises(CorruptSession):
            store.append(b.id, Message(role="user", content="x"))
        store.append(a.id, Message(role="user", content="still fine", created_at=ts(9)))
        assert store.get(a.id).history[-1].content == "still fine"
        c = make_session("new")
        store.create(c)
        assert {s.id for s in store.list()} == {a.id, c.id}
    finally:
        store.close()
    assert bad_path.read_bytes() == damage


def test_check_reports_damage_and_repair_moves_it_aside(root: Path) -> None:
    """check() names damaged files without touching them; check(repair=True) moves them aside."""
    a, b = _store_with_two(root)
    session_file(root, b.id).write_bytes(b"{broken")
    store = reopen(root)
    try:
        report = store.check()
        assert not report.healthy
        assert set(report.damaged) == {b.id}
        assert session_file(root, b.id).exists()
        repaired = store.check(repair=True)
        assert len(repaired.moved) == 1
        assert not session_file(root, b.id).exists()
        assert Path(repaired.moved[0]).read_bytes() == b"{broken"
        assert store.check().healthy
        assert [s.id for s in store.list()] == [a.id]
    finally:
        store.close()


def test_damage_appearing_after_the_catalog_was_written_is_noticed(root: Path) -> None:
    """A file damaged after it was catalogued is reported, not listed from the stale entry."""
    a, b = _store_with_two(root)
    store = reopen(root)
    try:
        assert len(store.list()) == 2
        _replace_file(session_file(root, a.id), b"oops")
        assert [s.id for s in store.list()] == [b.id]
        assert a.id in store.problems()
    finally:
        store.close()


# ---------------------------------------------------------------- file shape and durability


@pytest.mark.parametrize("size", [0, 10, 10_000])
def test_append_keeps_the_same_valid_file_shape_at_any_size(
    root: Path, backend: JsonBackend, size: int
) -> None:
    """Appending to 0, 10 and 10,000-message sessions leaves exactly the canonical encoding."""
    s = make_session(messages=size)
    backend.create(s)
    extra = [
        Message(
            role="user",
            content='tricky "quotes"\nand ] brackets }',
            created_at="2026-01-01T00:00:00.000Z",
        ),
        Message(
            role="assistant", content="ok", created_at="2026-01-01T00:00:01.000Z", model="echo"
        ),
    ]
    for m in extra:
        backend.append(s.id, m)
    data = session_file(root, s.id).read_bytes()
    doc = json.loads(data)
    assert len(doc["history"]) == size + 2
    assert doc["updated_at"] == "2026-01-01T00:00:01.000Z"
    expected = Session(
        **{
            **{f: getattr(s, f) for f in s.__struct_fields__},
            "history": s.history + extra,
            "updated_at": extra[-1].created_at,
        }
    )
    assert data == session_codec.encode_session(expected)
    assert session_codec.decode_session(data, s.id) == expected


def test_first_append_rewrites_a_foreign_layout_into_ours(root: Path, backend: JsonBackend) -> None:
    """A pretty-printed file (any valid layout) is accepted and canonicalised on its first append."""
    s = make_session(messages=2)
    path = session_file(root, s.id)
    backend.create(s)
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4))
    m = Message(role="user", content="more", created_at=ts(30))
    backend.append(s.id, m)
    assert json.loads(path.read_text())["history"][-1]["content"] == "more"
    assert path.read_bytes().endswith(session_codec.tail(ts(30)))


def test_files_are_private(root: Path, backend: JsonBackend) -> None:
    """Every file the store writes is 0600 and every folder 0700."""
    s = make_session()
    backend.create(s)
    backend.append(s.id, Message(role="user", content="x"))
    backend.set_current("coordinator", s.id)
    backend.flush()
    for folder in (root, root / "sessions"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    files = list((root / "sessions").iterdir())
    assert {f.name for f in files} >= {"index.json", f"{s.id}.json"}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_stray_temp_files_are_swept_on_the_first_write(root: Path) -> None:
    """Temp files a crashed writer left behind are removed when the store is next written."""
    _store_with_two(root)
    stray = root / "sessions" / ".index.json.abc123.tmp"
    stray.write_bytes(b"half")
    store = reopen(root)
    store.create(make_session())
    store.close()
    assert not stray.exists()


def test_torn_tail_is_repaired_keeping_every_whole_message(
    root: Path, backend: JsonBackend
) -> None:
    """A file cut inside its last message (power loss) reads back with every complete message."""
    s = make_session(messages=3)
    backend.create(s)
    path = session_file(root, s.id)
    data = path.read_bytes()
    cut = data.rfind(b"message 2")
    path.write_bytes(data[:cut])
    got = backend.get(s.id)
    assert [m.content for m in got.history] == ["message 0", "message 1"]
    json.loads(path.read_text())  # repaired on disk too


def test_newer_catalog_format_makes_the_store_read_only(root: Path) -> None:
    """A catalog written by a newer program opens read-only with a clear message."""
    _store_with_two(root)
    index = root / "sessions" / "index.json"
    doc = json.loads(index.read_text())
    doc["format_version"] = 99
    index.write_text(json.dumps(doc))
    store = reopen(root)
    try:
        assert len(store.list()) == 2
        with pytest.raises(ReadOnlyStore, match="format_version 99"):
            store.create(make_session())
    finally:
        store.close()
    assert json.loads(index.read_text())["format_version"] == 99


def test_lock_wait_is_bounded_and_names_the_lock(root: Path) -> None:
    """A writer that cannot get the store lock fails with LockTimeout naming the lock file."""
    store = JsonBackend(root, lock_timeout=0.05, idle_fold_seconds=None)
    (root / "sessions").mkdir(parents=True)
    other = StoreLock(root / "sessions" / ".lock", timeout=1)
    other.acquire()
    try:
        with pytest.raises(LockTimeout) as info:
            store.create(make_session())
        assert ".lock" in str(info.value)
        assert str(os.getpid()) in str(info.value)
    finally:
        other.release()
    store.create(make_session())  # free again once the holder lets go
    store.close()


def test_catalog_at_rest_names_its_format_version(root: Path, backend: JsonBackend) -> None:
    """index.json starts with format_version 1, as DESIGN section 3 shows it."""
    backend.create(make_session("versioned", at=ts(1)))
    backend.close()
    doc = index_doc(root)
    assert doc["format_version"] == 1 and list(doc)[0] == "format_version"


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` as editors, sync tools and ``cp``-then-rename do: a new file renamed
    over it (what ``list`` notices; an edit in place is noticed by ``doctor`` and ``get``)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)
