"""Fixtures for plugin authors: a store on tmp_path and a manager over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def prompt_sessions_dir(tmp_path: Path) -> Path:
    """An empty environment folder for one test."""
    return tmp_path / ".prompt_objects"


@pytest.fixture
def session_manager(prompt_sessions_dir: Path) -> Iterator[object]:
    """A SessionManager on an empty store, with built-in plugins only."""
    from ..manager import SessionManager
    from ..plugins import PluginHost

    manager = SessionManager.open(prompt_sessions_dir, host=PluginHost.create(entry_points=False))
    yield manager
    manager.close()
