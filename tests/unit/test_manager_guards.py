"""The manager's guards around plugins and the store: importers that misbehave, updates it must
refuse, and sessions that become unreadable while a search runs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions import Message, SessionManager, hookimpl
from prompt_sessions.errors import CorruptSession, ImportFormatError, StorageError, UsageError
from prompt_sessions.models import Session
from prompt_sessions.testing import registered_plugin


def snapshot_folder(root: Path) -> dict[str, bytes]:
    folder = root / "sessions"
    return (
        {p.name: p.read_bytes() for p in folder.glob("*-*-*-*-*.json")} if folder.exists() else {}
    )


class Importer:
    """An importer plugin whose sniff and load do what a test tells them to."""

    def __init__(
        self,
        name: str,
        load: Callable[[bytes], Iterable[Any]],
        sniff: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.name = name
        self._load = load
        self._sniff = sniff or (lambda data: data.startswith(b"TEST:"))

    def sniff(self, data: bytes, filename: str | None) -> bool:
        return self._sniff(data)

    def load(self, data: bytes, filename: str | None) -> Iterable[Any]:
        return self._load(data)


class ImporterPlugin:
    def __init__(self, *importers: Importer) -> None:
        self.importers = importers

    @hookimpl
    def register_importers(self, register: Callable[[Any], None]) -> None:
        for importer in self.importers:
            register(importer)


def _session(**fields: Any) -> Session:
    values: dict[str, Any] = {
        "id": "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        "name": "From elsewhere",
        "po_name": "po",
        "created_at": "2025-01-01T00:00:00.000Z",
        "updated_at": "2025-01-01T00:00:00.000Z",
    }
    values.update(fields)
    return Session(**values)


def _raise(exc: BaseException) -> Callable[[bytes], Any]:
    def load(data: bytes) -> Any:
        raise exc

    return load


@pytest.mark.parametrize(
    ("load", "message"),
    [
        (_raise(RecursionError()), "too deeply nested or too large (RecursionError)"),
        (
            _raise(ValueError("unexpected byte 7")),
            "the odd importer could not read it: unexpected byte 7",
        ),
        (lambda data: [], "the file holds no conversation"),
        (lambda data: [{"name": "a dict"}], "the odd importer returned dict, not a Session"),
        (
            lambda data: [_session(created_at="yesterday")],
            "not an ISO-8601 UTC timestamp",
        ),
    ],
    ids=["recursion", "crash", "empty", "not a session", "invalid session"],
)
def test_an_importer_that_misbehaves_is_a_clear_import_error(
    manager: SessionManager, root: Path, load: Callable[[bytes], Iterable[Any]], message: str
) -> None:
    """Whatever a plugin importer does wrong ends as ImportFormatError, with nothing written."""
    manager.create("po", "existing")
    before = snapshot_folder(root)
    plugin = ImporterPlugin(Importer("odd", load))
    with (
        registered_plugin(plugin, manager.host),
        pytest.raises(ImportFormatError, match=re.escape(message)),
    ):
        manager.import_sessions(b"TEST: anything")
    assert snapshot_folder(root) == before


def test_an_invalid_session_among_valid_ones_is_skipped_and_reported(
    manager: SessionManager,
) -> None:
    """A plugin importer returning one invalid session among valid ones: the valid ones are
    imported, the invalid one is reported with its position and reason."""
    load = lambda data: [_session(), _session(created_at="yesterday"), _session(name="b")]  # noqa: E731
    with registered_plugin(ImporterPlugin(Importer("odd", load)), manager.host):
        report = manager.import_report(b"TEST: anything")
    assert [s.name for s in report.sessions] == ["From elsewhere (imported)", "b (imported)"]
    [skip] = report.skipped
    assert skip.where == "session 1" and "not an ISO-8601 UTC timestamp" in skip.reason


def test_an_importer_whose_sniff_raises_is_passed_over(manager: SessionManager) -> None:
    """A sniff that crashes counts as 'not mine': the next importer gets the data."""
    broken = Importer(
        "broken", _raise(AssertionError("never loaded")), sniff=_raise(KeyError("sniff"))
    )
    working = Importer("working", lambda data: [_session()])
    with registered_plugin(ImporterPlugin(broken, working), manager.host):
        [imported] = manager.import_sessions(b"TEST: data")
    assert imported.metadata["imported_from"]["format"] == "working"


def test_import_data_must_be_bytes_or_text(manager: SessionManager) -> None:
    """Anything else (a number, a list) is refused before any importer sees it."""
    for data in (42, [b"x"]):
        with pytest.raises(ImportFormatError, match="must be bytes or text"):
            manager.import_sessions(data)  # type: ignore[arg-type]


def test_update_refuses_fields_it_does_not_own_and_values_of_the_wrong_shape(
    manager: SessionManager, root: Path
) -> None:
    """update() changes archived, pinned, tags and metadata only, each checked before writing."""
    session = manager.create("po", "Guarded")
    before = snapshot_folder(root)
    with pytest.raises(
        UsageError, match="cannot update name, po_name; allowed: archived, metadata, pinned, tags"
    ):
        manager.update(session.id, name="x", po_name="y")
    with pytest.raises(UsageError):
        manager.update(session.id, tags="not a list")
    assert snapshot_folder(root) == before
    assert manager.update(session.id, tags=["kept"]).tags == ["kept"]


def test_search_passes_over_sessions_it_cannot_read(
    manager: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session that cannot be read, or turns out damaged, while the search index catches up
    is left out of the hits; the other sessions are still searched, and the unreadable one is
    tried again by the next search."""
    unreadable = manager.create("po", "Unreadable")
    manager.append(unreadable.id, Message(role="user", content="needle one"))
    damaged = manager.create("po", "needle in the name")
    found = manager.create("po", "Readable")
    manager.append(found.id, Message(role="user", content="needle two"))
    backend = manager.backend
    real_get = backend.get

    def get(sid: str) -> Session:
        if sid == unreadable.id:
            raise StorageError("cannot read it: Input/output error")
        if sid == damaged.id:
            raise CorruptSession(sid, "damaged since the listing")
        return real_get(sid)

    monkeypatch.setattr(backend, "get", get)
    assert [(h.session.id, h.message_index) for h in manager.search("needle")] == [(found.id, 0)]
    monkeypatch.setattr(backend, "get", real_get)
    assert {(h.session.id, h.message_index) for h in manager.search("needle")} == {
        (found.id, 0),
        (unreadable.id, 0),
        (damaged.id, None),
    }
