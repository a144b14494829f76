"""The backend conformance suite against the built-in ``json`` backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost
from prompt_sessions.storage.base import SupportsSearch
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.testing.conformance import (
    BackendConformance,
    BackendFactory,
    ReplaceLastConformance,
    backend_factory_for,
)
from prompt_sessions.testing.search_conformance import SearchConformance


class TestJsonBackendConformance(BackendConformance, ReplaceLastConformance):
    """Every conformance check, on the JSON store built as users get it (through its plugin)."""

    @pytest.fixture
    def backend_factory(self) -> BackendFactory:
        return backend_factory_for("json")


class _WithoutSearch:
    """The JSON store with its ``search`` hidden, as a third-party backend without an index."""

    name = "plain"

    def __init__(self, inner: JsonBackend) -> None:
        self._inner = inner

    def __getattr__(self, attr: str) -> Any:
        if attr == "search":
            raise AttributeError(attr)
        return getattr(self._inner, attr)


class TestBackendWithoutSearchConformance(SearchConformance):
    """The search cases on a backend without its own index: the manager indexes it in memory
    and must answer exactly as the stores with an index do."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[Any]:
        inner = JsonBackend(tmp_path / ".prompt_objects")
        yield _WithoutSearch(inner)
        inner.close()

    @pytest.fixture
    def manager(self, backend: Any, tmp_path: Path) -> Iterator[SessionManager]:
        mgr = SessionManager(tmp_path, backend, PluginHost.create(entry_points=False))
        assert not isinstance(mgr.backend, SupportsSearch)
        yield mgr
        mgr.close()
