"""Property-based fuzzing of everything that reads untrusted bytes (issue 3, suite 5).

The session-file loader, the catalog loader (index.json and its journal) and the json importer
get random bytes and random JSON-like documents. Only the project's typed errors may escape,
nothing may hang (a watchdog fails the test instead), and memory stays bounded.
"""

from __future__ import annotations

import re

import signal
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompt_sessions.errors import CorruptSession, PromptSessionsError
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.storage import session_codec
from reliability_support import by_id, open_manager, rebuilt_summaries, scaled

EXAMPLES = scaled(200)
SID = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # no timing assertions; the watchdog below catches a real hang
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
)
json_like = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=30,
)
VALID = {
    "format_version": 1,
    "id": SID,
    "name": "n",
    "po_name": "p",
    "created_at": "2025-01-01T00:00:00Z",
    "updated_at": "2025-01-01T00:00:00Z",
    "metadata": {},
    "history": [{"role": "user", "content": "hi", "created_at": "2025-01-01T00:00:00Z"}],
}
# A valid session with some fields replaced by anything: close to right, so the fuzzing
# reaches the validation paths rather than stopping at "not JSON".
near_valid = st.dictionaries(st.sampled_from(sorted(VALID)), json_like, max_size=4).map(
    lambda d: {**VALID, **d}
)
documents = st.one_of(json_like, near_valid, st.lists(near_valid, max_size=3)).map(
    msgspec.json.encode
)
inputs = st.one_of(
    st.binary(max_size=4096),
    documents,
    documents.flatmap(
        _mutations := lambda b: st.tuples(
            st.just(b), st.integers(0, max(len(b) - 1, 0)), st.binary(max_size=8)
        ).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + len(t[2]) :])
    ),
)


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """Fail, rather than hang, if a test runs far beyond what it needs (a liveness guard)."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError("fuzz test hung")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(300)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@FUZZ
@given(data=inputs)
def test_session_decoder_raises_only_corrupt_session(data: bytes) -> None:
    """Any bytes: the strict decoder returns a session or raises CorruptSession, nothing else."""
    try:
        session = session_codec.decode_session(data, SID)
    except CorruptSession:
        repaired = session_codec.repair_torn_tail(data, SID)  # must not raise either
        assert repaired is None or repaired.id == SID
    else:
        assert session.id == SID


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[SessionManager, Path]]:
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    mgr.create("po", "healthy", history=[Message(role="user", content="kept")])
    yield mgr, root
    mgr.close()


@FUZZ
@given(data=inputs)
def test_session_file_loader_keeps_damage_local(
    store: tuple[SessionManager, Path], data: bytes
) -> None:
    """A session file holding anything: get() raises a typed error or reads it; others still list."""
    mgr, root = store
    path = root / "sessions" / f"{SID}.json"
    path.write_bytes(data)
    try:
        session = mgr.get(SID)
        assert session.id == SID
    except PromptSessionsError:
        pass
    listed = mgr.list()
    assert any(s.name == "healthy" for s in listed)
    path.unlink()
    mgr.list()


@FUZZ
@given(index=inputs, journal=inputs)
def test_catalog_loader_rebuilds_from_anything(
    store: tuple[SessionManager, Path], index: bytes, journal: bytes
) -> None:
    """index.json and index.journal holding anything: list() still equals a rebuild from the files."""
    _, root = store
    (root / "sessions" / "index.json").write_bytes(index)
    (root / "sessions" / "index.journal").write_bytes(journal)
    fresh = open_manager(root)
    try:
        assert by_id(fresh.list()) == rebuilt_summaries(root)
    finally:
        fresh.close()
    assert by_id(fresh.list()) == rebuilt_summaries(root)


@FUZZ
@given(data=inputs)
def test_json_importer_raises_only_typed_errors(
    store: tuple[SessionManager, Path], data: bytes
) -> None:
    """The json importer (sniffed or named) imports or raises a typed error, never anything else."""
    mgr, _ = store
    for fmt in (None, "json"):
        try:
            imported = mgr.import_sessions(data, fmt)
        except PromptSessionsError:
            continue
        for session in imported:
            assert re.search(r" \(imported( \d+)?\)$", mgr.get(session.id).name)
            mgr.delete(session.id)


ADVERSARIAL = [
    b"[" * 1_000_000,
    b'{"a":' * 200_000,
    b'"\\' * 500_000,
    b"[" + b'{"history":[],"x":1},' * 50_000 + b"1]",
    b'"' + b"x" * 2_000_000,
]


@pytest.mark.parametrize(
    "data", ADVERSARIAL, ids=["brackets", "objects", "escapes", "many", "string"]
)
def test_adversarial_imports_stay_bounded_in_memory(
    store: tuple[SessionManager, Path], data: bytes
) -> None:
    """Megabyte-sized hostile imports are refused with a typed error using bounded memory."""
    mgr, _ = store
    tracemalloc.start()
    try:
        with pytest.raises(PromptSessionsError):
            mgr.import_sessions(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * len(data) + 10_000_000, f"peak {peak:,} bytes for {len(data):,} of input"
