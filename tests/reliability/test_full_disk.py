"""Reads work when writes cannot: a full disk never stops list, show, search or export.

A full disk is played two ways. Fault injection fails the store's byte-adding calls with ENOSPC
(``write`` alone, as when a session file's last page still has room for an append but no new
page can be had for the catalog; or ``write`` and ``pwrite``, when nothing fits). A real 2 MB
tmpfs, filled to the last byte, runs the same commands on both backends through the console
script; it is collected only where this process may mount one.

The rules (docs/storage.md): reading never needs to write; a write that fails leaves the store as
it was and says so in one line; a tidy-up that fails after a write succeeded (folding the
catalog journal) is a warning, never the write's failure.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from faults import injected
from reliability_support import abandon, assert_at_rest, open_manager, snapshot

from prompt_sessions.cli import main as cli_main
from prompt_sessions.errors import StorageError, StorageWarning
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message

PO = "coordinator"
CONFIG = "[responders.echo]\nchunk_delay_ms = 0\n"


class DiskFull:
    """Every call of ``kinds`` fails with ENOSPC; opening, reading, renaming and removing work."""

    def __init__(self, kinds: tuple[str, ...] = ("write", "pwrite")) -> None:
        self.kinds = kinds
        self.injected: list[str] = []

    def before_call(self, kind: str) -> None:
        if kind in self.kinds:
            self.injected.append(kind)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _config(root: Path, text: str) -> None:
    """The environment folder with a config.toml, private as the store makes its own files."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(root / "config.toml", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as config:
        config.write(text)


def _store(root: Path) -> tuple[str, str]:
    """Two sessions of PO, the second one current, and a journal left by a killed writer."""
    _config(root, CONFIG)
    mgr = open_manager(root)
    first = mgr.create(PO, "First", history=[Message(role="user", content="hello there")]).id
    second = mgr.create(PO, "Second").id
    mgr.switch(PO, second)
    mgr.close()
    mgr = open_manager(root)
    mgr.append(first, Message(role="assistant", content="general kenobi"))
    abandon(mgr)  # the journal holds the append's catalog line; nothing folded it
    assert (root / "sessions" / "index.journal").exists()
    return first, second


def _reads(mgr: SessionManager, first: str) -> dict[str, object]:
    """What every read command shows, as plain data."""
    return {
        "list": msgspec.to_builtins(mgr.list()),
        "get": msgspec.to_builtins(mgr.get(first)),
        "search": [h.to_json() for h in mgr.search("kenobi")],
        "markdown": mgr.export(first, "markdown"),
        "json": mgr.export(first, "json"),
        "current": mgr.peek_current(PO).id,  # type: ignore[union-attr]
    }


def _folder_bytes(root: Path) -> dict[str, bytes]:
    folder = root / "sessions"
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def test_reads_open_list_show_search_export_on_a_full_disk(tmp_path: Path) -> None:
    """With a journal left behind and no byte writable, opening the store (which would fold the
    journal), list, get, search, export and the current session all answer as they would on a
    healthy disk, close quietly, and leave every file as it was."""
    healthy, full = tmp_path / "healthy" / ".prompt_objects", tmp_path / "full" / ".prompt_objects"
    first, second = _store(healthy)
    shutil.copytree(healthy, full)
    before = _folder_bytes(full)
    reference = open_manager(healthy)
    expected = _reads(reference, first)
    reference.close()
    assert expected["current"] == second

    plan = DiskFull()
    with injected(plan), warnings.catch_warnings():
        warnings.simplefilter("error", StorageWarning)
        mgr = open_manager(full)  # open_store tries the fold and fails: still open
        assert _reads(mgr, first) == expected
        mgr.close()
    assert plan.injected, "the full disk was never touched"
    assert _folder_bytes(full) == before


