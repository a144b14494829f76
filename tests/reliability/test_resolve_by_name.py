"""Finding sessions by name in the JSON store from index.json's bytes and the journal, with the
same answer as listing.

``SessionManager.resolve`` and the name-clash notes ask the backend for the sessions bearing a
name (``JsonBackend.known_by_name``, DESIGN section 10) before they decode the catalog; whenever
the bytes cannot tell for sure (a name JSON may write two ways, a character that is the same
text as an ASCII one, a catalog in another layout, a fold meanwhile) the answer is None and the
full rules decide, so every answer is the one listing gives.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lookup_support import catalog_of, fail, make_session, store_of
from reliability_support import assert_at_rest, host, open_manager

from prompt_sessions.errors import AmbiguousSession
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.organise.name_clash import name_clash_notes
from prompt_sessions.resolve import by_name_lookup
from prompt_sessions.storage import catalog_lookup, files
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.text import same_text

A = "abcd1111-0000-4000-8000-000000000001"
B = "abcd2222-0000-4000-8000-000000000002"
C = "cafe0000-0000-4000-8000-000000000003"
D = "beef0000-0000-4000-8000-000000000004"


def _names(found: list[Any] | None) -> list[str] | None:
    return None if found is None else sorted(s.id for s, _ in found)


# The catalog's bytes (catalog_lookup.entries_named).


def test_every_entry_bearing_the_name_is_found_with_its_stamp() -> None:
    """Two sessions of two POs named alike are both found, each with its file's stamp; a name
    only a part of another's, or another field's value, is not a match."""
    data = catalog_of(
        make_session(A, "Plan"),
        make_session(B, "Plan", po="other"),
        make_session(C, "Plan B", tags=["Plan"]),
        make_session(D, "x", po="Plan"),
        unstamped=B,
    )
    found = catalog_lookup.entries_named(data, "Plan")
    assert found is not None
    assert sorted((s.id, f) for s, f in found) == [(A, (1, 2, 3)), (B, None)]
    assert _names(catalog_lookup.entries_named(data, "Pla")) == []
    assert _names(catalog_lookup.entries_named(data, "Plan B")) == [C]


@pytest.mark.parametrize(
    "name",
    ["Crème", 'say "hi"', "back\\slash", "a/b", "tab\there", "数据库"],
)
def test_a_name_json_may_write_another_way_gives_no_answer(name: str) -> None:
    """Names beyond printable ASCII, or holding a character JSON may escape (a quote, a
    backslash, a slash, a control character), may stand in the bytes in another spelling:
    the look-up steps aside."""
    data = catalog_of(make_session(A, name))
    assert catalog_lookup.entries_named(data, name) is None


def test_a_character_that_decomposes_into_ascii_gives_no_answer() -> None:
    """A session named with the KELVIN SIGN is the same text as one named with the letter K
    (DESIGN section 3): the bytes differ, so the look-up of either steps aside."""
    data = catalog_of(make_session(A, "Kelvin"), make_session(C, "\u212aelvin"))
    assert same_text("\u212aelvin", "Kelvin")
    assert catalog_lookup.entries_named(data, "Kelvin") is None
    plain = catalog_of(make_session(A, "Kelvin"), make_session(C, "Crème"))
    assert _names(catalog_lookup.entries_named(plain, "Kelvin")) == [A]


def test_the_ascii_alike_characters_are_all_of_them() -> None:
    """:data:`catalog_lookup.ASCII_ALIKE` holds every character beyond ASCII whose canonical
    decomposition is ASCII, in this Python's Unicode database: a name holding any other
    character beyond ASCII is never the same text as an ASCII name."""
    found = {
        chr(c)
        for c in range(0x80, sys.maxunicode + 1)
        if not 0xD800 <= c < 0xE000 and unicodedata.normalize("NFD", chr(c)).isascii()
    }
    assert found == set(catalog_lookup.ASCII_ALIKE)


def _entry(data: bytes, sid: str) -> bytes:
    return next(line for line in data.split(b"\n") if sid.encode() in line).rstrip(b",")


@pytest.mark.parametrize(
    "edit",
    [
        # a letter of another name escaped: it may spell the name looked for
        lambda d: d.replace(b'"name":"Plan B"', b'"name":"\\u0050lan"'),
        # a name key that is not the second of its entry
        lambda d: d.replace(
            b'{"id":"%s","name":"Plan",' % A.encode(), b'{"name":"Plan","id":"%s",' % A.encode()
        ),
        # an entry listed twice
        lambda d: d.replace(b"\n],", b",\n" + _entry(d, A) + b"\n],"),
        # an entry that does not decode
        lambda d: d.replace(
            b'"Plan","po_name":"po","message_count":0', b'"Plan","message_count":0'
        ),
        # an id that is no session id
        lambda d: d.replace(A.encode(), b"abcd1111-0000-4000-8000-00000000000z"),
        # a file stamp that is not one
        lambda d: d.replace(b'"%s":[1,2,3]' % A.encode(), b'"%s":[1,2]' % A.encode()),
        # another layout
        lambda d: d.replace(b"\n", b"\n  "),
    ],
)
def test_bytes_that_cannot_tell_for_sure_give_no_answer(edit: Any) -> None:
    """Each kind of doubt in the catalog's bytes makes the look-up by name step aside."""
    data = catalog_of(make_session(A, "Plan"), make_session(C, "Plan B"))
    assert _names(catalog_lookup.entries_named(data, "Plan")) == [A]
    assert catalog_lookup.entries_named(edit(data), "Plan") is None


