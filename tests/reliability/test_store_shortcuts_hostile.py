"""Hostile checks of the JSON store's two shortcuts: an open that finds ``sessions/`` at its
pinned time lists no folder, and an append with the journal in place looks at no folder.

What must still hold (DESIGN sections 3 and 4): after a kill -9 at any step the next open
sweeps every temp file, folds the journal and lists what a rebuild from the files says; at rest
``index.json`` equals that rebuild and no side file is left; many processes at once lose nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    abandon,
    assert_at_rest,
    by_id,
    catalog_on_disk,
    open_manager,
    rebuilt_summaries,
    temp_files,
)

from prompt_sessions.models import Message
from prompt_sessions.storage.json_backend import JsonBackend


def _pinned(root: Path) -> bool:
    folder = root / "sessions"
    return os.stat(folder).st_mtime_ns == catalog_on_disk(root).folder_mtime_ns


def _store(root: Path, *names: str, messages: int = 0) -> list[str]:
    mgr = open_manager(root)
    ids = [mgr.create("po", name).id for name in names]
    for sid in ids:
        for n in range(messages):
            mgr.append(sid, Message(role="user", content=f"m{n}"))
    mgr.close()
    return ids


def _leave_temp_file(root: Path, sid: str) -> Path:
    """What a write killed after making its temp file leaves (the folder's time moves on)."""
    leftover = root / "sessions" / f".{sid}.json.0123456789ab.tmp"
    os.close(os.open(leftover, os.O_WRONLY | os.O_CREAT, 0o600))
    return leftover


def _listed_as_rebuilt(root: Path) -> None:
    """A fresh open lists what the files say, sweeps every temp file, and folds to rest."""
    mgr = open_manager(root)
    try:
        assert by_id(mgr.list()) == rebuilt_summaries(root)
    finally:
        mgr.close()
    assert temp_files(root) == []
    assert_at_rest(root)


# ------------------------------------------------------------------ temp files in a pinned folder


def test_a_temp_file_seen_by_a_long_running_list_is_swept_at_the_next_open(
    tmp_path: Path,
) -> None:
    """A write killed after making its temp file moves the folder's time, so a ``list`` of a
    process that opened before the kill checks every file and then pins the folder again. The
    temp file must not be left in a folder at its pinned time: an open that finds the folder
    pinned lists nothing and would never sweep it."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    running = open_manager(root)  # opened (and swept) before the crash
    leftover = _leave_temp_file(root, sid)
    assert not _pinned(root)
    assert [s.id for s in running.list()] == [sid]
    running.close()
    open_manager(root).close()
    assert not leftover.exists()
    assert_at_rest(root)


def test_a_crash_between_an_opens_look_and_its_lock_leaves_no_temp_file(tmp_path: Path) -> None:
    """An open finds the folder pinned with a journal left (so it lists nothing), then another
    writer takes the lock, makes a temp file and is killed before the open takes the lock. The
    open's fold checks every file under the lock: it must sweep that temp file before it pins
    the folder, or no later open (finding the folder pinned) ever does."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    killed = open_manager(root)
    killed.rename(sid, "renamed")
    abandon(killed)
    assert _pinned(root) and (root / "sessions" / "index.journal").exists()
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
    real_acquire = backend.lock.acquire
    left: list[Path] = []

    def acquire(*args: Any, **kwargs: Any) -> None:
        if not left:  # the other writer's killed write, just before this open locks
            left.append(_leave_temp_file(root, sid))
        real_acquire(*args, **kwargs)

    backend.lock.acquire = acquire  # type: ignore[method-assign]
    backend.open_store()
    backend.close()
    assert left
    open_manager(root).close()
    assert temp_files(root) == []
    assert_at_rest(root)


def test_a_temp_file_in_a_folder_pinned_by_hand_is_not_the_stores_problem_to_find(
    tmp_path: Path,
) -> None:
    """The shortcut's premise, stated: the folder's time moves whenever a name comes or goes,
    so a temp file made after the pin leaves the folder unpinned and the next open sweeps it,
    even with no journal to fold."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    assert _pinned(root)
    leftover = _leave_temp_file(root, sid)
    assert not _pinned(root)
    assert not (root / "sessions" / "index.journal").exists()
    open_manager(root).close()
    assert not leftover.exists()
    assert_at_rest(root)


# ------------------------------------------------------------------ kill -9 at chosen steps

_CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from prompt_sessions.models import Message
    from prompt_sessions.storage import files, json_backend, json_store_base
    from prompt_sessions.storage.json_backend import JsonBackend

    root, sid, step, op = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

    def die():
        os.kill(os.getpid(), 9)

    def after(module, name, when=lambda *a, **k: True):
        real = getattr(module, name)
        def wrapped(*a, **k):
            result = real(*a, **k)
            if when(*a, **k):
                die()
            return result
        setattr(module, name, wrapped)

    def before(module, name, when=lambda *a, **k: True):
        real = getattr(module, name)
        def wrapped(*a, **k):
            if when(*a, **k):
                die()
            return real(*a, **k)
        setattr(module, name, wrapped)

    is_index = lambda target, *a, **k: Path(target).name == "index.json"
    not_index = lambda target, *a, **k: Path(target).name != "index.json"
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
    backend.open_store()
    backend.append(sid, Message(role="user", content="warm"))  # the journal is in place
    n = backend.get(sid).history
    if step == "record":
        before(json_store_base.JsonStoreBase, "_record")
    elif step == "replace":
        before(files.os, "replace")
    elif step == "after-replace":
        after(files, "atomic_write", not_index)
    elif step == "index-written":
        after(files, "atomic_write", is_index)
    elif step == "journal-dropped":
        after(json_store_base.JsonStoreBase, "_drop_journal")
    elif step == "pinned":
        after(json_store_base.JsonStoreBase, "_pin_folder")
    elif step == "unlink":
        after(json_backend.os, "unlink")
    elif step == "index-half":  # the fold's spliced pieces, half of them written
        real_write_all = files.write_all
        def write_all(fd, data, offset=None):
            if isinstance(data, list):
                real_write_all(fd, data[: len(data) // 2], offset)
                die()
            return real_write_all(fd, data, offset)
        files.write_all = write_all
    if op == "append":
        backend.append(sid, Message(role="assistant", content="cut"))
    elif op == "replace_last":
        backend.replace_last(sid, Message(role="user", content="new"), index=len(n) - 1)
    elif op == "new":
        import uuid
        from prompt_sessions.models import Session
        now = n[-1].created_at
        backend.create(Session(id=str(uuid.uuid4()), name="new", po_name="po",
                               created_at=now, updated_at=now))
    elif op == "rename":
        backend.update(sid, name="renamed")
    elif op == "delete":
        backend.delete(sid)
    backend.close()
    """
)

