"""Hostile input is data, never a path (issue 3, suite 5, without the fuzzing).

Over 100 path-like or odd refs go through every manager call and CLI command that takes one,
in a process watched by an audit hook; planted symlinks are refused, not followed; a read-only
store gives a clear error and writes nothing; oversized or over-nested imports are refused
before any parser sees them.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest

from faults import MODULES
from prompt_sessions import limits
from prompt_sessions.errors import CorruptSession, ImportFormatError, ReadOnlyStore, StorageError
from prompt_sessions.models import Message
from prompt_sessions.storage import files
from reliability_support import open_manager

HERE = Path(__file__).parent
OUTSIDE = b"outside the store: must never change\n"


def test_hostile_refs_get_clear_errors_and_open_nothing_outside(tmp_path: Path) -> None:
    """Every odd ref fails with one clear line; the audit hook sees no file outside the store."""
    root = tmp_path / ".prompt_objects"
    proc = subprocess.run(
        [sys.executable, str(HERE / "hostile_refs.py"), str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["refs"] >= 100
    assert report["canary"], "the audit hook did not see a deliberate open outside the store"
    assert report["failures"] == []
    assert report["outside"] == []


@pytest.fixture
def outside_file(tmp_path: Path) -> Path:
    target = tmp_path / "outside.json"
    target.write_bytes(OUTSIDE)
    os.chmod(target, 0o600)
    return target


@pytest.mark.foreign_modes
def test_symlink_at_a_session_path_is_refused_not_followed(
    tmp_path: Path, outside_file: Path
) -> None:
    """A session file that is a symlink reads as damaged; writes through it are refused."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    real = mgr.create("po", "real")
    planted = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
    (root / "sessions" / f"{planted}.json").symlink_to(outside_file)
    with pytest.raises(CorruptSession, match="symbolic link"):
        mgr.get(planted)
    with pytest.raises(StorageError):
        mgr.append(planted, Message(role="user", content="through the link"))
    with pytest.raises(StorageError):
        mgr.rename(planted, "renamed")
    assert [s.id for s in mgr.list()] == [real.id]
    assert planted in mgr.problems()
    mgr.close()
    assert outside_file.read_bytes() == OUTSIDE
    assert (root / "sessions" / f"{planted}.json").is_symlink()


@pytest.mark.foreign_modes
def test_symlink_at_the_temp_path_is_refused_not_followed(
    tmp_path: Path, outside_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A symlink waiting at the temp name of an atomic write makes the write fail, untouched."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    session = mgr.create("po", "before")
    before = (root / "sessions" / f"{session.id}.json").read_bytes()
    predictable = root / "sessions" / f".{session.id}.json.planted{files.TEMP_SUFFIX}"
    predictable.symlink_to(outside_file)
    monkeypatch.setattr(files, "temp_path_for", lambda target: predictable)
    with pytest.raises(StorageError):
        mgr.rename(session.id, "after")
    assert outside_file.read_bytes() == OUTSIDE
    assert (root / "sessions" / f"{session.id}.json").read_bytes() == before
    mgr.backend._swept = True  # type: ignore[attr-defined]  # keep the planted link for the check above
    monkeypatch.undo()
    mgr.close()
    assert outside_file.read_bytes() == OUTSIDE


@pytest.mark.foreign_modes
@pytest.mark.parametrize("name", ["index.json", "index.journal", ".lock"])
def test_symlinked_catalog_journal_or_lock_is_not_followed(
    tmp_path: Path, outside_file: Path, name: str
) -> None:
    """Catalog, journal and lock file planted as symlinks: the target outside never changes."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    session = mgr.create("po", "kept")
    mgr.close()
    link = root / "sessions" / name
    link.unlink(missing_ok=True)
    link.symlink_to(outside_file)
    mgr = open_manager(root)
    try:
        mgr.append(session.id, Message(role="user", content="hello"))
        assert [s.id for s in mgr.list()] == [session.id]
    except StorageError as exc:
        assert name == ".lock" and "symbolic link" in str(exc)
    mgr.close()
    assert outside_file.read_bytes() == OUTSIDE


class _ReadOnlyOS:
    """The ``os`` a store on a read-only mount sees: every write fails with EROFS."""

    WRITES = ("write", "pwrite", "replace", "rename", "unlink", "mkdir", "ftruncate", "chmod")

    def __getattr__(self, name: str) -> Any:
        if name in self.WRITES:

            def refuse(*args: Any, **kwargs: Any) -> Any:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS))

            return refuse
        return getattr(os, name)

    @staticmethod
    def open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return os.open(path, flags, *args, **kwargs)

    @staticmethod
    def access(path: Any, mode: int) -> bool:
        return False if mode & os.W_OK else os.access(path, mode)


@contextmanager
def read_only_store(root: Path) -> Iterator[None]:
    """A read-only store folder: really, when the tests do not run as root; simulated otherwise."""
    if os.geteuid() != 0:
        folders = [root, root / "sessions"]
        for folder in folders:
            os.chmod(folder, 0o500)
        try:
            yield
        finally:
            for folder in folders:
                os.chmod(folder, 0o700)
        return
    proxy = _ReadOnlyOS()
    saved = [(module, module.os) for module in MODULES]
    for module, _ in saved:
        module.os = proxy  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module, real in saved:
            module.os = real  # type: ignore[attr-defined]


def tree(base: Path) -> dict[str, bytes | None]:
    return {str(p): (p.read_bytes() if p.is_file() else None) for p in sorted(base.rglob("*"))}


def test_read_only_store_reads_fine_and_refuses_writes_clearly(tmp_path: Path) -> None:
    """Listing and reading work; every write fails with ReadOnlyStore; nothing changes anywhere."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    session = mgr.create("po", "existing", history=[Message(role="user", content="hi")])
    mgr.close()
    before = tree(tmp_path)
    cwd_before = sorted(os.listdir(os.getcwd()))
    with read_only_store(root):
        mgr = open_manager(root)
        assert [s.id for s in mgr.list()] == [session.id]
        assert mgr.get(session.id).history[0].content == "hi"
        attempts = [
            lambda: mgr.create("po", "new"),
            lambda: mgr.append(session.id, Message(role="user", content="no")),
            lambda: mgr.rename(session.id, "no"),
            lambda: mgr.delete(session.id),
            lambda: mgr.duplicate(session.id),
            lambda: mgr.switch("po", session.id),
        ]
        for attempt in attempts:
            with pytest.raises(ReadOnlyStore) as caught:
                attempt()
            assert str(root) in str(caught.value)
        mgr.close()
    assert tree(tmp_path) == before
    assert sorted(os.listdir(os.getcwd())) == cwd_before


def test_oversized_and_overnested_imports_are_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Size and depth limits stop an import before any importer or JSON parser runs."""
    mgr = open_manager(tmp_path / ".prompt_objects")
    parsed: list[int] = []
    real_decode = msgspec.json.decode

    def watching_decode(*args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(msgspec.json, "decode", watching_decode)
    monkeypatch.setattr(limits, "MAX_IMPORT_BYTES", 10_000)
    good = json.dumps(
        {
            "id": "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
            "name": "n",
            "po_name": "p",
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "history": [],
        }
    ).encode()
    with pytest.raises(ImportFormatError, match="limit"):
        mgr.import_sessions(good + b" " * 10_000, format="json")
    deep = b'{"history": [], "metadata": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"}"
    with pytest.raises(ImportFormatError, match="nested deeper"):
        mgr.import_sessions(deep, format="json")
    assert parsed == []
    mgr.import_sessions(good, format="json")  # the same document under the limits is accepted
    assert parsed
    mgr.close()
