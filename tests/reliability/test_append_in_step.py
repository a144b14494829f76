"""An append that finds the store as this process's last append left it (``storage.in_step``).

Such an append looks up no name by path: one stat of the folder vouches for all of them, and
the kept descriptors are checked by ``fstat``. Every test here first puts the store in that
state (two appends to one session, the folder's change time older than the first of them) and
checks it is; then another program or process changes something, and the next append must find
out and do what the append that looks everything up would do: nothing acknowledged is lost and
nothing lands in a file the store no longer names.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.errors import ReadOnlyStore, SessionNotFound
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.storage import in_step, json_backend, session_codec
from prompt_sessions.storage import locking as locking_module
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.locking import StoreLock
from prompt_sessions.storage.session_codec import decode_session, encode_session
from reliability_support import assert_at_rest, by_id, open_manager

PO = "coordinator"
# Longer than any file system clock's tick here, so the folder's change time is in the past.
TICK = 0.05


def _say(i: int) -> Message:
    return Message(role="user", content=f"message {i}")


def _backend(manager: SessionManager) -> JsonBackend:
    backend = manager.backend
    assert isinstance(backend, JsonBackend)
    return backend


def _contents(path: Path) -> list[str]:
    return [m.content for m in decode_session(path.read_bytes(), path.stem).history]


class _Quick:
    """Records what each try of the quick way returned (a summary, or None: it stepped aside)."""

    def __init__(self, backend: JsonBackend, monkeypatch: pytest.MonkeyPatch) -> None:
        self.results: list[object] = []
        real = backend._append_in_step

        def spy(sid: str, message: Message, body: bytes) -> Any:
            result = real(sid, message, body)
            self.results.append(result)
            return result

        monkeypatch.setattr(backend, "_append_in_step", spy)

    @property
    def taken(self) -> list[bool]:
        return [r is not None for r in self.results]


def _armed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[SessionManager, str, _Quick]:
    """A manager whose next append to the session it returns takes the quick way."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "quick").id
    time.sleep(TICK)
    mgr.append(sid, _say(1))  # no write of this process yet proves the folder's time past
    mgr.append(sid, _say(2))
    step = _backend(mgr)._in_step
    assert step is not None and step.sid == sid
    return mgr, sid, _Quick(_backend(mgr), monkeypatch)


def _path(root: Path, sid: str) -> Path:
    return root / "sessions" / f"{sid}.json"


def test_appends_to_one_session_in_an_unchanged_store_take_the_quick_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each append is durable and in the catalog, as another process sees at once."""
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    for i in range(3, 6):
        mgr.append(sid, _say(i))
    assert quick.taken == [True, True, True]
    assert _contents(_path(tmp_path, sid)) == [f"message {i}" for i in range(1, 6)]
    other = open_manager(tmp_path)
    assert by_id(other.list())[sid].message_count == 5
    assert other.get(sid).history[-1].content == "message 5"
    other.close()
    mgr.close()
    assert_at_rest(tmp_path)


def _replace_by_rename(root: Path, sid: str) -> None:
    """An editor's save: the whole file written beside and renamed over."""
    path = _path(root, sid)
    session = decode_session(path.read_bytes(), sid)
    session.history.append(Message(role="assistant", content="added by hand"))
    temp = path.with_name("edit.tmp")
    temp.write_bytes(encode_session(session))
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def _append_from_another_process(root: Path, sid: str) -> None:
    other = open_manager(root)
    other.append(sid, Message(role="assistant", content="from the other process"))
    other.close()


def _leave_a_torn_journal_line(root: Path, sid: str) -> None:
    # A program killed mid-line, or one that wrote to the journal without the lock.
    with open(root / "sessions" / "index.journal", "ab") as journal:
        journal.write(b'{"op":"put","s":{"id"')