_CASES = [
    ("append", "record"),
    ("append", "index-written"),
    ("append", "journal-dropped"),
    ("append", "pinned"),
    ("replace_last", "record"),
    ("replace_last", "journal-dropped"),
    ("new", "replace"),
    ("new", "after-replace"),
    ("new", "record"),
    ("new", "pinned"),
    ("rename", "replace"),
    ("rename", "after-replace"),
    ("rename", "record"),
    ("delete", "unlink"),
    ("delete", "record"),
    ("delete", "index-written"),
    ("append", "index-half"),
    ("delete", "index-half"),
]


def _run_killed(root: Path, sid: str, step: str, op: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), sid, step, op],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -9, done.stderr


@pytest.mark.parametrize(("op", "step"), _CASES, ids=[f"{o}-{s}" for o, s in _CASES])
def test_a_write_killed_at_a_chosen_step_is_found_whole_by_the_next_open(
    tmp_path: Path, op: str, step: str
) -> None:
    """A child process is killed (SIGKILL) at one step of an append, replace_last, new, rename
    or delete, or of the fold at its close: the next open, in this process, sweeps the temp
    files, lists what the files say, and closes to a folder at rest."""
    root = tmp_path / ".prompt_objects"
    sid, _other = _store(root, "a", "b", messages=2)
    _run_killed(root, sid, step, op)
    _listed_as_rebuilt(root)


