"""The catalog's canonical layout and the fold that splices journal changes into its bytes.

A splice must give exactly the bytes a full encode gives for the same entries (so ``doctor``
finds nothing to fix and readers see every field), and must refuse, rather than guess, on a
catalog in any other layout: a person's pretty-printed file, a cut one, another version's.
"""

from __future__ import annotations

import json
import random
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from prompt_sessions.models import SessionSummary
from prompt_sessions.storage import catalog, catalog_layout
from prompt_sessions.storage.catalog import Bad, Change, Current, Damaged, Drop, Put, View
from reliability_support import assert_at_rest, catalog_on_disk, open_manager

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))
IDS = [f"00000000-0000-4000-8000-0000000000{n:02d}" for n in range(10)]


def _summary(n: int, updated: str, name: str | None = None, **extra: Any) -> SessionSummary:
    return SessionSummary(
        id=IDS[n],
        name=name or f"session {n}",
        po_name="po",
        message_count=n,
        created_at="2025-01-01T00:00:00.000Z",
        updated_at=updated,
        **extra,
    )


def _view(changes: list[Change]) -> View:
    view = View()
    view.loaded = True
    for change in changes:
        view.apply(change)
    return view


def _start() -> list[Change]:
    """Five sessions (two with the same time, ordered by id), a damaged one, current choices."""
    return [
        Put(s=_summary(0, "2025-01-01T00:00:01.000Z"), f=(10, 100, 1000)),
        Put(s=_summary(1, "2025-01-01T00:00:02.000Z", tags=["a"], pinned=True), f=(11, 101, 1)),
        Put(s=_summary(2, "2025-01-01T00:00:02.000Z"), f=(12, 102, 1002)),
        Put(s=_summary(3, "2025-01-01T00:00:03.000Z", archived=True), f=None),
        Put(s=_summary(4, "2025-01-01T00:00:04.000Z"), f=(14, 104, 1004)),
        Bad(id=IDS[5], error="not JSON", f=(15, 105, 1005)),
        Current(po="po", id=IDS[2]),
        Current(po="other", id=IDS[4]),
    ]


SPLICED = {
    "a new session, most recent": [Put(s=_summary(6, "2025-01-02T00:00:00.000Z"), f=(1, 2, 3))],
    "an append to an old one": [Put(s=_summary(0, "2025-01-02T00:00:00.000Z"), f=(20, 200, 1))],
    "a rename keeps its place": [Put(s=_summary(2, "2025-01-01T00:00:02.000Z", "x"), f=(9, 9, 9))],
    "a rename of one without a stamp": [Put(s=_summary(3, "2025-01-01T00:00:03.000Z", "y"))],
    "a stamp dropped in place": [Put(s=_summary(1, "2025-01-01T00:00:02.000Z"), f=None)],
    "a delete clears the current choice": [Drop(id=IDS[2])],
    "a delete of what is not there": [Drop(id=IDS[9])],
    "a session turned damaged": [Bad(id=IDS[1], error="cut", f=(1, 1, 1))],
    "a damaged session mended": [Put(s=_summary(5, "2025-01-03T00:00:00.000Z"), f=(5, 5, 5))],
    "a damaged session deleted": [Drop(id=IDS[5])],
    "current set and cleared": [Current(po="new", id=IDS[0]), Current(po="other", id=None)],
    "many changes to one session count once": [
        Put(s=_summary(7, f"2025-01-0{day}T00:00:00.000Z"), f=(day, day, 7)) for day in (5, 6, 7)
    ],
    "everything deleted": [Drop(id=sid) for sid in IDS[:6]],
}


@pytest.mark.parametrize("changes", SPLICED.values(), ids=SPLICED.keys())
def test_a_splice_gives_the_bytes_a_full_encode_gives(changes: list[Change]) -> None:
    """Each kind of change spliced into a catalog's bytes gives exactly what encoding the
    changed view whole gives, and json.loads reads back every field of every entry."""
    before = catalog.encode_catalog(_view(_start()))
    spliced = catalog_layout.splice(before, changes, None)
    expected = catalog.encode_catalog(_view(_start() + changes))
    assert spliced == expected
    doc = json.loads(spliced)
    assert len(doc["sessions"]) == len(_view(_start() + changes).sessions)


def test_a_splice_into_an_empty_catalog_and_back() -> None:
    """A first session into an empty catalog, then deleting it again, as a full encode."""
    empty = catalog.encode_catalog(_view([]))
    first = [Put(s=_summary(0, "2025-01-01T00:00:00.000Z"), f=(1, 2, 3))]
    one = catalog_layout.splice(empty, first, None)
    assert one == catalog.encode_catalog(_view(first))
    assert catalog_layout.splice(one, [Drop(id=IDS[0])], None) == empty  # type: ignore[arg-type]