def _make_private_file_public(root: Path, sid: str) -> None:
    os.chmod(_path(root, sid), 0o644)  # a restore from git: no name changes, the file's ctime does


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_replace_by_rename, ["added by hand"]),
        (_append_from_another_process, ["from the other process"]),
        (_leave_a_torn_journal_line, []),
        (_make_private_file_public, []),
    ],
    ids=["file-replaced-by-rename", "other-process-appended", "torn-journal", "file-made-public"],
)
def test_a_change_between_two_appends_sends_the_next_one_the_long_way(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Path, str], None],
    expected: list[str],
) -> None:
    """The next message lands after what the other program wrote, in the file the path names,
    which stays private; the quick way stepped aside."""
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    change(tmp_path, sid)

    mgr.append(sid, _say(3))

    assert quick.taken == [False]
    path = _path(tmp_path, sid)
    assert _contents(path) == ["message 1", "message 2", *expected, "message 3"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert mgr.get(sid).message_count == 3 + len(expected)
    other = open_manager(tmp_path)
    assert by_id(other.list())[sid].message_count == 3 + len(expected)
    other.close()
    mgr.close()
    assert_at_rest(tmp_path)


def test_an_append_to_a_session_another_process_trashed_finds_no_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    other = open_manager(tmp_path)
    other.delete(sid)
    other.close()
    trashed = next((tmp_path / "trash").glob(f"{sid}*.json"))
    before = trashed.read_bytes()

    with pytest.raises(SessionNotFound):
        mgr.append(sid, _say(3))

    assert quick.taken == [False]
    assert trashed.read_bytes() == before
    mgr.close()


def test_another_session_written_meanwhile_sends_the_next_append_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's write to another session (its journal line) and a new session (a new
    name in the folder) each make the next append look everything up, and both are listed."""
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    other = open_manager(tmp_path)
    second = other.create(PO, "second").id
    other.append(second, _say(9))
    other.close()

    mgr.append(sid, _say(3))

    assert quick.taken == [False]
    listed = by_id(mgr.list())
    assert listed[sid].message_count == 3 and listed[second].message_count == 1
    mgr.close()
    assert_at_rest(tmp_path)


def test_a_newer_programs_catalog_put_in_place_meanwhile_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    index = tmp_path / "sessions" / "index.json"
    temp = index.with_name("newer.tmp")
    temp.write_bytes(b'{"format_version": 99, "sessions": {}}')
    os.chmod(temp, 0o600)
    os.replace(temp, index)
    before = _path(tmp_path, sid).read_bytes()

    with pytest.raises(ReadOnlyStore, match="newer"):
        mgr.append(sid, _say(3))

    assert quick.taken == [False]
    assert _path(tmp_path, sid).read_bytes() == before
    mgr.close()


def test_a_lock_file_replaced_meanwhile_is_looked_up_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock on the old inode would exclude nobody: the append takes the new file's lock."""
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    lock_path = tmp_path / "sessions" / ".lock"
    temp = lock_path.with_name("lock.tmp")
    temp.write_bytes(b"")
    os.chmod(temp, 0o600)
    os.replace(temp, lock_path)

    mgr.append(sid, _say(3))

    assert quick.taken == [False]
    lock = _backend(mgr).lock
    assert lock._fd is not None and lock._fd_key[1] == os.stat(lock_path).st_ino
    mgr.close()


def test_another_process_that_took_the_lock_meanwhile_and_died_is_noticed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A holder that changed nothing may still have been killed before its journal line: its
    mark sends the next append the long way, which takes it for a crash (``holder_mark``)."""
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    lock_path = tmp_path / "sessions" / ".lock"
    taker = (
        "import sys; from pathlib import Path; from prompt_sessions.storage.locking import "
        "StoreLock; lock = StoreLock(Path(sys.argv[1])); lock.acquire(); lock.release()"
    )
    subprocess.run([sys.executable, "-c", taker, str(lock_path)], check=True, timeout=60)

    mgr.append(sid, _say(3))

    assert quick.taken == [False]
    assert _backend(mgr)._journal_missed  # the next fold checks every file
    assert _contents(_path(tmp_path, sid))[-1] == "message 3"
    mgr.close()
    assert_at_rest(tmp_path)


def test_a_lock_held_by_another_process_is_waited_for_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    # Another open file description of the lock file: flock excludes it as another process's.
    held, taken = StoreLock(tmp_path / "sessions" / ".lock", timeout=5.0), threading.Event()

    def hold() -> None:
        held.acquire()
        taken.set()
        time.sleep(0.2)
        held.release()

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(5)

    mgr.append(sid, _say(3))

    holder.join()
    assert quick.taken == [False]
    assert _contents(_path(tmp_path, sid))[-1] == "message 3"
    held.close()
    mgr.close()


def test_a_lock_held_by_another_thread_is_waited_for_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    lock = _backend(mgr).lock
    taken, go = threading.Event(), threading.Event()

    def hold() -> None:
        lock.acquire()
        taken.set()
        go.wait(5)
        lock.release()

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(5)
    threading.Timer(0.2, go.set).start()

    mgr.append(sid, _say(3))

    holder.join()
    assert quick.taken == [False]
    assert _contents(_path(tmp_path, sid))[-1] == "message 3"
    mgr.close()


def test_an_append_from_inside_a_write_takes_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    backend = _backend(mgr)
    with backend._writing(in_place=True):  # as a plugin's write around appends might
        backend.append(sid, _say(3))  # this write began after the last append: it looks up
        backend.append(sid, _say(4))  # inside a write the lock is held already
    assert quick.taken == [False]
    assert _contents(_path(tmp_path, sid))[-2:] == ["message 3", "message 4"]
    mgr.close()


@pytest.mark.parametrize("let_go", ["kept files", "lock file"])
def test_descriptors_let_go_meanwhile_send_the_next_append_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, let_go: str
) -> None:
    """The fold lets the journal and the session file go once writes pause; a closed lock
    keeps no descriptor and takes filelock's way."""
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    backend = _backend(mgr)
    if let_go == "kept files":
        backend._let_kept_files_go()
    else:
        backend.lock.close()
    mgr.append(sid, _say(3))
    assert quick.taken == [False]
    assert mgr.get(sid).message_count == 3
    mgr.close()


