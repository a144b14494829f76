"""The look-up by name against catalogs edited by hand and folders changed by other programs:
each case here once gave an answer listing does not give (DESIGN section 10).

Each store is edited as another program would and the look-up (``known_by_name``, the
name-clash note, ``resolve``) is compared with what listing every session says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lookup_support import catalog_of, make_session, store_of
from reliability_support import host

from prompt_sessions.errors import AmbiguousSession
from prompt_sessions.ids import is_valid_id
from prompt_sessions.manager import SessionManager
from prompt_sessions.organise.name_clash import name_clash_notes
from prompt_sessions.storage import catalog, catalog_lookup
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.text import same_text

A = "abcd1111-0000-4000-8000-000000000001"
B = "abcd2222-0000-4000-8000-000000000002"
C = "cafe0000-0000-4000-8000-000000000003"


def _reader(root: Path) -> SessionManager:
    return SessionManager(root, JsonBackend(root, idle_fold_seconds=None), host(), {})


def _listed(root: Path, name: str) -> list[str]:
    """The ids of the sessions listing finds named ``name``, in a process of its own."""
    mgr = _reader(root)
    try:
        return sorted(s.id for s in mgr.list() if same_text(s.name, name))
    finally:
        mgr.close()


def _known(root: Path, name: str) -> list[str] | None:
    mgr = _reader(root)
    try:
        found = mgr.backend.known_by_name(name)
        return None if found is None else sorted(s.id for s in found)
    finally:
        mgr.close()


def _entry(data: bytes, sid: str) -> bytes:
    return next(line for line in data.split(b"\n") if line.startswith(b'{"id":"%s"' % sid.encode()))


def _listed_again(d: bytes) -> bytes:
    """A's entry listed a second time, last, with its keys in another order and another name."""
    again = _entry(d, A).rstrip(b",").replace(b'"id":"%s","name":"Plan"' % A.encode(), b"")
    again = b'{"name":"Draft","id":"%s"' % A.encode() + again[1:]
    return d.replace(b"\n],", b",\n" + again + b"\n],")


# (an edit of index.json, the sessions listing then finds named "Plan")
_HAND_EDITS: list[tuple[str, Callable[[bytes], bytes], list[str]]] = [
    # another entry's name key written with a space: a search of "name":"Plan" misses it
    ("a space after a name key", lambda d: d.replace(b'"name":"Notes"', b'"name": "Plan"'), [A, C]),
    ("a space before the colon", lambda d: d.replace(b'"name":"Notes"', b'"name" :"Plan"'), [A, C]),
    # a second name key, later in the entry and spaced, is the one a decoder keeps
    (
        "a second name key",
        lambda d: d.replace(b'"Notes","po_name":"po"', b'"Notes","po_name":"po","name":\t"Plan"'),
        [A, C],
    ),
    # the entry found listed again under another name: the last one counts
    ("an entry listed again", _listed_again, []),
]


@pytest.mark.parametrize(
    ("edit", "listed"), [e[1:] for e in _HAND_EDITS], ids=[e[0] for e in _HAND_EDITS]
)
def test_a_hand_edited_entry_the_bytes_may_miss_gives_no_answer(
    tmp_path: Path, edit: Callable[[bytes], bytes], listed: list[str]
) -> None:
    """index.json edited in place by hand, still in the canonical layout line by line, so that
    an entry named "Plan" is not where a search of the bytes looks: listing finds it, and the
    look-up steps aside rather than answer without it."""
    store_of(tmp_path, make_session(A, "Plan"), make_session(C, "Notes"))
    index = tmp_path / "sessions" / "index.json"
    folder = os.stat(tmp_path / "sessions").st_mtime_ns
    with index.open("r+b") as f:  # in place: the folder's time does not move
        data = edit(f.read())
        f.seek(0)
        f.truncate()
        f.write(data)
    assert os.stat(tmp_path / "sessions").st_mtime_ns == folder
    assert _listed(tmp_path, "Plan") == listed
    assert _known(tmp_path, "Plan") is None