_WHILE_RUNNING = [
    pytest.param("append", "record", id="append-record"),
    pytest.param("replace_last", "record", id="replace_last-record"),
    pytest.param("append", "index-written", id="append-index-written"),
    pytest.param("append", "journal-dropped", id="append-journal-dropped"),
    pytest.param("new", "replace", id="new-replace"),
    pytest.param("new", "after-replace", id="new-after-replace"),
    pytest.param("new", "index-written", id="new-index-written"),
    pytest.param("rename", "after-replace", id="rename-after-replace"),
    pytest.param("delete", "unlink", id="delete-unlink"),
    pytest.param("delete", "index-written", id="delete-index-written"),
]


@pytest.mark.parametrize(("op", "step"), _WHILE_RUNNING)
def test_a_write_killed_while_another_process_keeps_writing_is_listed_at_rest(
    tmp_path: Path, op: str, step: str
) -> None:
    """A child is killed at one step of a write (or of its fold at close) while this process
    has the store open, its journal in place, and writes on: once this process closes, a new
    process lists every session as its file says and the folder is at rest (the folder left
    pinned makes ``list`` trust the catalog, so the catalog must be right)."""
    root = tmp_path / ".prompt_objects"
    sid, other = _store(root, "a", "b", messages=2)
    running = open_manager(root)
    running.append(other, Message(role="user", content="before"))  # the journal is in place
    _run_killed(root, sid, step, op)
    running.append(other, Message(role="user", content="after"))
    running.close()
    _listed_as_rebuilt(root)


# ------------------------------------------------------------------ many processes


_WORKER = textwrap.dedent(
    """
    import os, sys, uuid
    from prompt_sessions.models import Message, Session
    from prompt_sessions.storage.json_backend import JsonBackend

    root, role, sid, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    backend = JsonBackend(root, lock_timeout=30.0, idle_fold_seconds=0.05)
    backend.open_store()
    for n in range(count):
        if role == "append":
            backend.append(sid, Message(role="user", content=f"{os.getpid()}-{n}"))
        elif role == "replace":
            index = len(backend.get(sid).history)
            backend.append(sid, Message(role="assistant", content="", incomplete=True))
            backend.replace_last(sid, Message(role="assistant", content=f"r{n}"), index=index)
        else:
            now = Message(role="user", content="").created_at
            new = str(uuid.uuid4())
            backend.create(Session(id=new, name=f"c{n}", po_name="po", created_at=now,
                                   updated_at=now))
            if n % 2:
                backend.delete(new)
    backend.close()
    """
)


def test_appenders_replacers_and_a_churner_at_once_lose_nothing(tmp_path: Path) -> None:
    """Two processes append to one session, one appends and replaces the last message of
    another, and a fourth creates and deletes sessions, all with idle folds between: once all
    have closed, a new process lists every message count right, and the folder is at rest and
    pinned (so later lists stay cheap)."""
    root = tmp_path / ".prompt_objects"
    shared, streamed = _store(root, "shared", "streamed")
    count = 40
    jobs = [("append", shared), ("append", shared), ("replace", streamed), ("churn", "-")]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(root), role, sid, str(count)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for role, sid in jobs
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert_at_rest(root)
    assert _pinned(root)
    mgr = open_manager(root)
    try:
        counts = {s.name: s.message_count for s in mgr.list()}
    finally:
        mgr.close()
    assert counts.pop("shared") == 2 * count
    assert counts.pop("streamed") == count
    assert sorted(counts) == sorted(f"c{n}" for n in range(0, count, 2))


# ------------------------------------------------------------------ the journal and index by hand


