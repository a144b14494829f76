"""Shared fixtures for the core unit tests: a private store on tmp_path, managers over it, and
the command line run in-process."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cli_runner import Run
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


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``prompt-sessions --dir <store> ...`` run in-process, with no external plugins."""
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "")
    store = tmp_path / ".prompt_objects"
    store.mkdir()
    (store / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    return Run(capsys, monkeypatch, store)


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Install modules as entry points of the prompt_sessions group, without pip."""

    def install(**modules: types.ModuleType) -> None:
        eps = []
        for ep_name, module in modules.items():
            monkeypatch.setitem(sys.modules, module.__name__, module)
            eps.append(importlib.metadata.EntryPoint(ep_name, module.__name__, "prompt_sessions"))

        def entry_points(**params: Any) -> list[importlib.metadata.EntryPoint]:
            return [ep for ep in eps if params.get("group") in (None, ep.group)]

        monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)

    return install
