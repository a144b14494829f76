"""The helpers plugin authors get: the pytest fixtures and ``registered_plugin``."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_sessions import Message, hookimpl
from prompt_sessions.errors import PluginError, UnknownFormat
from prompt_sessions.plugins import PluginHost
from prompt_sessions.testing import registered_plugin


class ShoutExporter:
    name = "shout"
    extension = "txt"
    media_type = "text/plain"

    def export(self, session):  # type: ignore[no-untyped-def]
        return "\n".join(m.content.upper() for m in session.history)


class ShoutPlugin:
    """Contributes one exporter and records the events it sees."""

    def __init__(self) -> None:
        self.events: list[str] = []

    @hookimpl
    def register_exporters(self, register):  # type: ignore[no-untyped-def]
        register(ShoutExporter())

    @hookimpl
    def session_created(self, session):  # type: ignore[no-untyped-def]
        self.events.append(f"created {session.name}")


def test_session_manager_fixture_is_an_empty_store_on_tmp_path(
    session_manager, prompt_sessions_dir: Path, tmp_path: Path
) -> None:
    """``session_manager`` starts empty, writes under ``prompt_sessions_dir`` inside tmp_path."""
    assert session_manager.list() == []
    assert prompt_sessions_dir.parent == tmp_path
    s = session_manager.create("coordinator")
    assert (prompt_sessions_dir / "sessions" / f"{s.id}.json").is_file()


def test_registered_plugin_lasts_for_the_block(session_manager) -> None:
    """Registered on the manager's host, a plugin's exporter and events work inside the block
    and are gone after it."""
    plugin = ShoutPlugin()
    s = session_manager.create("coordinator", "First")
    session_manager.append(s.id, Message(role="user", content="hello"))
    with registered_plugin(plugin, session_manager.host):
        assert session_manager.export(s.id, format="shout") == "HELLO"
        session_manager.create("coordinator", "Second")
    session_manager.create("coordinator", "Third")
    assert plugin.events == ["created Second"]
    with pytest.raises(UnknownFormat):
        session_manager.export(s.id, format="shout")


def test_registered_plugin_fixture_uses_the_fixture_host(
    registered_plugin, plugin_host: PluginHost, session_manager
) -> None:
    """``registered_plugin`` as a fixture needs no host argument: it uses ``plugin_host``."""
    assert session_manager.host is plugin_host
    with registered_plugin(ShoutPlugin()) as host:
        assert host is plugin_host
        assert "shout" in session_manager.formats()["export"]
    assert "shout" not in session_manager.formats()["export"]


def test_registered_plugin_without_a_host_builds_one() -> None:
    """Outside pytest, ``registered_plugin(obj)`` yields a fresh host with built-ins plus obj."""
    with registered_plugin(ShoutPlugin()) as host:
        assert {"json", "markdown", "shout"} <= set(host.exporters())
        assert "json" in host.storage_backends() and "sqlite" in host.storage_backends()


def test_registered_plugin_refuses_a_broken_plugin() -> None:
    """A plugin implementing a hook that does not exist fails loudly instead of being skipped."""

    class Typo:
        @hookimpl
        def register_exporter(self, register):  # type: ignore[no-untyped-def]
            pass

    host = PluginHost.create(entry_points=False, warn=lambda _: None)
    with pytest.raises(PluginError, match="register_exporter"), registered_plugin(Typo(), host):
        pass


class TestSqliteFixtureOverride:
    """Overriding ``prompt_sessions_backend`` switches ``session_manager`` to another backend."""

    @pytest.fixture
    def prompt_sessions_backend(self) -> str:
        return "sqlite"

    def test_session_manager_uses_the_chosen_backend(
        self, session_manager, prompt_sessions_dir: Path
    ) -> None:
        """With the override, sessions go to sessions.sqlite3."""
        assert session_manager.backend.name == "sqlite"
        session_manager.create("coordinator")
        assert (prompt_sessions_dir / "sessions.sqlite3").is_file()