def test_appends_that_alternate_between_two_sessions_take_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the session last appended to is vouched for; each gets its messages in order."""
    mgr = open_manager(tmp_path)
    first, second = mgr.create(PO, "first").id, mgr.create(PO, "second").id
    time.sleep(TICK)
    quick = _Quick(_backend(mgr), monkeypatch)
    for i in range(3):
        mgr.append(first, _say(i))
        mgr.append(second, _say(i))
    mgr.append(second, _say(3))
    assert quick.taken == [True]  # the one append that followed one to the same session
    assert _contents(_path(tmp_path, first)) == ["message 0", "message 1", "message 2"]
    assert _contents(_path(tmp_path, second))[-1] == "message 3"
    mgr.close()
    assert_at_rest(tmp_path)


class _FailOnce:
    """Looks like ``os``; the first call of ``name`` raises EIO, the next ones work."""

    def __init__(self, name: str) -> None:
        self.name, self.failed = name, False

    def __getattr__(self, attr: str) -> Any:
        real = getattr(os, attr)
        if attr != self.name or self.failed:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            self.failed = True
            raise OSError(errno.EIO, os.strerror(errno.EIO))

        return call


@pytest.mark.parametrize("call", ["fstat", "pread"])
def test_a_look_that_fails_on_the_quick_way_leaves_the_append_to_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """An error reading a kept descriptor is not the append's error: the long way looks again
    and reports what is really wrong (here: nothing)."""
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    monkeypatch.setattr(json_backend, "os", _FailOnce(call))
    mgr.append(sid, _say(3))
    assert quick.taken == [False]
    assert _contents(_path(tmp_path, sid))[-1] == "message 3"
    mgr.close()


def test_a_mark_that_cannot_be_read_sends_the_append_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    monkeypatch.setattr(locking_module, "os", _FailOnce("pread"))
    mgr.append(sid, _say(3))
    assert quick.taken == [False]
    assert _contents(_path(tmp_path, sid))[-1] == "message 3"
    mgr.close()


def test_a_tail_not_recognised_on_the_quick_way_is_left_to_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    real, calls = session_codec.find_tail, []

    def first_unrecognised(end: bytes) -> Any:
        calls.append(end)
        return None if len(calls) == 1 else real(end)

    monkeypatch.setattr(session_codec, "find_tail", first_unrecognised)
    mgr.append(sid, _say(3))
    assert quick.taken == [False] and len(calls) == 2
    assert _contents(_path(tmp_path, sid))[-1] == "message 3"
    mgr.close()


def test_a_session_this_process_no_longer_knows_takes_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    _backend(mgr)._files.clear()
    mgr.append(sid, _say(3))
    assert quick.taken == [False]
    assert mgr.get(sid).message_count == 3
    mgr.close()


def test_no_record_is_left_while_the_folder_changed_within_the_clocks_last_tick(
    tmp_path: Path,
) -> None:
    """A folder whose change time is not older than a write this process made before it was
    read cannot vouch for its names: a second change in the same tick would not move it."""
    st = os.stat(tmp_path)
    folder = in_step.folder_key(str(tmp_path))
    assert folder is not None
    assert in_step.after_append("s", folder, None, st) is None
    assert in_step.after_append("s", folder, folder[2], st) is None
    assert in_step.after_append("s", None, folder[2] + 1, st) is None
    assert in_step.after_append("s", folder, folder[2] + 1, st) == (
        "s",
        folder,
        in_step.file_key(st),
    )
    assert in_step.folder_key(str(tmp_path / "missing")) is None


def test_a_reply_stored_over_its_checkpoint_leaves_the_next_append_the_quick_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How a conversation writes: the user's message, the reply's checkpoint, the reply put in
    its place (``replace_last``), the next message. The replace vouches for the session as an
    append does, so the appends of a conversation take the quick way."""
    mgr, sid, quick = _armed(tmp_path, monkeypatch)
    mgr.append(sid, Message(role="assistant", content="draft", incomplete=True))
    mgr.replace_last(sid, Message(role="assistant", content="final"), index=2)
    mgr.append(sid, _say(4))
    assert quick.taken == [True, True]
    assert _contents(_path(tmp_path, sid)) == ["message 1", "message 2", "final", "message 4"]
    other = open_manager(tmp_path)
    assert by_id(other.list())[sid].message_count == 4
    other.close()
    mgr.close()
    assert_at_rest(tmp_path)
