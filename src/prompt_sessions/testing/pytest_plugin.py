"""Fixtures for plugin authors: a store on tmp_path, a manager over it, plugin registration.

Loaded in every pytest run through the ``pytest11`` entry point, so it imports nothing heavy at
module level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .helpers import registered_plugin

if TYPE_CHECKING:
    from ..manager import SessionManager
    from ..plugins import PluginHost

# The conformance suite's asserts live in an installed module; have pytest explain their failures.
pytest.register_assert_rewrite("prompt_sessions.testing.conformance")


@pytest.fixture
def prompt_sessions_dir(tmp_path: Path) -> Path:
    """An empty environment folder for one test (not created until something writes)."""
    return tmp_path / ".prompt_objects"


@pytest.fixture
def prompt_sessions_backend() -> str:
    """The storage backend ``session_manager`` uses. Override this fixture to test another."""
    return "json"


@pytest.fixture
def plugin_host() -> PluginHost:
    """A plugin host with the built-in plugins only: installed entry points are not loaded."""
    from ..plugins import PluginHost

    return PluginHost.create(entry_points=False)


@pytest.fixture
def session_manager(
    prompt_sessions_dir: Path, plugin_host: PluginHost, prompt_sessions_backend: str
) -> Iterator[SessionManager]:
    """A SessionManager on an empty store, over ``plugin_host``."""
    from ..manager import SessionManager

    manager = SessionManager.open(
        prompt_sessions_dir, host=plugin_host, backend=prompt_sessions_backend
    )
    yield manager
    manager.close()


@pytest.fixture(name="registered_plugin")
def registered_plugin_fixture(
    plugin_host: PluginHost,
) -> Callable[..., AbstractContextManager[PluginHost]]:
    """``with registered_plugin(obj): ...`` registers ``obj`` on ``plugin_host`` (the host of
    ``session_manager``) for the block."""

    def register(plugin: object, *, name: str | None = None) -> AbstractContextManager[Any]:
        return registered_plugin(plugin, plugin_host, name=name)

    return register
