"""The trash cases of the conformance suite on a third-party backend without a trash: the
manager falls back to deleting for good, and the built-in backends declare the capability."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost
from prompt_sessions.storage.base import SupportsTrash, SupportsTrashUpdate
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.testing.trash_conformance import TrashConformance

_TRASH_METHODS = {
    "trash",
    "trashed",
    "restore",
    "purge",
    "read_trashed",
    "put_trashed",
    "update_trashed",
}


class _WithoutTrash:
    """The JSON store with its trash hidden, as a backend written before the trash existed."""

    name = "plain"

    def __init__(self, inner: JsonBackend) -> None:
        self._inner = inner

    hidden = _TRASH_METHODS

    def __getattr__(self, attr: str) -> Any:
        if attr in self.hidden:
            raise AttributeError(attr)
        return getattr(self._inner, attr)


class _WithoutTrashUpdate(_WithoutTrash):
    """The JSON store with a trash but no ``update_trashed``, as a backend written before it."""

    hidden = {"update_trashed"}


class _WrappedConformance(TrashConformance):
    """The trash cases on the JSON store seen through ``wrapper`` (a backend lacking some of
    the trash's methods); ``trash`` and ``trash_update`` say which capabilities the manager
    must find it to have."""

    wrapper: type[_WithoutTrash]
    trash = False
    trash_update = False

    @pytest.fixture
    def open_backend(self, tmp_path: Path) -> Iterator[Callable[..., Any]]:
        opened: list[JsonBackend] = []

        def open_(root: Path | None = None) -> Any:
            inner = JsonBackend(root or tmp_path / ".prompt_objects")
            opened.append(inner)
            return self.wrapper(inner)

        yield open_
        for inner in opened:
            inner.close()

    @pytest.fixture
    def backend(self, open_backend: Callable[..., Any]) -> Any:
        return open_backend()

    @pytest.fixture
    def manager(self, backend: Any, tmp_path: Path) -> Iterator[SessionManager]:
        mgr = SessionManager(tmp_path, backend, PluginHost.create(entry_points=False))
        assert isinstance(mgr.backend, SupportsTrash) is self.trash
        assert isinstance(mgr.backend, SupportsTrashUpdate) is self.trash_update
        yield mgr
        mgr.close()


class TestBackendWithoutTrashConformance(_WrappedConformance):
    """The trash cases on a backend without a trash: deletes still work, for good."""

    wrapper = _WithoutTrash

    def test_the_session_file_is_gone_for_good(
        self, manager: SessionManager, tmp_path: Path
    ) -> None:
        """Without a trash, the manager's delete removes the file and leaves no trash folder."""
        s = manager.create("po", "Gone")
        path = tmp_path / ".prompt_objects" / "sessions" / f"{s.id}.json"
        assert path.exists()
        manager.delete(s.id)
        assert not path.exists()
        assert not (tmp_path / ".prompt_objects" / "trash").exists()


class TestBackendWithoutTrashUpdateConformance(_WrappedConformance):
    """The trash cases on a backend whose trash cannot change a session where it lies:
    ``po rename`` still takes the trash along (restoring, updating, trashing again)."""

    wrapper = _WithoutTrashUpdate
    trash = True
