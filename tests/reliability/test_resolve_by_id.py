"""Resolving an id in the JSON store from index.json's bytes, with the same result as listing.

``SessionManager.resolve`` asks the backend for the sessions whose id starts with what was typed
(``JsonBackend.known_by_id_prefix``, DESIGN section 10) before it decodes the catalog; whenever
the bytes cannot tell for sure (a journal not folded yet, a catalog in another layout, a session
named like the ref) it falls back to the full rules, so every answer is the one listing gives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lookup_support import catalog_of
from lookup_support import fail as _fail
from lookup_support import make_session as _session
from lookup_support import store_of as _store
from reliability_support import assert_at_rest, host, open_manager

from prompt_sessions.errors import AmbiguousSession, SessionNotFound
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Session
from prompt_sessions.resolve import by_id_lookup, resolve_ref
from prompt_sessions.storage import catalog_layout, catalog_lookup
from prompt_sessions.storage.json_backend import JsonBackend

A = "abcd1111-0000-4000-8000-000000000001"
B = "abcd2222-0000-4000-8000-000000000002"
C = "cafe0000-0000-4000-8000-000000000003"
D = "beef0000-0000-4000-8000-000000000004"


def _default_store(root: Path) -> None:
    _store(
        root,
        _session(A, "first"),
        _session(B, "second", po="other"),
        _session(C, "third"),
        _session(D, "fourth"),
    )


def _by_listing(root: Path, po: str | None, ref: str) -> str:
    """The id the full rules give over a fresh listing (what resolve answered before)."""
    mgr = open_manager(root)
    try:
        return resolve_ref(ref, mgr.list(po), po).id
    finally:
        mgr.close()


@pytest.fixture
def no_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any decode of the whole catalog fail the test."""

    def boom(self: Any, *args: Any) -> Any:
        raise AssertionError("the whole catalog was read")

    monkeypatch.setattr(JsonBackend, "list_known", boom)
    monkeypatch.setattr(JsonBackend, "list", boom)


def _reader(root: Path) -> SessionManager:
    """A manager of a new process that does not fold another writer's journal as it opens."""
    return SessionManager(root, JsonBackend(root, idle_fold_seconds=None), host(), {})


def _resolve(root: Path, po: str | None, ref: str) -> str:
    mgr = open_manager(root)
    try:
        return mgr.resolve(po, ref).id
    finally:
        mgr.close()


@pytest.mark.parametrize(
    ("po", "ref", "expected"),
    [
        ("po", A, A),
        (None, A, A),
        ("po", "abcd1", A),
        ("other", "ABCD", B),  # any case; another PO's session with the prefix is not counted
        ("po", "  " + C.upper() + " ", C),
        (None, "beef0000-", D),
    ],
)
def test_an_id_or_id_prefix_resolves_without_reading_the_whole_catalog(
    tmp_path: Path, po: str | None, ref: str, expected: str
) -> None:
    """A full id, a unique prefix, in any case and with spaces around, finds the session the
    listing finds, and only its catalog line is decoded."""
    _default_store(tmp_path)
    assert _by_listing(tmp_path, po, ref) == expected
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(JsonBackend, "list_known", _fail)
        patch.setattr(JsonBackend, "list", _fail)
        assert _resolve(tmp_path, po, ref) == expected


def test_a_session_named_like_an_id_prefix_is_ambiguous_and_a_whole_id_wins(
    tmp_path: Path,
) -> None:
    """A name that is another session's id prefix is ambiguous (both are named), a session
    named with another's whole id does not shadow it, and a name that is its own session's id
    prefix resolves to it; the look-up by id steps aside for every named ref, and listing
    agrees."""
    _store(
        tmp_path,
        _session(A, "first"),
        _session(C, "abcd1111"),
        _session(D, A),
        _session(B, "ABCD2222"),
    )
    for ref, found in (("abcd1111", {A, C}), (A, {A}), ("ABCD2222", {B})):
        mgr = open_manager(tmp_path)
        try:
            assert mgr.backend.known_by_id_prefix(ref) is None
            if len(found) > 1:
                with pytest.raises(AmbiguousSession) as info:
                    mgr.resolve(None, ref)
                assert {sid for sid, _ in info.value.candidates} == found
            else:
                assert mgr.resolve(None, ref).id in found
        finally:
            mgr.close()
    # The other case of a name is no exact match: the id prefix finds its session.
    assert _resolve(tmp_path, None, "abcd2222") == B