def test_a_journal_removed_by_hand_between_appends_loses_no_count(tmp_path: Path) -> None:
    """Someone deletes ``index.journal`` while a process has the store open and appends in
    place: the next append makes a new journal, a new process lists every message, and the
    folder closes at rest with the catalog as the files say."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    mgr = open_manager(root)
    mgr.append(sid, Message(role="user", content="one"))
    os.unlink(root / "sessions" / "index.journal")
    mgr.append(sid, Message(role="user", content="two"))
    other = open_manager(root)
    assert [s.message_count for s in other.list()] == [2]
    other.close()
    mgr.close()
    _listed_as_rebuilt(root)


@pytest.mark.parametrize("kind", ["symlink", "directory"])
def test_a_journal_replaced_by_something_else_loses_no_append(tmp_path: Path, kind: str) -> None:
    """``index.journal`` replaced by a symlink (never followed) or a directory between two
    appends: the append still reaches its file, and a new process lists every message."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    mgr = open_manager(root)
    mgr.append(sid, Message(role="user", content="one"))
    journal = root / "sessions" / "index.journal"
    os.unlink(journal)
    target = tmp_path / "elsewhere"
    if kind == "symlink":
        target.write_bytes(b"")
        os.chmod(target, 0o600)
        journal.symlink_to(target)
    else:
        journal.mkdir(mode=0o700)
    mgr.append(sid, Message(role="user", content="two"))
    assert len(mgr.get(sid).history) == 2
    other = open_manager(root)
    try:
        assert [s.message_count for s in other.list()] == [2]
    finally:
        other.close()
    with pytest.warns(Warning) if kind == "directory" else _nothing():
        mgr.close()
    if kind == "symlink":
        assert target.read_bytes() == b""  # nothing written through the link
        _listed_as_rebuilt(root)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_an_index_removed_while_the_folder_is_pinned_is_rebuilt(tmp_path: Path) -> None:
    """``index.json`` deleted by hand from a folder at rest: the folder's time moves, and an
    open with a process appending meanwhile rebuilds a catalog that lists every session and
    message."""
    root = tmp_path / ".prompt_objects"
    a, b = _store(root, "a", "b", messages=1)
    running = open_manager(root)
    running.append(a, Message(role="user", content="more"))
    os.unlink(root / "sessions" / "index.json")
    running.append(a, Message(role="user", content="again"))
    other = open_manager(root)
    try:
        assert {s.id: s.message_count for s in other.list()} == {a: 3, b: 1}
    finally:
        other.close()
    running.close()
    _listed_as_rebuilt(root)


# ------------------------------------------------------------------ many managers in one process


@pytest.mark.parametrize("seed", range(6))
def test_managers_interleaved_in_one_process_agree_with_the_files(
    tmp_path: Path, seed: int
) -> None:
    """Three managers on one store take turns at random: new, append, replace_last, rename,
    delete, list, close and reopen, or drop without closing (as a killed process between two
    calls). Every ``list`` counts what was acknowledged; once all are closed the folder is at
    rest, pinned, and a new manager lists what the files say."""
    import random

    rng = random.Random(seed)
    root = tmp_path / ".prompt_objects"
    model: dict[str, tuple[str, int]] = {}  # id -> (name, messages)
    managers = [open_manager(root) for _ in range(3)]
    for step in range(150):
        k = rng.randrange(len(managers))
        mgr = managers[k]
        roll = rng.random()
        ids = sorted(model)
        if roll < 0.15 or not ids:
            sid = mgr.create("po", f"s{step}").id
            model[sid] = (f"s{step}", 0)
        elif roll < 0.5:
            sid = rng.choice(ids)
            mgr.append(sid, Message(role="user", content=f"m{step}"))
            model[sid] = (model[sid][0], model[sid][1] + 1)
        elif roll < 0.6:
            sid = rng.choice([i for i in ids if model[i][1]] or ids)
            name, count = model[sid]
            if count:
                mgr.replace_last(sid, Message(role="user", content=f"r{step}"), index=count - 1)
        elif roll < 0.68:
            sid = rng.choice(ids)
            mgr.rename(sid, f"n{step}")
            model[sid] = (f"n{step}", model[sid][1])
        elif roll < 0.74:
            sid = rng.choice(ids)
            mgr.delete(sid)
            del model[sid]
        elif roll < 0.86:
            assert {s.id: (s.name, s.message_count) for s in mgr.list()} == model
        elif roll < 0.93:
            mgr.close()
            managers[k] = open_manager(root)
        else:
            abandon(mgr)
            managers[k] = open_manager(root)
    for mgr in managers:
        mgr.close()
    assert_at_rest(root)
    assert _pinned(root)
    fresh = open_manager(root)
    try:
        assert {s.id: (s.name, s.message_count) for s in fresh.list()} == model
    finally:
        fresh.close()


# ------------------------------------------------------------------ the folder kept pinned


def _other_layout(root: Path, sid: str) -> None:
    """Rewrite a session file in place in another JSON layout, as an editor saving over it:
    the folder's time does not move, so it stays pinned."""
    import json

    path = root / "sessions" / f"{sid}.json"
    data = json.dumps(json.loads(path.read_bytes()), indent=4).encode()
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