# The backend: index.json with the journal's changes (JsonBackend.known_by_name).


def _reader(root: Path) -> SessionManager:
    """A manager of a new process that does not fold another writer's journal as it opens."""
    return SessionManager(root, JsonBackend(root, idle_fold_seconds=None), host(), {})


def _known(mgr: SessionManager, name: str) -> list[str] | None:
    found = mgr.backend.known_by_name(name)
    return None if found is None else sorted(s.id for s in found)


def test_the_journal_not_yet_folded_is_applied(tmp_path: Path) -> None:
    """Sessions made, renamed to or from the name, or deleted by a writer whose journal is not
    folded yet are seen as the journal leaves them, without decoding the catalog."""
    store_of(tmp_path, make_session(A, "Plan"), make_session(B, "Notes"), make_session(C, "Plan"))
    writer = _reader(tmp_path)
    writer.rename(A, "Draft")
    writer.rename(B, "Plan")
    writer.delete(C)
    writer.backend.create(make_session(D, "Plan", po="other"))
    assert (tmp_path / "sessions" / "index.journal").exists()
    reader = _reader(tmp_path)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(JsonBackend, "list_known", fail)
            patch.setattr(JsonBackend, "list", fail)
            assert _known(reader, "Plan") == [B, D]
            assert _known(reader, "Draft") == [A]
            assert reader.resolve("po", "Plan").id == B
            assert reader.resolve("other", "Plan").id == D
        assert sorted(s.id for s in reader.list() if s.name == "Plan") == [B, D]
    finally:
        reader.close()
        writer.close()
    assert_at_rest(tmp_path)