def test_a_change_not_yet_folded_is_seen(tmp_path: Path) -> None:
    """While another writer's journal holds a rename, a create and a delete not yet in
    index.json, resolving in a new process gives the sessions as they are now."""
    _default_store(tmp_path)
    writer = open_manager(tmp_path)
    try:
        writer.rename(A, "renamed")
        writer.backend.create(_session("f00d0000-0000-4000-8000-000000000005", "new"))
        writer.delete(D)
        assert (tmp_path / "sessions" / "index.journal").stat().st_size > 0
        reader = _reader(tmp_path)
        try:
            assert reader.backend.known_by_id_prefix(A) is None
            assert reader.resolve("po", A).name == "renamed"
            assert reader.resolve("po", "f00d").name == "new"
            with pytest.raises(SessionNotFound):
                reader.resolve("po", D)
        finally:
            reader.close()
    finally:
        writer.close()


def test_an_empty_journal_does_not_stop_the_look_up(tmp_path: Path, no_listing: None) -> None:
    """A journal left empty holds no change: index.json alone still answers."""
    _default_store(tmp_path)
    (tmp_path / "sessions" / "index.journal").write_bytes(b"")
    mgr = _reader(tmp_path)
    try:
        assert [s.id for s in mgr.backend.known_by_id_prefix("cafe")] == [C]
        assert mgr.resolve("po", "cafe").id == C
    finally:
        mgr.close()


def test_an_ambiguous_prefix_still_names_the_candidates(tmp_path: Path) -> None:
    """A prefix two sessions share raises AmbiguousSession, as listing does."""
    _store(tmp_path, _session(A, "first"), _session(B, "second"))
    mgr = open_manager(tmp_path)
    try:
        assert sorted(s.id for s in mgr.backend.known_by_id_prefix("abcd")) == [A, B]
        with pytest.raises(AmbiguousSession) as raised:
            mgr.resolve("po", "abcd")
        assert {sid for sid, _ in raised.value.candidates} == {A, B}
    finally:
        mgr.close()


def test_another_pos_session_is_not_found(tmp_path: Path) -> None:
    """An id of another PO's session is not found for this PO, as before."""
    _default_store(tmp_path)
    with pytest.raises(SessionNotFound):
        _resolve(tmp_path, "other", A)
    with pytest.raises(SessionNotFound):
        _resolve(tmp_path, "po", "0000")


def test_a_pretty_printed_catalog_is_decoded_instead(tmp_path: Path) -> None:
    """index.json rewritten by a person (indented) is not read by its lines: the catalog is
    decoded and the answer is the same."""
    _default_store(tmp_path)
    index = tmp_path / "sessions" / "index.json"
    index.write_text(json.dumps(json.loads(index.read_bytes()), indent=2))
    mgr = open_manager(tmp_path)
    try:
        assert mgr.backend.known_by_id_prefix("cafe") is None
        assert mgr.resolve("po", "cafe").id == C
    finally:
        mgr.close()


def test_a_missing_catalog_is_rebuilt_instead(tmp_path: Path) -> None:
    """Without index.json the look-up steps aside and the session files answer."""
    _default_store(tmp_path)
    (tmp_path / "sessions" / "index.json").unlink()
    mgr = open_manager(tmp_path)
    try:
        assert mgr.backend.known_by_id_prefix("cafe") is None
        assert mgr.resolve("po", "cafe").id == C
    finally:
        mgr.close()


def test_a_catalog_this_process_holds_is_used_as_it_is(tmp_path: Path) -> None:
    """Once the catalog is in memory (it may hold corrections not written), listing it is
    cheap and the look-up steps aside; text that is no id prefix is never looked up."""
    _default_store(tmp_path)
    mgr = open_manager(tmp_path)
    try:
        assert mgr.backend.known_by_id_prefix('cafe"') is None
        assert mgr.backend.known_by_id_prefix("") is None
        assert by_id_lookup(mgr.backend, "caf") is None
        assert by_id_lookup(mgr.backend, "cafx") is None
        assert by_id_lookup(object(), C) is None
        mgr.list()
        assert mgr.backend.known_by_id_prefix("cafe") is None
        assert mgr.resolve("po", "cafe").id == C
    finally:
        mgr.close()


def test_a_fork_naming_its_parent_does_not_stop_the_look_up(
    tmp_path: Path, no_listing: None
) -> None:
    """A child's ``parent_id`` holds its parent's full id: that is no name, and the parent is
    still found by its id from the bytes."""
    _store(
        tmp_path,
        _session(C, "parent"),
        _session(D, "child", thread_type="fork", parent_id=C),
    )
    assert _resolve(tmp_path, "po", C) == C
    assert _resolve(tmp_path, "po", D) == D


# The catalog's bytes, judged line by line (catalog_lookup.entries_by_id).


def _catalog(*sessions: Session) -> bytes:
    return catalog_of(*sessions, unstamped=C)  # C's entry has no stamp