def test_a_saved_turn_is_not_reported_as_failed_when_the_fold_fails(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The example: `send` appends the message and the reply (the session file's last page
    has room) but the catalog cannot be folded at exit. It exits 0 with one warning line, the
    turn is stored once, and the current session is still the one chosen."""
    root = tmp_path / ".prompt_objects"
    first, second = _store(root)
    with injected(DiskFull(("write",))), pytest.raises(SystemExit) as exit_:
        cli_main(["--dir", str(root), "send", PO, "are you there?"])
    out, err = capfd.readouterr()
    assert exit_.value.code == 0, err
    assert out == "You said: are you there?\n"
    assert err.count("\n") == 1 and err.startswith("Warning: the catalog could not be updated")
    mgr = open_manager(root)
    assert [m.content for m in mgr.get(second).history] == [
        "are you there?",
        "You said: are you there?",
    ]
    assert mgr.peek_current(PO).id == second  # type: ignore[union-attr]
    mgr.close()
    assert_at_rest(root)


def test_the_current_session_survives_a_catalog_line_that_cannot_be_written(
    tmp_path: Path,
) -> None:
    """An append whose catalog line cannot be written keeps index.json (it alone holds the
    current-session choice): the next process, disk still full, finds the same current session
    and the new message."""
    root = tmp_path / ".prompt_objects"
    first, second = _store(root)
    with injected(DiskFull(("write",))):
        mgr = open_manager(root)
        mgr.append(first, Message(role="user", content="one more"))
        with pytest.warns(StorageWarning):
            mgr.close()
        assert (root / "sessions" / "index.json").exists()
        reader = open_manager(root)
        assert reader.peek_current(PO).id == second  # type: ignore[union-attr]
        assert reader.get(first).history[-1].content == "one more"
        assert [s.message_count for s in reader.list() if s.id == first] == [3]
        reader.close()
    mgr = open_manager(root)
    mgr.close()
    assert_at_rest(root)


def test_a_fold_due_after_a_write_never_fails_that_write(tmp_path: Path) -> None:
    """When the journal is long enough to be folded right after an append, a fold that fails
    does not turn the append (already on disk) into an error."""
    root = tmp_path / ".prompt_objects"
    first, _ = _store(root)
    mgr = open_manager(root, fold_after_lines=1)
    with injected(DiskFull(("write",))):
        mgr.append(first, Message(role="user", content="folded later"))
    assert mgr.get(first).history[-1].content == "folded later"
    mgr.close()
    assert_at_rest(root)


def test_deleting_the_current_session_on_a_full_disk_succeeds(tmp_path: Path) -> None:
    """Removing a file needs no space: deleting the current session succeeds, and forgetting
    the choice that named it (a tidy-up the full disk refuses) does not turn it into an error."""
    root = tmp_path / ".prompt_objects"
    first, second = _store(root)
    mgr = open_manager(root)
    with injected(DiskFull()):
        mgr.delete(second)
        assert [s.id for s in mgr.list()] == [first]
        assert mgr.peek_current(PO).id == first  # type: ignore[union-attr]
    mgr.close()
    mgr = open_manager(root)
    assert mgr.backend.get_current(PO) is None
    mgr.close()
    assert_at_rest(root)


@pytest.mark.parametrize(
    "write",
    ["create", "append", "rename", "switch", "delete_current"],
)
def test_a_write_that_fails_on_a_full_disk_changes_nothing_and_says_so(
    tmp_path: Path, write: str
) -> None:
    """Each write refused by a full disk raises one StorageError line and leaves every file,
    the listing and the current session as they were."""
    root = tmp_path / ".prompt_objects"
    first, second = _store(root)
    mgr = open_manager(root)
    mgr.flush()
    before, listed = snapshot(root), mgr.list()
    actions = {
        "create": lambda: mgr.create(PO, "Third"),
        "append": lambda: mgr.append(first, Message(role="user", content="lost?")),
        "rename": lambda: mgr.rename(first, "Renamed"),
        "switch": lambda: mgr.switch(PO, first),
        "delete_current": lambda: mgr.backend.set_current(PO, None),
    }
    with injected(DiskFull()), pytest.raises(StorageError) as failure:
        actions[write]()
    assert "\n" not in str(failure.value) and "No space left" in str(failure.value)
    assert snapshot(root) == before
    assert mgr.list() == listed
    assert mgr.peek_current(PO).id == second  # type: ignore[union-attr]
    mgr.close()
    assert_at_rest(root)


def test_a_torn_tail_reads_on_a_full_disk(tmp_path: Path) -> None:
    """A file cut by a power loss reads as its last whole state even when the repair cannot be
    written; the file is repaired by the next process that can write."""
    root = tmp_path / ".prompt_objects"
    first, _ = _store(root)
    mgr = open_manager(root)
    expected = mgr.get(first).history
    mgr.close()
    path = root / "sessions" / f"{first}.json"
    torn = path.read_bytes()[:-20]
    path.write_bytes(torn)
    with injected(DiskFull()):
        mgr = open_manager(root)
        assert mgr.get(first).history == expected[:-1] or mgr.get(first).history == expected
        mgr.close()
    assert path.read_bytes() == torn
    mgr = open_manager(root)
    mgr.get(first)
    mgr.close()
    assert_at_rest(root)


# ---------------------------------------------------------------------- a real full disk


def _can_mount_tmpfs() -> bool:
    """Whether this process may mount a tmpfs (root, with mount(8) available)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = tempfile.mkdtemp()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], capture_output=True
        )
        if mounted.returncode != 0:
            return False
        subprocess.run(["umount", probe], check=True)
        return True
    finally:
        os.rmdir(probe)


SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    return subprocess.run(
        [SCRIPT, "--dir", str(root), *args], capture_output=True, text=True, timeout=60, env=env
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, mounted for the test and unmounted after it."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir(mode=0o700)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount_point)], check=True
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _fill(disk: Path) -> Path:
    """Write zeros until the disk refuses a single byte more."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


if _can_mount_tmpfs():

    @pytest.mark.parametrize("backend", ["json", "sqlite"])
    def test_a_real_full_disk(small_disk: Path, backend: str) -> None:
        """On a filled tmpfs, list, show, search, export and the current session work on both
        backends; send either stores its turn and exits 0 (json: the session file's page has
        room) or fails in one line and stores nothing (sqlite cannot open for writing); after
        space is freed every command sees the store as those results said."""
        root = small_disk / ".prompt_objects"
        _config(root, f'{CONFIG}[storage]\nbackend = "{backend}"\n')
        assert _run(root, "new", PO, "--name", "First").returncode == 0
        assert _run(root, "send", PO, "hello there").returncode == 0
        assert _run(root, "new", PO, "--name", "Second").returncode == 0
        listed = json.loads(_run(root, "list", "--json").stdout)
        shown = _run(root, "show", "First").stdout
        exported = _run(root, "export", "First", "--format", "json").stdout
        found = _run(root, "search", "hello").stdout

        filler = _fill(small_disk)
        read = _run(root, "list", "--json")
        assert read.returncode == 0 and json.loads(read.stdout) == listed, read.stderr
        assert _run(root, "show", "First").stdout == shown
        assert _run(root, "export", "First", "--format", "json").stdout == exported
        assert _run(root, "search", "hello").stdout == found

        sent = _run(root, "send", PO, "on a full disk")
        filler.unlink()
        after = _run(root, "show", "Second", "--json")
        assert after.returncode == 0, after.stderr
        history = [m["content"] for m in json.loads(after.stdout)["history"]]
        if sent.returncode == 0:
            assert history == ["on a full disk", "You said: on a full disk"]
            assert sent.stderr.count("\n") <= 1
        else:
            assert history == [] and sent.stderr.startswith("Error: ")
            assert sent.stderr.count("\n") == 1
        assert backend == "sqlite" or sent.returncode == 0
        current = json.loads(_run(root, "list", "--json").stdout)
        assert [s["name"] for s in current if s["name"] == "Second"] == ["Second"]
        assert _run(root, "doctor").returncode == 0

    def test_a_sqlite_reader_on_a_full_disk_blocks_no_one(small_disk: Path) -> None:
        """The full-disk read connection (exclusive, WAL index in memory) is handed back after
        each read: another process reads meanwhile, and once space is freed this process
        writes normally."""
        root = small_disk / ".prompt_objects"
        _config(root, f'{CONFIG}[storage]\nbackend = "sqlite"\nlock_timeout = 2\n')
        mgr = SessionManager.open(root, config={"storage": {"backend": "sqlite"}})
        sid = mgr.create(PO, "Kept").id
        mgr.close()
        filler = _fill(small_disk)
        mgr = SessionManager.open(root, config={"storage": {"backend": "sqlite"}})
        assert [s.id for s in mgr.list()] == [sid]
        other = _run(root, "list", "--json")
        assert other.returncode == 0, other.stderr
        assert [s["id"] for s in json.loads(other.stdout)] == [sid]
        with pytest.raises(StorageError):
            mgr.append(sid, Message(role="user", content="no room"))
        filler.unlink()
        mgr.append(sid, Message(role="user", content="room again"))
        assert [m.content for m in mgr.get(sid).history] == ["room again"]
        mgr.close()