def test_a_fold_while_the_catalog_is_read_gives_no_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process folding its journal between the reads of index.json and the journal
    takes the journal's changes away from what was read: the look-up then steps aside rather
    than answer from the old index.json alone."""
    store_of(tmp_path, make_session(A, "Plan"), make_session(C, "Notes"))
    writer = _reader(tmp_path)
    writer.rename(A, "Draft")
    reader = _reader(tmp_path)
    read_bytes = files.read_bytes

    folded: list[bool] = []

    def fold_first(path: Path) -> bytes:
        if path.name == "index.journal" and not folded:
            folded.append(True)
            writer.backend.flush()  # index.json now says "Draft"; the journal is gone
        return read_bytes(path)

    monkeypatch.setattr(files, "read_bytes", fold_first)
    try:
        assert reader.backend.known_by_name("Plan") is None  # not the old index's A
        monkeypatch.setattr(files, "read_bytes", read_bytes)
        assert (_known(reader, "Plan"), _known(reader, "Draft")) == ([], [A])
    finally:
        reader.close()
        writer.close()


def test_a_process_that_holds_the_catalog_is_not_answered_from_bytes(tmp_path: Path) -> None:
    """Once this process has the catalog decoded, the look-up leaves it to ``list_known``."""
    store_of(tmp_path, make_session(A, "Plan"))
    mgr = open_manager(tmp_path)
    try:
        mgr.backend.list_known()
        assert mgr.backend.known_by_name("Plan") is None
        assert mgr.resolve("po", "Plan").id == A
    finally:
        mgr.close()


def test_reading_and_appending_after_a_look_up_by_name_need_not_load_the_catalog(
    tmp_path: Path,
) -> None:
    """``send --session NAME``: the session found by name is read and appended to from the
    entry the look-up found."""
    from prompt_sessions.storage import catalog

    store_of(tmp_path, make_session(A, "Plan"), make_session(C, "Notes"))
    mgr = open_manager(tmp_path)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(catalog, "_load_index", fail)
            target = mgr.get(mgr.resolve("po", "Plan").id)
            mgr.append(target.id, Message(role="user", content="hello", source="cli"))
    finally:
        mgr.close()
    mgr = open_manager(tmp_path)
    try:
        assert {s.id: s.message_count for s in mgr.list()} == {A: 1, C: 0}
        assert not mgr.check().fixed
    finally:
        mgr.close()
    assert_at_rest(tmp_path)


def test_a_ref_that_may_be_an_id_or_names_several_is_left_to_the_full_rules(
    tmp_path: Path,
) -> None:
    """A ref of hex digits, an empty one, or a name two sessions of the PO bear, is not
    answered by the look-up by name; the full rules then give the answer listing gives."""
    store_of(tmp_path, make_session(A, "cafe"), make_session(B, "Plan"), make_session(C, "Plan"))
    mgr = open_manager(tmp_path)
    try:
        assert by_name_lookup(mgr.backend, "cafe", "po") is None
        assert by_name_lookup(mgr.backend, "  ", "po") is None
        assert by_name_lookup(mgr.backend, "Plan", "po") is None
        assert by_name_lookup(mgr.backend, " Plan ", "nobody") is None
        with pytest.raises(AmbiguousSession):
            mgr.resolve("po", "cafe")  # the name, and C's id prefix
        with pytest.raises(AmbiguousSession):
            mgr.resolve("po", "Plan")
    finally:
        mgr.close()


# The name-clash note after `new --name` or `rename` (organise.name_clash).


def test_a_name_of_its_own_needs_no_listing_and_a_shared_one_is_noted(tmp_path: Path) -> None:
    """A session made with a name no other bears gets no note and no listing; one made with
    a taken name gets the note, the bytes telling the other session is there."""
    store_of(tmp_path, make_session(A, "Plan"), make_session(C, "Notes", po="other"))
    mgr = open_manager(tmp_path)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(JsonBackend, "list_known", fail)
            patch.setattr(JsonBackend, "list", fail)
            fresh = mgr.create("po", "Fresh")
            assert name_clash_notes(mgr, [fresh]) == []
        taken = mgr.create("other", "Plan")
        assert name_clash_notes(mgr, [taken]) == [
            f"Note: another session is also called 'Plan': name this one by its id, {taken.id[:8]}"
        ]
    finally:
        mgr.close()


# Whatever the names, the look-up agrees with listing.

_NAME_PIECES = ["Plan", "plan", "K", "\u212a", "e", "\u00e9", "e\u0301", " ", '"', "/", "ß", "a"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(
        st.lists(st.sampled_from(_NAME_PIECES), min_size=1, max_size=3).map("".join),
        min_size=1,
        max_size=5,
    ),
    asked=st.lists(st.sampled_from(_NAME_PIECES), min_size=1, max_size=3).map("".join),
)
def test_the_look_up_agrees_with_listing(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], asked: str
) -> None:
    """For stores of a few sessions with names built from letters that fold, compose or
    decompose into each other, the look-up by name either steps aside or finds exactly the
    sessions whose name is the same text as the one asked for, as listing finds them."""
    root = tmp_path_factory.mktemp("store")
    ids = [f"0000{n:04x}-0000-4000-8000-000000000000" for n in range(len(names))]
    half = len(names) // 2
    store_of(
        root, *(make_session(sid, name) for sid, name in zip(ids[:half], names[:half], strict=True))
    )
    writer = _reader(root)  # the rest stay in the journal
    for sid, name in zip(ids[half:], names[half:], strict=True):
        writer.backend.create(make_session(sid, name))
    mgr = _reader(root)
    try:
        for name in {asked, *names}:
            found = _known(mgr, name.strip() or name)
            if found is not None:
                wanted = name.strip() or name
                listed = _reader(root)
                try:
                    expected = sorted(s.id for s in listed.list() if same_text(s.name, wanted))
                finally:
                    listed.close()
                assert found == expected, (name, names)
    finally:
        mgr.close()
        writer.close()


# One read of index.json for the look-ups of one command (``rename`` resolves an id, then
# notes its new name).


def test_an_id_then_a_name_are_looked_up_in_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-up by id and the look-up by name that follows it read index.json once and cut
    it into its sections once; both answer as each would alone."""
    from prompt_sessions.storage import catalog_layout

    store_of(tmp_path, make_session(A, "Plan"), make_session(C, "Notes"))
    reads: list[str] = []
    cuts: list[int] = []
    read_bytes, cut = files.read_bytes, catalog_layout._cut

    def counted_read(path: Path) -> bytes:
        reads.append(Path(path).name)
        return read_bytes(path)

    def counted_cut(data: bytes) -> Any:
        cuts.append(len(data))
        return cut(data)

    monkeypatch.setattr(files, "read_bytes", counted_read)
    monkeypatch.setattr(catalog_lookup, "_cut", counted_cut)
    mgr = _reader(tmp_path)
    try:
        assert [s.id for s in mgr.backend.known_by_id_prefix("cafe")] == [C]
        assert _known(mgr, "Plan") == [A]
        assert _known(mgr, "Notes") == [C]
    finally:
        mgr.close()
    assert reads.count("index.json") == 1
    assert len(cuts) == 1


def test_a_catalog_replaced_between_two_look_ups_is_read_again(tmp_path: Path) -> None:
    """Another process folding a change into index.json between two look-ups of this one: the
    second reads the new catalog, not the bytes kept from the first."""
    store_of(tmp_path, make_session(A, "Plan"), make_session(C, "Notes"))
    reader = _reader(tmp_path)
    writer = _reader(tmp_path)
    try:
        assert _known(reader, "Plan") == [A]
        writer.rename(A, "Draft")
        writer.backend.flush()
        assert (_known(reader, "Plan"), _known(reader, "Draft")) == ([], [A])
    finally:
        reader.close()
        writer.close()