def test_escapes_of_control_characters_and_backslashes_are_no_doubt() -> None:
    """Names holding a control character or a backslash are written escaped; such escapes
    cannot spell an id, so the bytes still answer."""
    data = _catalog(_session(A, "bell\x07"), _session(C, "back\\slash\\u0041"))
    assert b"\\u0007" in data and b"\\\\u0041" in data
    assert [s.id for s, _ in catalog_lookup.entries_by_id(data, "abcd", "abcd")] == [A]
    assert catalog_lookup.entries_by_id(data, "0000", "0000") == []


def test_a_name_written_with_escapes_is_still_an_exact_name() -> None:
    """A hand-edited catalog that escapes a letter (``\\u0061bcd1111``) may hide a name equal
    to the ref: the bytes cannot tell, and the catalog is decoded."""
    data = _catalog(_session(A, "first"), _session(C, "xbcd1111"))
    edited = data.replace(b'"name":"xbcd1111"', b'"name":"\\u0061bcd1111"')
    assert catalog_lookup.entries_by_id(edited, "abcd1111", "abcd1111") is None
    assert catalog_lookup.entries_by_id(data, "abcd1111", "abcd1111") is not None


def _entry(data: bytes, sid: str) -> bytes:
    return next(line for line in data.split(b"\n") if sid.encode() in line).rstrip(b",")


@pytest.mark.parametrize(
    "edit",
    [
        # an entry that does not decode
        lambda d: d.replace(b'"name":"first"', b'"name":5'),
        # an entry listed twice
        lambda d: d.replace(b"\n],", b",\n" + _entry(d, A) + b"\n],"),
        # an id key that is not the first of its entry
        lambda d: d.replace(b'{"id":"%s",' % A.encode(), b'{"name":"x","id":"%s",' % A.encode()),
        # a second id key that says otherwise
        lambda d: d.replace(b'"name":"first"', b'"name":"first","id":"%s"' % D.encode()),
        # an id that is no session id
        lambda d: d.replace(A.encode(), b"abcd1111"),
        # the ref as another field's value
        lambda d: d.replace(b'"po_name":"po"', b'"po_name":"abcd"', 1),
        # a file stamp that is not one
        lambda d: d.replace(b'"%s":[1,2,3]' % A.encode(), b'"%s":[1,2]' % A.encode()),
        # sections missing
        lambda d: d.replace(b',"files":', b',"stamps":'),
        lambda d: d.replace(b',"damaged":', b',"broken":'),
        # the catalog cut short
        lambda d: d[: d.index(b"\n],")] + b"}\n",
        # another layout
        lambda d: d.replace(b"\n", b"\n  "),
        lambda d: d + b" ",
    ],
)
def test_bytes_that_cannot_tell_for_sure_give_no_answer(edit: Any) -> None:
    """Each kind of doubt in the catalog's bytes makes the look-up step aside (None)."""
    data = _catalog(_session(A, "first"), _session(C, "third"))
    assert catalog_lookup.entries_by_id(data, "abcd", "abcd") is not None
    assert catalog_lookup.entries_by_id(edit(data), "abcd", "abcd") is None


def test_entries_come_with_their_files_stamps() -> None:
    """Each entry found carries its file's stamp from the ``files`` section (None without)."""
    data = _catalog(_session(A, "first"), _session(C, "third"), _session(D, "fourth"))
    assert [(s.id, f) for s, f in catalog_lookup.entries_by_id(data, "abcd", "x")] == [
        (A, (1, 2, 3))
    ]
    assert [(s.id, f) for s, f in catalog_lookup.entries_by_id(data, "cafe", "x")] == [(C, None)]


def _no_catalog_load(patch: pytest.MonkeyPatch) -> None:
    from prompt_sessions.storage import catalog

    def boom(*args: Any) -> Any:
        raise AssertionError("the whole catalog was loaded")

    patch.setattr(catalog, "_load_index", boom)


def test_reading_and_appending_after_a_look_up_need_not_load_the_catalog(tmp_path: Path) -> None:
    """A session found by id is read and appended to (``send --session``) from the entry the
    look-up found, as long as its file is as that entry's stamp says."""
    from prompt_sessions.models import Message

    _default_store(tmp_path)
    mgr = open_manager(tmp_path)
    try:
        with pytest.MonkeyPatch.context() as patch:
            _no_catalog_load(patch)
            target = mgr.get(mgr.resolve("po", C).id)
            mgr.append(target.id, Message(role="user", content="hello", source="cli"))
    finally:
        mgr.close()
    mgr = open_manager(tmp_path)
    try:
        listed = {s.id: s for s in mgr.list()}
        assert listed[C].message_count == 1 and listed[C].preview == "hello"
        assert not mgr.check().fixed
    finally:
        mgr.close()
    assert_at_rest(tmp_path)


