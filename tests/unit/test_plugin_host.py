"""The plugin host: built-ins registered like plugins, validation, failures by name, env switches."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from collections.abc import Callable
from typing import Any

import pytest

from prompt_sessions import hookimpl
from prompt_sessions.errors import UnknownFormat
from prompt_sessions.plugins import DEFAULT_PLUGINS, PluginHost


class Exporter:
    extension = "txt"
    media_type = "text/plain"

    def __init__(self, name: str, text: str = "") -> None:
        self.name = name
        self.text = text

    def export(self, session: Any) -> str:
        return self.text


def plugin_module(name: str, **hooks: Callable[..., Any]) -> types.ModuleType:
    """A module-shaped plugin, as an entry point would load it."""
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        fn.__name__ = hook_name
        setattr(module, hook_name, hookimpl(fn))
    return module


def exporter_plugin(name: str, fmt: str, text: str = "") -> types.ModuleType:
    def register_exporters(register: Callable[[Any], None]) -> None:
        register(Exporter(fmt, text))

    return plugin_module(name, register_exporters=register_exporters)


def make_host(*plugins: object, warnings: list[str] | None = None, **kw: Any) -> PluginHost:
    sink = warnings if warnings is not None else []
    return PluginHost.create(entry_points=False, plugins=plugins, warn=sink.append, **kw)


# ---------------------------------------------------------------- built-ins


def test_builtins_are_registered_as_plugins() -> None:
    """Every built-in module is a named plugin of the plugin manager, flagged as built-in."""
    host = make_host()
    infos = {p.name: p for p in host.plugins(include_builtins=True)}
    for module_name in DEFAULT_PLUGINS:
        short = module_name.rsplit(".", 1)[-1]
        assert infos[short].builtin
        assert host.pm.get_plugin(short) is sys.modules[module_name]
    assert infos["exporters"].hooks == ["register_exporters"]
    assert host.plugins() == [], "built-ins are hidden unless asked for"


def test_builtin_contributions_and_their_origin() -> None:
    """The built-in formats, backend and responder exist and record which plugin gave them."""
    host = make_host()
    assert {"json", "markdown"} <= set(host.exporters())
    assert host.exporters()["markdown"].plugin == "exporters"
    assert host.importers()["json"].plugin == "importers"
    assert host.storage_backends()["json"].plugin == "json_storage"
    assert host.responders()["echo"].plugin == "echo"


def test_no_builtins() -> None:
    """A host without built-ins has no formats; asking for one lists none known."""
    host = PluginHost.create(builtins=False, entry_points=False)
    assert host.exporters() == {}
    with pytest.raises(UnknownFormat, match="none"):
        host.exporter("markdown")


def test_unknown_names_list_the_known_ones() -> None:
    """Unknown exporters, backends and responders raise UnknownFormat listing what exists."""
    host = make_host()
    with pytest.raises(UnknownFormat, match="json, markdown"):
        host.exporter("pdf")
    with pytest.raises(UnknownFormat, match="json"):
        host.storage_factory("nope")
    with pytest.raises(UnknownFormat, match="echo"):
        host.responder_factory("nope")


# ---------------------------------------------------------------- third-party plugins


def test_third_party_contribution_is_used() -> None:
    """A plugin object passed to the host adds its exporter next to the built-ins."""
    host = make_host(exporter_plugin("shouty", "shout", "HELLO"))
    assert host.exporter("shout").export(None) == "HELLO"
    assert host.exporters()["shout"].plugin == "shouty"
    assert [p.name for p in host.plugins()] == ["shouty"]


def test_duplicate_names_keep_the_first() -> None:
    """A second exporter with a taken name is ignored with a warning naming both plugins."""
    warnings: list[str] = []
    host = make_host(
        exporter_plugin("first", "dup", "one"),
        exporter_plugin("second", "dup", "two"),
        exporter_plugin("thief", "markdown", "stolen"),
        warnings=warnings,
    )
    assert host.exporter("dup").export(None) == "one"
    assert host.exporters()["markdown"].plugin == "exporters"
    assert any("'dup'" in w and "second" in w and "first" in w for w in warnings)
    assert any("'markdown'" in w and "thief" in w for w in warnings)


def test_plugin_raising_in_a_hook_is_reported_by_name() -> None:
    """A hook that raises is recorded as a failure of that plugin; other contributions survive."""

    def register_exporters(register: Callable[[Any], None]) -> None:
        register(Exporter("partial"))
        raise RuntimeError("kaboom")

    warnings: list[str] = []
    host = make_host(
        plugin_module("broken_plugin", register_exporters=register_exporters),
        exporter_plugin("fine", "fine"),
        warnings=warnings,
    )
    exporters = host.exporters()
    assert {"json", "markdown", "fine"} <= set(exporters)
    assert [(f.plugin, "kaboom" in f.error) for f in host.failures] == [("broken_plugin", True)]
    assert any("broken_plugin" in w and "kaboom" in w for w in warnings)


@pytest.mark.parametrize(
    ("obj", "reason"),
    [(object(), "lacks"), (Exporter("has space"), "invalid name"), (Exporter(""), "invalid name")],
    ids=["missing-attributes", "space-in-name", "empty-name"],
)
def test_invalid_contributions_are_refused(obj: object, reason: str) -> None:
    """Contributions without the required attributes or with bad names are refused by plugin name."""

    def register_exporters(register: Callable[[Any], None]) -> None:
        register(obj)

    host = make_host(plugin_module("sloppy", register_exporters=register_exporters))
    assert set(host.exporters()) == {"json", "markdown"}
    assert host.failures and host.failures[0].plugin == "sloppy"
    assert reason in host.failures[0].error


def test_keyed_register_needs_two_arguments() -> None:
    """register(name, factory) hooks refuse a call with the wrong arity."""

    def register_responders(register: Callable[..., None]) -> None:
        register("only-a-name")

    host = make_host(plugin_module("wrong_arity", register_responders=register_responders))
    assert "echo" in host.responders()
    assert host.failures[0].plugin == "wrong_arity"


def test_unknown_hooks_are_rejected() -> None:
    """A plugin implementing a hook that does not exist is not loaded and is reported."""

    def register_exportrs(register: Callable[[Any], None]) -> None:  # a typo
        register(Exporter("typo"))

    warnings: list[str] = []
    module = plugin_module("typo_plugin", register_exportrs=register_exportrs)
    host = make_host(module, warnings=warnings)
    assert host.pm.get_plugin("typo_plugin") is None
    assert "register_exportrs" in host.failures[0].error
    assert any("typo_plugin" in w for w in warnings)


def test_event_hook_failure_does_not_stop_other_plugins() -> None:
    """One plugin raising in an event does not keep the event from the others."""
    seen: list[str] = []

    def bad(session_id: str) -> None:
        raise ValueError("no")

    def good(session_id: str, po_name: str) -> None:
        seen.append(f"{po_name}:{session_id}")

    warnings: list[str] = []
    host = make_host(
        plugin_module("bad_listener", session_deleted=bad),
        plugin_module("good_listener", session_deleted=good),
        warnings=warnings,
    )
    host.session_deleted(session_id="abc", po_name="po", manager=None)  # type: ignore[arg-type]
    assert seen == ["po:abc"]
    assert any("bad_listener" in w and "session_deleted" in w for w in warnings)


def test_disable_builtin_with_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """PROMPT_SESSIONS_DISABLE_PLUGINS can switch off a built-in by its short name."""
    monkeypatch.setenv("PROMPT_SESSIONS_DISABLE_PLUGINS", "exporters")
    host = make_host()
    assert host.exporters() == {}
    assert "json" in host.importers()


# ---------------------------------------------------------------- entry points and env switches


def external_host(warnings: list[str] | None = None) -> PluginHost:
    sink = warnings if warnings is not None else []
    return PluginHost.create(warn=sink.append)


def test_entry_points_load_lazily(fake_entry_points: Callable[..., None]) -> None:
    """External plugins load on first need, not when the host is built or the json store opens."""
    fake_entry_points(alpha=exporter_plugin("ext_alpha", "alpha"))
    host = external_host()
    host.storage_factory("json")
    assert host.pm.get_plugin("alpha") is None
    assert "alpha" in host.exporters()
    assert host.exporters()["alpha"].plugin == "alpha"
    assert [p.name for p in host.plugins()] == ["alpha"]


def test_allow_list_env(
    fake_entry_points: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PROMPT_SESSIONS_PLUGINS loads only the named plugins and reports names it cannot find."""
    fake_entry_points(
        alpha=exporter_plugin("ext_a", "alpha"), beta=exporter_plugin("ext_b", "beta")
    )
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "beta, missing")
    host = external_host()
    assert {"beta", "json", "markdown"} == set(host.exporters())
    assert [f.plugin for f in host.failures] == ["missing"]


