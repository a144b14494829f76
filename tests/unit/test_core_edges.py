"""Edges of the storage core that only odd files and failing calls reach."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

from prompt_sessions import Message
from prompt_sessions.errors import CorruptSession, ReadOnlyStore, UsageError
from prompt_sessions.models import Session, forked
from prompt_sessions.storage import catalog, files, session_codec
from prompt_sessions.storage.json_backend import JsonBackend

STAMP = "2025-01-03T10:00:00.000Z"
SID = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"


def _session(**fields: object) -> Session:
    return Session(
        id=SID,
        name="Edge",
        po_name="po",
        created_at=STAMP,
        updated_at=STAMP,
        history=[Message(role="user", content="hi", created_at=STAMP)],
        **fields,  # type: ignore[arg-type]
    )


def test_a_catalog_that_is_a_folder_has_no_version(tmp_path: Path) -> None:
    """peek_version of an index.json that is a folder (it opens, but cannot be read) is None."""
    folder = tmp_path / "index.json"
    folder.mkdir()
    assert catalog.peek_version(folder) is None


def test_tighten_leaves_what_it_may_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose mode cannot be changed (another owner) is left for doctor to report."""
    path = tmp_path / "loose.json"
    path.write_text("{}")
    path.chmod(0o644)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    assert files.tighten([path]) == []
    assert files.loose_mode(path) == (0o644, files.FILE_MODE)


def test_unknown_fields_of_bytes_that_are_no_object() -> None:
    """Bytes that are not JSON, or JSON that is not an object, have no unknown fields."""
    assert session_codec.unknown_fields(b"not json") is None
    assert session_codec.unknown_fields(b"[1, 2]") is None


def test_a_session_too_large_for_memory_is_damage(monkeypatch: pytest.MonkeyPatch) -> None:
    """MemoryError while decoding one file is that session's damage, named as such."""

    def too_big(*args: object) -> Session:
        raise MemoryError

    monkeypatch.setattr(session_codec, "_decode_guarded", too_big)
    with pytest.raises(CorruptSession, match="too large to read into memory"):
        session_codec.decode_session(b"{}", SID)


def test_torn_tail_repair_of_another_shape_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tail repair that meets nesting too deep to read leaves the damage to be reported."""

    def too_deep(data: bytes, sid: str) -> Session | None:
        raise RecursionError

    backend = JsonBackend(tmp_path, lock_timeout=1.0)
    monkeypatch.setattr(session_codec, "repair_torn_tail", too_deep)
    assert backend._repair_tail(SID, b"{", os.stat(tmp_path)) is None
    backend.close()


def test_read_raw_gives_the_files_bytes(tmp_path: Path) -> None:
    """read_raw returns a session file exactly as it lies."""
    backend = JsonBackend(tmp_path, lock_timeout=1.0)
    backend.create(_session())
    assert backend.read_raw(SID) == (tmp_path / "sessions" / f"{SID}.json").read_bytes()
    backend.close()


def test_deleting_a_newer_session_file_is_refused(tmp_path: Path) -> None:
    """A session file a newer version wrote is never deleted by this one."""
    backend = JsonBackend(tmp_path, lock_timeout=1.0)
    backend.create(_session())
    backend.close()
    path = tmp_path / "sessions" / f"{SID}.json"
    doc = msgspec.json.decode(path.read_bytes())
    doc["format_version"] = 99
    path.write_bytes(msgspec.json.encode(doc))
    again = JsonBackend(tmp_path, lock_timeout=1.0)
    with pytest.raises(ReadOnlyStore, match="format_version 99"):
        again.delete(SID)
    assert path.exists()
    again.close()


def test_fork_point_out_of_range_is_refused() -> None:
    """forked refuses a fork point outside 0..len(history), and True as a number."""
    source = _session()
    for at in (-1, 2, True):
        with pytest.raises(UsageError, match="fork point must be between 0 and 1"):
            forked(source, at, "Fork")  # type: ignore[arg-type]
    fork = forked(source, 1, "Fork")
    assert (fork.thread_type, fork.parent_id, fork.parent_message_index) == ("fork", SID, 1)
    assert [m.content for m in fork.history] == ["hi"]


def test_deleting_a_session_that_is_not_there(tmp_path: Path) -> None:
    """delete of an id with no file says SessionNotFound and records nothing."""
    from prompt_sessions.errors import SessionNotFound

    backend = JsonBackend(tmp_path, lock_timeout=1.0)
    backend.create(_session())
    with pytest.raises(SessionNotFound):
        backend.delete("00000000-0000-4000-8000-000000000000")
    assert [s.id for s in backend.list()] == [SID]
    backend.close()


@pytest.mark.parametrize(
    ("head", "updated_at", "bodies", "reason"),
    [
        (b"[]", STAMP, [], "not a JSON object"),
        (b"{}", b"\xff\xfe", [], "updated_at is not UTF-8"),
        (b"{}", 5, [], "wrong type"),
        (b"{}", STAMP, ["not bytes"], "wrong type"),
    ],
)
def test_rows_of_the_wrong_shape_are_damage(
    head: object, updated_at: object, bodies: list[object], reason: str
) -> None:
    """A database row whose fields have the wrong type or encoding is that session's damage."""
    with pytest.raises(CorruptSession, match=reason):
        session_codec.decode_rows(SID, head, updated_at, bodies)


def test_rows_with_updated_at_as_bytes_decode() -> None:
    """updated_at stored as UTF-8 bytes (a TEXT value read as a BLOB) decodes as text."""
    head = session_codec.encode_head(_session())
    body = session_codec.encode_message(Message(role="user", content="hi", created_at=STAMP))
    session = session_codec.decode_rows(SID, head, STAMP.encode(), [body])
    assert session.updated_at == STAMP and [m.content for m in session.history] == ["hi"]


def test_a_file_removed_by_hand_during_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session file a person removes between delete's version check and its unlink (no lock
    binds a person) makes delete say SessionNotFound, not an OS error."""
    from prompt_sessions.errors import SessionNotFound

    backend = JsonBackend(tmp_path, lock_timeout=1.0)
    backend.create(_session())
    real = backend._stored_version

    def checked_then_removed(sid: str) -> int | None:
        version = real(sid)
        (tmp_path / "sessions" / f"{sid}.json").unlink()
        return version

    monkeypatch.setattr(backend, "_stored_version", checked_then_removed)
    with pytest.raises(SessionNotFound):
        backend.delete(SID)
    backend.close()