def test_an_id_key_written_with_a_space_gives_no_answer_by_id() -> None:
    """The look-up by id prefix searches ``"id":"<prefix>``: an entry whose id key is spaced
    would be missed, and the one other session with the prefix taken for the only one."""
    data = catalog_of(make_session(A, "Plan"), make_session(B, "Notes"))
    assert len(catalog_lookup.entries_by_id(data, "abcd", "abcd") or []) == 2
    spaced = data.replace(b'{"id":"%s"' % B.encode(), b'{"id": "%s"' % B.encode())
    assert catalog_lookup.entries_by_id(spaced, "abcd", "abcd") is None


def test_a_fork_naming_the_session_found_as_its_parent_is_no_doubt() -> None:
    """The id of the session found may stand again as another's ``parent_id``: that is not the
    entry listed twice, and the look-up still answers."""
    data = catalog_of(make_session(A, "Plan"), make_session(C, "Notes", parent_id=A))
    found = catalog_lookup.entries_named(data, "Plan")
    assert found is not None and [s.id for s, _ in found] == [A]


def _put_behind_the_back(root: Path, sid: str, name: str) -> None:
    """A session file written into ``sessions/`` by another program (as a copy would)."""
    elsewhere = root.parent / f"{root.name}-elsewhere"
    store_of(elsewhere, make_session(sid, name))
    os.replace(elsewhere / "sessions" / f"{sid}.json", root / "sessions" / f"{sid}.json")


def test_a_file_added_behind_the_catalogs_back_is_left_to_listing(tmp_path: Path) -> None:
    """A session file named "Plan" copied into ``sessions/`` by another program moves the
    folder's time off the catalog's stamp: listing finds it, so the look-up steps aside and the
    note after naming another session "Plan" is given, as it was before the look-up."""
    store_of(tmp_path, make_session(A, "Plan"), make_session(C, "Notes"))
    _put_behind_the_back(tmp_path, B, "Plan")
    assert _known(tmp_path, "Plan") is None
    assert _listed(tmp_path, "Plan") == [A, B]
    assert _known(tmp_path, "Plan") == [A, B]  # the listing put it in the catalog


def test_the_note_sees_a_session_renamed_behind_the_catalogs_back(tmp_path: Path) -> None:
    """A session file rewritten by another program (a new file put in its place) with the name
    "Plan": renaming another session to "Plan" is noted, and "Plan" is ambiguous."""
    store_of(tmp_path, make_session(A, "Draft"), make_session(C, "Notes"))
    _put_behind_the_back(tmp_path, C, "Plan")
    mgr = _reader(tmp_path)
    try:
        renamed = mgr.rename(A, "Plan")
        assert name_clash_notes(mgr, [renamed]) == [
            f"Note: another session is also called 'Plan': name this one by its id, {A[:8]}"
        ]
        with pytest.raises(AmbiguousSession):
            mgr.resolve("po", "Plan")
    finally:
        mgr.close()