@pytest.mark.parametrize("op", ["append", "replace_last"])
def test_a_write_that_rewrites_a_file_whole_keeps_the_folder_pinned(
    tmp_path: Path, op: str
) -> None:
    """An append or replace_last to a file not in this program's layout rewrites it whole (a
    temp file renamed over it), even with the journal already in place: the folder was as the
    catalog left it, so it is pinned back after the write and after the close, and lists stay
    cheap."""
    root = tmp_path / ".prompt_objects"
    a, b = _store(root, "a", "b", messages=1)
    mgr = open_manager(root)
    mgr.append(a, Message(role="user", content="makes the journal"))
    _other_layout(root, b)
    assert _pinned(root)
    if op == "append":
        mgr.append(b, Message(role="user", content="more"))
    else:
        mgr.replace_last(b, Message(role="user", content="again"), index=0)
    assert _pinned(root)
    mgr.close()
    assert _pinned(root)
    _listed_as_rebuilt(root)


def test_a_fold_whose_pieces_cannot_all_be_written_keeps_the_catalog_and_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk in the middle of the spliced catalog's pieces: the close warns, index.json
    is as it was, the journal and every append are kept, no temp file is left, and the next
    open folds them."""
    import errno

    from prompt_sessions.errors import StorageWarning
    from prompt_sessions.storage import files

    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a", messages=1)
    index = root / "sessions" / "index.json"
    before = index.read_bytes()
    mgr = open_manager(root)
    mgr.append(sid, Message(role="user", content="kept"))
    real_write_all = files.write_all
    cut: list[int] = []

    def write_all(fd: int, data: Any, offset: int | None = None) -> None:
        if isinstance(data, list):
            assert len(data) > 2  # written as pieces, not joined
            real_write_all(fd, data[:2], offset)
            cut.append(len(data))
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write_all(fd, data, offset)

    monkeypatch.setattr(files, "write_all", write_all)
    with pytest.warns(StorageWarning):
        mgr.close()
    monkeypatch.undo()
    assert cut
    assert index.read_bytes() == before
    assert (root / "sessions" / "index.journal").exists()
    assert temp_files(root) == []
    _listed_as_rebuilt(root)
    assert [s.message_count for s in catalog_on_disk(root).sessions] == [2]


def test_a_journal_removed_during_an_append_loses_no_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``index.journal`` deleted by another program while an append holds it open (its line
    goes to the removed file): removing a name moves the folder's time, so a new process's
    ``list`` checks every file and counts the message, and the store comes to rest."""
    from prompt_sessions.storage.json_store_base import JsonStoreBase

    root = tmp_path / ".prompt_objects"
    a, b = _store(root, "a", "b")
    mgr = open_manager(root)
    mgr.append(b, Message(role="user", content="makes the journal"))
    real_record = JsonStoreBase._record

    def record(self: JsonStoreBase, change: Any) -> None:
        assert self._journal_fd is not None  # the append opened the journal
        os.unlink(self.journal_path)
        real_record(self, change)

    monkeypatch.setattr(JsonStoreBase, "_record", record)
    mgr.append(a, Message(role="user", content="lost line"))
    monkeypatch.undo()
    other = open_manager(root)
    try:
        assert {s.id: s.message_count for s in other.list()} == {a: 1, b: 1}
    finally:
        other.close()
    mgr.close()
    _listed_as_rebuilt(root)


def test_write_all_takes_every_bytes_like_and_refuses_text(tmp_path: Path) -> None:
    """``files.write_all`` writes bytes, a bytearray, a memoryview or a list of pieces (the
    spliced catalog's) alike, and a str is a TypeError, not an endless recursion through its
    one-character pieces."""
    from prompt_sessions.storage import files

    path = tmp_path / "out"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        files.write_all(fd, b"ab")
        files.write_all(fd, bytearray(b"cd"))
        files.write_all(fd, memoryview(b"ef"))
        files.write_all(fd, [b"gh", memoryview(b"xij")[1:], bytearray(b"k")])
        files.write_all(fd, [b"Z", b"Y"], 0)
        with pytest.raises(TypeError):
            files.write_all(fd, "text")  # type: ignore[arg-type]
    finally:
        os.close(fd)
    assert path.read_bytes() == b"ZYcdefghijk"
