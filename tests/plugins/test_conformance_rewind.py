"""The rewind cases of the conformance suite on both built-in stores and on a third-party
backend without ``rewrite_history`` (the manager's fallback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.rewrite import SupportsRewrite
from prompt_sessions.storage.sqlite_backend import SqliteBackend
from prompt_sessions.testing.rewind_conformance import RewindConformance, RewriteConformance


class _WithoutRewrite:
    """The JSON store with ``rewrite_history`` hidden, as a backend written before it existed."""

    name = "plain"

    def __init__(self, inner: JsonBackend) -> None:
        self._inner = inner

    def __getattr__(self, attr: str) -> Any:
        if attr == "rewrite_history":
            raise AttributeError(attr)
        return getattr(self._inner, attr)


@pytest.fixture(params=["json", "sqlite", "plain"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Each store: the two built-in ones, and one without the capability."""
    root = tmp_path / ".prompt_objects"
    inner = SqliteBackend(root) if request.param == "sqlite" else JsonBackend(root)
    store = _WithoutRewrite(inner) if request.param == "plain" else inner
    assert isinstance(store, SupportsRewrite) == (request.param != "plain")
    yield store
    inner.close()


@pytest.fixture
def manager(backend: Any, tmp_path: Path) -> Iterator[SessionManager]:
    mgr = SessionManager(tmp_path, backend, PluginHost.create(entry_points=False))
    yield mgr
    mgr.close()


class TestRewindConformance(RewindConformance):
    """Every rewind case on every store."""


class TestRewriteConformance(RewriteConformance):
    """The atomic cut on the stores that have it."""

    @pytest.fixture(params=["json", "sqlite"])
    def backend(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
        root = tmp_path / ".prompt_objects"
        store = SqliteBackend(root) if request.param == "sqlite" else JsonBackend(root)
        yield store
        store.close()