def test_empty_allow_list_loads_no_external(
    fake_entry_points: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty PROMPT_SESSIONS_PLUGINS loads no external plugins but keeps the built-ins."""
    fake_entry_points(alpha=exporter_plugin("ext_a2", "alpha"))
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "")
    host = external_host()
    assert set(host.exporters()) == {"json", "markdown"}
    assert host.failures == []


def test_deny_list_env(
    fake_entry_points: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PROMPT_SESSIONS_DISABLE_PLUGINS skips the named entry points."""
    fake_entry_points(
        alpha=exporter_plugin("ext_a3", "alpha"), beta=exporter_plugin("ext_b3", "beta")
    )
    monkeypatch.setenv("PROMPT_SESSIONS_DISABLE_PLUGINS", "alpha")
    host = external_host()
    assert "alpha" not in host.exporters()
    assert "beta" in host.exporters()


def test_plugin_that_fails_to_import_is_reported(
    fake_entry_points: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry point whose module cannot be imported is reported by name; the rest load."""
    fake_entry_points(beta=exporter_plugin("ext_b4", "beta"))
    eps = importlib.metadata.entry_points(group="prompt_sessions")
    broken = importlib.metadata.EntryPoint(
        "ghost", "no_such_module_anywhere_xyz", "prompt_sessions"
    )
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: [broken, *eps])
    warnings: list[str] = []
    host = external_host(warnings)
    assert "beta" in host.exporters()
    assert [f.plugin for f in host.failures] == ["ghost"]
    assert "ModuleNotFoundError" in host.failures[0].error
    assert any("ghost" in w for w in warnings)


def test_trace_env_writes_hook_calls_to_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PROMPT_SESSIONS_TRACE_PLUGINS=1 shows which plugin answers which hook."""
    monkeypatch.setenv("PROMPT_SESSIONS_TRACE_PLUGINS", "1")
    host = make_host(plugin_module("listener", session_deleted=lambda session_id: None))
    host.exporters()
    host.session_deleted(session_id="x", po_name="p", manager=None)  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "register_exporters" in err and "exporters" in err
    assert "session_deleted" in err and "listener" in err


def test_message_appended_reaches_its_listeners_and_the_trace(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``message_appended`` is skipped only when no plugin listens and no trace is on: a
    listener hears every message, and with the trace on the call is shown even unheard."""
    heard: list[str] = []
    host = make_host(
        plugin_module("listener", message_appended=lambda session_id: heard.append(session_id))
    )
    host.message_appended(session_id="a", message=None, manager=None)  # type: ignore[arg-type]
    assert heard == ["a"]
    monkeypatch.setenv("PROMPT_SESSIONS_TRACE_PLUGINS", "1")
    quiet = make_host()
    quiet.message_appended(session_id="b", message=None, manager=None)  # type: ignore[arg-type]
    assert "message_appended" in capsys.readouterr().err


def test_no_trace_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    """Without the trace switch the host is silent."""
    host = make_host()
    host.exporters()
    assert capsys.readouterr().err == ""


def test_hook_with_wrong_arguments_is_refused_by_name() -> None:
    """An implementation asking for an argument the hook does not offer is refused, not called."""

    def register_exporters(reg: Callable[[Any], None]) -> None:
        reg(Exporter("never"))

    host = make_host(plugin_module("misnamed", register_exporters=register_exporters))
    assert "never" not in host.exporters()
    assert [f.plugin for f in host.failures] == ["misnamed"]
    assert "reg" in host.failures[0].error