def test_a_file_changed_since_its_entry_is_read_again_before_an_append(tmp_path: Path) -> None:
    """A session file rewritten in place after the look-up (its stamp no longer the entry's)
    is read again, so the append keeps what the file now says."""
    from prompt_sessions.models import Message

    _default_store(tmp_path)
    path = tmp_path / "sessions" / f"{C}.json"
    mgr = open_manager(tmp_path)
    try:
        assert mgr.resolve("po", C).id == C
        path.write_bytes(path.read_bytes().replace(b'"name":"third"', b'"name":"edited there"'))
        mgr.append(C, Message(role="user", content="hello", source="cli"))
    finally:
        mgr.close()
    mgr = open_manager(tmp_path)
    try:
        listed = {s.id: s for s in mgr.list()}
        assert (listed[C].name, listed[C].message_count) == ("edited there", 1)
        assert not mgr.check().fixed
    finally:
        mgr.close()
    assert_at_rest(tmp_path)


# The per-PO current sessions, read without loading the catalog (catalog_lookup.current_of).


def test_deleting_the_current_session_needs_no_catalog_load(tmp_path: Path) -> None:
    """``delete`` of a session found by id, the current one of its PO, clears the PO's current
    session from index.json's bytes and the journal, without loading the catalog."""
    _default_store(tmp_path)
    mgr = open_manager(tmp_path)
    mgr.switch("po", C)
    mgr.close()
    mgr = open_manager(tmp_path)
    try:
        with pytest.MonkeyPatch.context() as patch:
            _no_catalog_load(patch)
            assert mgr.backend.get_current("po") == C
            mgr.delete(mgr.resolve("po", C).id)
            assert mgr.backend.get_current("po") is None
            assert mgr.backend.get_current("other") is None
    finally:
        mgr.close()
    mgr = open_manager(tmp_path)
    try:
        assert mgr.backend.get_current("po") is None
        assert C not in {s.id for s in mgr.list()}
    finally:
        mgr.close()
    assert_at_rest(tmp_path)


def test_a_current_session_set_by_another_writer_is_seen(tmp_path: Path) -> None:
    """A switch still in another writer's journal is seen by a new reader."""
    _default_store(tmp_path)
    writer = open_manager(tmp_path)
    try:
        writer.switch("po", D)
        reader = _reader(tmp_path)
        try:
            assert reader.backend.get_current("po") == D
        finally:
            reader.close()
    finally:
        writer.close()


def test_current_sessions_from_a_catalog_that_cannot_tell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without index.json, or when it is folded while it is read, the current sessions come
    from the catalog loaded the ordinary way, with the same answer."""
    _default_store(tmp_path)
    mgr = open_manager(tmp_path)
    mgr.switch("po", D)
    mgr.close()
    index = tmp_path / "sessions" / "index.json"
    from prompt_sessions.storage import files

    real = files.read_bytes

    def folded_meanwhile(path: Path) -> bytes:
        data = real(path)
        if path == index:
            copy = index.with_name("index.copy")
            copy.write_bytes(data)
            copy.replace(index)  # a new inode: as a fold leaves it
        return data

    reader = _reader(tmp_path)
    assert reader.backend._current_from_bytes() == {"po": D}
    reader.close()
    reader = _reader(tmp_path)  # no bytes kept from a read before: it reads, and sees the fold
    try:
        monkeypatch.setattr(files, "read_bytes", folded_meanwhile)
        assert reader.backend._current_from_bytes() is None
        assert reader.backend.get_current("po") == D
    finally:
        monkeypatch.undo()
        reader.close()
    index.unlink()
    reader = _reader(tmp_path)
    try:
        assert reader.backend._current_from_bytes() is None
        reader.backend.get_current("po")  # rebuilt from the files: the choice lived in index
    finally:
        reader.close()


def test_current_of_replays_the_journal_in_order() -> None:
    """Switches and deletes in the journal apply to the table in their order."""
    from prompt_sessions.storage.catalog import Current, Drop

    data = catalog_layout.encode([], {"po": A, "other": B}, {}, {})
    changes = [
        Current(po="po", id=C),
        Drop(id=B),
        Current(po="new", id=D),
        Current(po="new", id=None),
    ]
    assert catalog_lookup.current_of(data, changes) == {"po": C}
    assert catalog_lookup.current_of(data, []) == {"po": A, "other": B}


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.replace(b'"current":{"po":"%s"}' % A.encode(), b'"current":{"po":5}'),
        lambda d: d.replace(A.encode(), b"../../elsewhere"),
        lambda d: d.replace(b"\n", b"\n  "),
    ],
)
def test_a_current_table_that_cannot_tell_gives_no_answer(edit: Any) -> None:
    """A table that does not decode, names no session id, or a catalog in another layout."""
    data = catalog_layout.encode([], {"po": A}, {}, {})
    assert catalog_lookup.current_of(data, []) == {"po": A}
    assert catalog_lookup.current_of(edit(data), []) is None
