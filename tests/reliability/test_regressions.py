"""Regression tests for bugs the reliability suites found, one per bug, plus power-loss tears."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions import limits
from prompt_sessions.errors import CorruptSession
from prompt_sessions.models import Message
from prompt_sessions.storage import session_codec
from reliability_support import (
    assert_at_rest,
    by_id,
    open_manager,
    patch_store_os,
    rebuilt_summaries,
)


def _store_with(root: Path, messages: int) -> str:
    mgr = open_manager(root)
    sid = mgr.create(
        "po", "s", history=[Message(role="user", content=f"m{i}") for i in range(messages)]
    ).id
    mgr.close()
    return sid


def test_torn_last_append_is_repaired_at_every_cut(tmp_path: Path) -> None:
    """Power loss at any byte of an append: the next open finds the old or the new history."""
    root = tmp_path / ".prompt_objects"
    sid = _store_with(root, 2)
    path = root / "sessions" / f"{sid}.json"
    old = path.read_bytes()
    mgr = open_manager(root)
    mgr.append(sid, Message(role="user", content="the last one"))
    mgr.close()
    new = path.read_bytes()
    start = len(old) - len(session_codec.tail("x" * 24)) + 1
    for cut in range(start, len(new)):
        path.write_bytes(new[:cut])
        mgr = open_manager(root)
        contents = [m.content for m in mgr.get(sid).history]
        assert contents in (["m0", "m1"], ["m0", "m1", "the last one"]), cut
        assert by_id(mgr.list()) == rebuilt_summaries(root)
        mgr.close()
        assert_at_rest(root)


def test_bad_utf8_in_a_session_file_is_damage_not_a_crash(tmp_path: Path) -> None:
    """msgspec reports bad UTF-8 as UnicodeDecodeError; it used to escape get() and list()."""
    root = tmp_path / ".prompt_objects"
    sid = _store_with(root, 1)
    other = _store_with(root, 1)
    path = root / "sessions" / f"{sid}.json"
    _replace_file(path, path.read_bytes().replace(b'"m0"', b'"m\x80"'))
    mgr = open_manager(root)
    with pytest.raises(CorruptSession):
        mgr.get(sid)
    assert [s.id for s in mgr.list()] == [other]
    assert sid in mgr.problems()
    mgr.close()


def test_flipped_byte_mid_file_is_reported_not_truncated(tmp_path: Path) -> None:
    """The torn-tail repair used to cut the file at the first bad line, losing later messages."""
    root = tmp_path / ".prompt_objects"
    sid = _store_with(root, 5)
    path = root / "sessions" / f"{sid}.json"
    damaged = path.read_bytes().replace(b'"m1"', b'"m1', 1)
    path.write_bytes(damaged)
    mgr = open_manager(root)
    with pytest.raises(CorruptSession):
        mgr.get(sid)
    mgr.list()
    mgr.close()
    assert path.read_bytes() == damaged


def test_read_error_does_not_make_doctor_move_a_healthy_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An EIO while reading used to read as damage, and doctor --repair moved the file aside.
    It is reported as unreadable (doctor exits 1), never as damage, and stays where it is."""
    root = tmp_path / ".prompt_objects"
    sid = _store_with(root, 1)
    mgr = open_manager(root)

    class FailingReads:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def open(path: Any, flags: int, *args: Any) -> int:
            if str(path).endswith(f"{sid}.json") and not flags & (os.O_WRONLY | os.O_RDWR):
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return os.open(path, flags, *args)

    patch_store_os(monkeypatch, FailingReads())
    report = mgr.check(repair=True)
    monkeypatch.undo()
    assert list(report.unreadable) == [sid] and report.damaged == {} and not report.healthy
    assert "Input/output error" in report.unreadable[sid]
    assert (root / "sessions" / f"{sid}.json").exists()
    assert not (root / "sessions" / "damaged").exists()
    mgr.close()


def test_catalog_ids_that_are_not_uuids_are_never_used_as_paths(tmp_path: Path) -> None:
    """A hostile catalog naming '../../x' as a session or current id is rebuilt from the files."""
    root = tmp_path / ".prompt_objects"
    sid = _store_with(root, 1)
    index = root / "sessions" / "index.json"
    index.write_text(
        '{"format_version":1,"sessions":[],"current":{"po":"../../../outside"},'
        '"files":{},"damaged":{"../../../outside":{"error":"x"}}}'
    )
    (root / "sessions" / "index.journal").write_text('{"op":"cur","po":"q","id":"../../x"}\n')
    mgr = open_manager(root)
    assert mgr.backend.get_current("po") is None
    assert mgr.backend.get_current("q") is None
    assert [s.id for s in mgr.list()] == [sid]
    mgr.close()
    assert_at_rest(root)


def test_temp_files_are_swept_on_open_without_a_journal(tmp_path: Path) -> None:
    """A crash mid atomic write right after a fold left a temp file that no open swept."""
    root = tmp_path / ".prompt_objects"
    sid = _store_with(root, 1)
    leftover = root / "sessions" / f".{sid}.json.0123456789ab.tmp"
    fd = os.open(leftover, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    open_manager(root).close()
    assert not leftover.exists()


def test_nesting_check_is_linear_on_a_trailing_backslash() -> None:
    """``"\\`` repeated was quadratic (1 MB took most of an hour); it must finish at once."""
    limits.check_nesting(b'"\\' * 500_000)
    with pytest.raises(Exception, match="nested deeper"):
        limits.check_nesting(b"[" * 65 + b'"\\' * 500_000)


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` as editors, sync tools and ``cp``-then-rename do: a new file renamed
    over it (what ``list`` notices; an edit in place is noticed by ``doctor`` and ``get``)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)