REFUSED = {
    "an older time for a session elsewhere": [Put(s=_summary(4, "2025-01-01T00:00:00.000Z"))],
    "a new session older than the newest": [Put(s=_summary(6, "2025-01-01T00:00:00.000Z"))],
    "a stamp where none was, in place": [
        Put(s=_summary(3, "2025-01-01T00:00:03.000Z"), f=(1, 1, 1))
    ],
    "more sessions than a splice pays for": [
        Put(
            s=msgspec.structs.replace(
                _summary(0, "2025-01-09T00:00:00.000Z"), id=f"{n:08d}-0000-4000-8000-000000000000"
            )
        )
        for n in range(catalog_layout.MAX_SPLICED + 1)
    ],
}


@pytest.mark.parametrize("changes", REFUSED.values(), ids=REFUSED.keys())
def test_a_change_a_splice_cannot_place_is_refused(changes: list[Change]) -> None:
    """An entry whose place in the order a splice cannot tell without reading every entry, or
    too many changes at once: the splice declines, and the caller encodes the whole view."""
    assert catalog_layout.splice(catalog.encode_catalog(_view(_start())), changes, None) is None


def _pretty(data: bytes) -> bytes:
    return json.dumps(json.loads(data), indent=2).encode()


MANGLED = {
    "pretty-printed by a person": _pretty,
    "compact on one line": lambda d: json.dumps(json.loads(d)).encode(),
    "cut short": lambda d: d[: len(d) // 2],
    "its last newline cut": lambda d: d[:-1],
    "another version": lambda d: d.replace(b'"format_version":1', b'"format_version":2', 1),
    "current spread over lines": lambda d: d.replace(b'"current":{', b'"current":{\n', 1),
    "damaged spread over lines": lambda d: d.replace(b'"damaged":{', b'"damaged":{\n', 1),
    "no files section": lambda d: d.replace(b',"files":{\n', b',"filez":{\n', 1),
    "no current section": lambda d: d.replace(b'\n],"current":', b'\n],"curent":', 1),
    "current not an object": lambda d: d.replace(b'"current":{', b'"current":[{', 1),
    "a first entry that is not a summary": lambda d: d.replace(b'"name":', b'"nam":', 1),
}


@pytest.mark.parametrize("mangle", MANGLED.values(), ids=MANGLED.keys())
def test_a_catalog_in_another_layout_is_not_spliced(mangle: Any) -> None:
    """Anything but the canonical layout makes the splice decline (never a guess)."""
    data = mangle(catalog.encode_catalog(_view(_start())))
    changes = [Put(s=_summary(6, "2025-01-02T00:00:00.000Z"), f=(1, 2, 3))]
    assert catalog_layout.splice(data, changes, None) is None


def test_an_entry_that_is_not_a_summary_where_it_is_kept_is_not_spliced() -> None:
    """A session's old line that does not decode (a hand edit inside the canonical layout):
    the splice declines instead of guessing where the new entry goes."""
    data = catalog.encode_catalog(_view(_start())).replace(b'"name":"session 2"', b'"name":2')
    changes = [Put(s=_summary(2, "2025-01-01T00:00:02.000Z", "x"), f=(9, 9, 9))]
    assert catalog_layout.splice(data, changes, None) is None


def test_journal_lines_that_cannot_be_trusted_are_skipped() -> None:
    """decode_changes keeps whole, valid lines in order and skips torn, damaged or non-UUID
    ones, as the reader does."""
    good = [Put(s=_summary(0, "2025-01-01T00:00:00.000Z")), Drop(id=IDS[1])]
    data = (
        catalog.encode_change(good[0])
        + b'{"op":"put","s":\n'
        + catalog.encode_change(Drop(id="../../etc/passwd"))
        + catalog.encode_change(good[1])
        + b'{"op":"del","id":"'
    )
    assert catalog.decode_changes(data) == good


# ------------------------------------------------------------------ through the store


def _cli(root: Path, *args: str) -> str:
    done = subprocess.run(
        [SCRIPT, "--dir", str(root), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PROMPT_SESSIONS_PLUGINS": ""},
        check=True,
    )
    return done.stdout


def test_cli_writes_splice_a_catalog_json_reads_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """new, rename, send and delete, each a process of its own, keep index.json in the
    canonical layout: valid JSON with every field of every session, equal to a rebuild from
    the files, and never re-encoded whole by these writes."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    ids = [mgr.create("po", f"s{i}").id for i in range(5)]
    mgr.close()
    created = json.loads(_cli(root, "new", "po", "--name", "fresh", "--json"))["id"]
    _cli(root, "rename", ids[1], "renamed")
    _cli(root, "send", "po", "hello", "--session", ids[2])
    _cli(root, "delete", ids[3], "--yes")
    data = (root / "sessions" / "index.json").read_bytes()
    assert data.startswith(catalog_layout.HEAD)
    doc = json.loads(data)
    by_id = {s["id"]: s for s in doc["sessions"]}
    assert set(by_id) == {created, *ids} - {ids[3]}
    assert by_id[ids[1]]["name"] == "renamed"
    assert by_id[ids[2]]["message_count"] == 2
    assert set(doc["files"]) == set(by_id)
    assert_at_rest(root)
    # The layout is the full encode's: doctor finds nothing to rewrite.
    mgr = open_manager(root)
    report = mgr.check(repair=False)
    assert report.fixed == []
    mgr.close()


def test_a_write_process_folds_by_splicing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fold of a write process in a store at rest never encodes the whole catalog."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    sid = mgr.create("po", "one").id
    mgr.close()

    def refuse(view: View) -> bytes:
        raise AssertionError("the whole catalog was encoded")

    monkeypatch.setattr(catalog, "encode_catalog", refuse)
    mgr = open_manager(root)
    mgr.rename(sid, "two")
    mgr.close()
    monkeypatch.undo()
    assert [s.name for s in catalog_on_disk(root).sessions] == ["two"]
    assert_at_rest(root)


# A newer version's catalog makes the store read-only: tested with the versions.
HAND_MANGLED = {k: v for k, v in MANGLED.items() if k != "another version"}


@pytest.mark.parametrize("mangle", HAND_MANGLED.values(), ids=HAND_MANGLED.keys())
def test_a_hand_mangled_catalog_is_still_read_and_rewritten(tmp_path: Path, mangle: Any) -> None:
    """index.json in another layout (pretty-printed, cut short, ...): list still gives every
    session, and the next write's fold writes it whole in the canonical layout again."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    ids = [mgr.create("po", f"s{i}").id for i in range(3)]
    mgr.close()
    index = root / "sessions" / "index.json"
    index.write_bytes(mangle(index.read_bytes()))
    mgr = open_manager(root)
    assert {s.id for s in mgr.list()} == set(ids)
    mgr.rename(ids[0], "renamed")
    mgr.close()
    assert index.read_bytes().startswith(catalog_layout.HEAD)
    assert {s.id: s.name for s in catalog_on_disk(root).sessions}[ids[0]] == "renamed"
    assert_at_rest(root)


def test_damaged_entries_round_trip(tmp_path: Path) -> None:
    """A catalog holding a damaged session's verdict, spliced, keeps the verdict."""
    data = catalog.encode_catalog(_view(_start()))
    spliced = catalog_layout.splice(data, [Current(po="x", id=IDS[0])], None)
    doc = msgspec.json.decode(spliced, type=catalog.CatalogFile)  # type: ignore[arg-type]
    assert doc.damaged == {IDS[5]: Damaged(error="not JSON", stamp=(15, 105, 1005))}


@pytest.mark.parametrize("seed", range(3))
def test_random_changes_splice_as_a_full_encode(seed: int) -> None:
    """Random catalogs (ties in time, sessions without stamps, damaged ones, current choices)
    and random runs of puts, deletes, damage and current changes, a session touched several
    times among them: every splice that does not decline gives the full encode's bytes."""
    rng = random.Random(seed)
    spliced = 0
    for _ in range(400):
        start: list[Change] = []
        for n in rng.sample(range(10), rng.randint(0, 8)):
            day = rng.randint(1, 3)
            stamp = rng.choice([None, (n, n, n)])
            start.append(Put(s=_summary(n, f"2025-01-0{day}T00:00:00.000Z"), f=stamp))
        if rng.random() < 0.3:
            start.append(Bad(id=IDS[rng.randrange(10)], error="x", f=(1, 1, 1)))
        start.append(Current(po="po", id=IDS[rng.randrange(10)]))
        changes: list[Change] = []
        for _ in range(rng.randint(1, 4)):
            n, roll = rng.randrange(10), rng.random()
            if roll < 0.5:
                when = f"2025-01-0{rng.randint(1, 5)}T00:00:00.000Z"
                name = rng.choice(["a", "b", None])
                changes.append(Put(s=_summary(n, when, name), f=rng.choice([None, (2, 2, n)])))
            elif roll < 0.7:
                changes.append(Drop(id=IDS[n]))
            elif roll < 0.8:
                changes.append(Bad(id=IDS[n], error="y", f=(3, 3, 3)))
            else:
                changes.append(Current(po=rng.choice(["po", "q"]), id=rng.choice([None, IDS[n]])))
        got = catalog_layout.splice(catalog.encode_catalog(_view(start)), changes, 7)
        if got is not None:
            want = _view(start + changes)
            want.folder = 7
            assert got == catalog.encode_catalog(want)
            spliced += 1
    assert spliced > 200  # most runs are spliced, not declined


@pytest.mark.parametrize("offset", [None, 3])
def test_pieces_are_written_whole_in_order_through_short_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offset: int | None
) -> None:
    """A spliced catalog is written as its pieces (bytes and slices of the old catalog), each
    in full even when the kernel takes a few bytes at a time, at a position or appended."""
    from prompt_sessions.storage import files

    real_write, real_pwrite = os.write, os.pwrite
    monkeypatch.setattr(files.os, "write", lambda fd, data: real_write(fd, bytes(data[:2])))
    monkeypatch.setattr(
        files.os, "pwrite", lambda fd, data, at: real_pwrite(fd, bytes(data[:2]), at)
    )
    old = b"0123456789"
    pieces = [b"head,", memoryview(old)[2:7], b"", b",tail"]
    path = tmp_path / "out"
    path.write_bytes(b"XYZ")
    fd = os.open(path, os.O_RDWR | (os.O_APPEND if offset is None else 0))
    try:
        files.write_all(fd, pieces, offset)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"XYZhead,23456,tail"
