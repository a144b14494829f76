"""Shared fixtures for the core unit tests: a private store on tmp_path and managers over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost

PLUGIN_ENV_VARS = (
    "PROMPT_SESSIONS_PLUGINS",
    "PROMPT_SESSIONS_DISABLE_PLUGINS",
    "PROMPT_SESSIONS_TRACE_PLUGINS",
    "PROMPT_OBJECTS_DIR",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's shell settings must not change what the tests see.
    for name in PLUGIN_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An environment folder that does not exist yet."""
    return tmp_path / ".prompt_objects"


@pytest.fixture
def warnings_seen() -> list[str]:
    return []


@pytest.fixture
def host(warnings_seen: list[str]) -> PluginHost:
    """Built-in plugins only; warnings are collected instead of printed."""
    return PluginHost.create(entry_points=False, warn=warnings_seen.append)


@pytest.fixture
def open_manager(root: Path, warnings_seen: list[str]) -> Iterator[Callable[[], SessionManager]]:
    """Open extra managers on the same folder (as separate processes would); all closed at the end."""
    opened: list[SessionManager] = []

    def _open() -> SessionManager:
        manager = SessionManager.open(
            root, host=PluginHost.create(entry_points=False, warn=warnings_seen.append)
        )
        opened.append(manager)
        return manager

    yield _open
    for manager in opened:
        manager.close()


@pytest.fixture
def manager(root: Path, host: PluginHost) -> Iterator[SessionManager]:
    mgr = SessionManager.open(root, host=host)
    yield mgr
    mgr.close()