@pytest.mark.parametrize("state", ["missing", "empty", "cut short", "without a folder stamp"])
def test_an_index_that_cannot_tell_is_left_to_listing(tmp_path: Path, state: str) -> None:
    """index.json missing, empty, cut short, or with no folder stamp to check the folder by:
    no answer from the bytes, and the name still resolves by listing."""
    store_of(tmp_path, make_session(A, "Plan"), make_session(C, "Notes"))
    index = tmp_path / "sessions" / "index.json"
    data = index.read_bytes()
    if state == "missing":
        index.unlink()
    elif state == "empty":
        index.write_bytes(b"")
    elif state == "cut short":
        index.write_bytes(data[: len(data) // 2])
    else:
        head = data[: data.index(b"\n")]
        index.write_bytes(head.split(b'"folder_mtime_ns"')[0] + b'"sessions":[' + data[len(head) :])
    assert _known(tmp_path, "Plan") is None
    mgr = _reader(tmp_path)
    try:
        assert mgr.resolve("po", "Plan").id == A
    finally:
        mgr.close()


@pytest.mark.parametrize("planted", ["index.journal", "index.json"])
def test_a_named_pipe_in_the_catalogs_place_does_not_block(tmp_path: Path, planted: str) -> None:
    """A named pipe put where the journal or index.json stands, the folder's time set back to
    the catalog's stamp: the look-up steps aside rather than wait for a writer that never
    comes, and the name still resolves, from the session files."""
    store_of(tmp_path, make_session(A, "Plan"), make_session(C, "Notes"))
    folder = tmp_path / "sessions"
    stamp = catalog_lookup.folder_of((folder / "index.json").read_bytes())
    assert stamp is not None
    (folder / planted).unlink(missing_ok=True)
    os.mkfifo(folder / planted)
    os.utime(folder, ns=(os.stat(folder).st_atime_ns, stamp))
    mgr = _reader(tmp_path)
    try:
        assert mgr.backend.known_by_name("Plan") is None
        assert mgr.resolve("po", "Plan").id == A
    finally:
        mgr.close()


# Whatever a hand edit leaves decodable, the look-up agrees with the decoded catalog.

_SPELLINGS = [b"Plan", b"\\u0050lan", b"Pl\\/an", b"Plan ", b"\xe2\x84\xaalan", b"Notes"]


def _edit_line(line: bytes, edit: int, value: bytes, other: bytes) -> bytes:
    """One hand edit of an entry's line (no comma at its end): spaces after colons or before the
    name's, a name set in some spelling, the name key moved last, a name key or value added
    elsewhere, another entry's id added as a parent."""
    body = line
    key = re.search(rb',"name" ?: ?"[^"]*"', body)
    if key is None:  # edited already past recognition: left as it is
        return line
    name_at, name_end = key.span()
    if edit == 0:
        body = body.replace(b":", b": ", 1 + value.count(b"l"))
    elif edit == 1:
        body = body.replace(b'"name":', b'"name" :', 1)
    elif edit == 2:
        body = body[:name_at] + b',"name":"' + value + b'"' + body[name_end:]
    elif edit == 3:
        body = body[:name_at] + body[name_end:-1] + body[name_at:name_end] + b"}"
    elif edit == 4:
        body = body[:-1] + b',"x":{"name":"' + value + b'"},"tags":["name"]}'
    elif edit == 5:
        body = body[:-1] + b',"name":"' + value + b'"}'
    else:
        body = body[:-1] + b',"parent_id":"' + other + b'"}'
    return body


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(st.sampled_from(["Plan", "Notes", "Plan B", "name"]), min_size=3, max_size=3),
    edits=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from([0, 1, 2, 2, 2, 3, 4, 5, 6, 6]),
            st.sampled_from(_SPELLINGS),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_a_hand_edited_catalog_that_decodes_agrees_with_the_look_up(
    names: list[str], edits: list[tuple[int, int, bytes, bool]]
) -> None:
    """index.json edited line by line (an entry's line edited, or listed again edited, last):
    when it still decodes, the look-up steps aside or finds exactly the entries the decoded
    catalog names "Plan" (the last of an id listed twice counts, as when the catalog loads)."""
    ids = [A, B, C]
    data = catalog_of(*(make_session(sid, n) for sid, n in zip(ids, names, strict=True)))
    lines = data.split(b"\n")
    entries = [line.rstrip(b",") for line in lines[1 : 1 + len(ids)]]
    for which, edit, value, again in edits:
        line = _edit_line(entries[which], edit, value, ids[which - 1].encode())
        if again:
            entries.append(line)
        else:
            entries[which] = line
    edited = b"\n".join([lines[0], b",\n".join(entries), *lines[1 + len(ids) :]])
    try:
        decoded = msgspec.json.decode(edited, type=catalog.CatalogFile)
    except msgspec.DecodeError:
        assume(False)
    assume(all(is_valid_id(s.id) for s in decoded.sessions))
    found = catalog_lookup.entries_named(edited, "Plan")
    if found is not None:
        last = {s.id: s for s in decoded.sessions}
        assert sorted(s.id for s, _ in found) == sorted(
            sid for sid, s in last.items() if same_text(s.name, "Plan")
        )
