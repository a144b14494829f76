"""Hooks are called through pluggy: tryfirst, trylast and wrapper=True hold, and a plugin that
raises is named and skipped while the others still run, for events and contribution hooks alike."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from prompt_sessions import hookimpl
from prompt_sessions.plugins import PluginHost


class Exporter:
    extension = "txt"
    media_type = "text/plain"

    def __init__(self, name: str) -> None:
        self.name = name

    def export(self, session: Any) -> str:
        return self.name


def make_host(*plugins: object, warnings: list[str] | None = None) -> PluginHost:
    sink = warnings if warnings is not None else []
    return PluginHost.create(entry_points=False, plugins=plugins, warn=sink.append)


class Listener:
    """A plugin object that records its calls into a shared log under its own label."""

    def __init__(self, log: list[str], label: str, *, fail: bool = False) -> None:
        self.log = log
        self.label = label
        self.fail = fail
        self.__name__ = label

    def _hit(self, what: str) -> None:
        self.log.append(f"{self.label}:{what}")
        if self.fail:
            raise RuntimeError(f"{self.label} is broken")


def plain(log: list[str], label: str, fail: bool = False, **opts: bool) -> object:
    listener = Listener(log, label, fail=fail)

    class Plugin:
        __name__ = label

        @hookimpl(**opts)
        def session_deleted(self, session_id: str) -> None:
            listener._hit("deleted")

        @hookimpl(**opts)
        def register_exporters(self, register: Callable[[Any], None]) -> None:
            listener._hit("exporters")
            register(Exporter(f"fmt-{label}"))

    return Plugin()


def wrapping(log: list[str], label: str, *, fail_before: bool = False, fail_after: bool = False):  # type: ignore[no-untyped-def]
    class Plugin:
        __name__ = label

        @hookimpl(wrapper=True)
        def session_deleted(self, session_id: str) -> Generator[None, Any, Any]:
            log.append(f"{label}:before")
            if fail_before:
                raise RuntimeError("wrapper broke before")
            result = yield
            log.append(f"{label}:after")
            if fail_after:
                raise RuntimeError("wrapper broke after")
            return result

        @hookimpl(wrapper=True)
        def register_exporters(self, register: Callable[[Any], None]) -> Generator[None, Any, Any]:
            log.append(f"{label}:before")
            if fail_before:
                raise RuntimeError("wrapper broke before")
            result = yield
            register(Exporter(f"fmt-{label}"))  # a wrapper may contribute too
            log.append(f"{label}:after")
            if fail_after:
                raise RuntimeError("wrapper broke after")
            return result

    return Plugin()


def delete_event(host: PluginHost) -> None:
    host.session_deleted(session_id="x", po_name="p", manager=None)  # type: ignore[arg-type]


def ordering_plugins(log: list[str]) -> list[object]:
    # Registered in this order; pluggy calls the last registered first unless told otherwise.
    return [
        plain(log, "first", tryfirst=True),
        plain(log, "last", trylast=True),
        plain(log, "a"),
        plain(log, "b"),
        wrapping(log, "wrap"),
    ]


def test_event_follows_pluggy_order_with_wrapper_around() -> None:
    """An event runs the wrapper around everything, tryfirst first, trylast last."""
    log: list[str] = []
    delete_event(make_host(*ordering_plugins(log)))
    assert log == [
        "wrap:before",
        "first:deleted",
        "b:deleted",
        "a:deleted",
        "last:deleted",
        "wrap:after",
    ]


def test_contribution_hook_follows_pluggy_order_with_wrapper_around() -> None:
    """register_exporters is called in pluggy's order too, and a wrapper's contribution counts."""
    log: list[str] = []
    host = make_host(*ordering_plugins(log))
    found = host.exporters()
    assert log == [
        "wrap:before",
        "first:exporters",
        "b:exporters",
        "a:exporters",
        "last:exporters",
        "wrap:after",
    ]
    assert {f"fmt-{p}" for p in ("first", "last", "a", "b", "wrap")} <= set(found)
    assert found["fmt-wrap"].plugin == "wrap"
    assert found["fmt-first"].plugin == "first"


@pytest.mark.parametrize("hook", ["event", "contribution"])
def test_a_raising_plugin_is_named_and_skipped(hook: str) -> None:
    """The broken plugin is named in a warning; the ones after it in call order still run."""
    log: list[str] = []
    warnings: list[str] = []
    host = make_host(
        plain(log, "early", tryfirst=True),
        plain(log, "later", trylast=True),
        plain(log, "broken", fail=True),
        warnings=warnings,
    )
    if hook == "event":
        delete_event(host)
        assert log == ["early:deleted", "broken:deleted", "later:deleted"]
        assert warnings == [
            "plugin 'broken' failed in session_deleted: RuntimeError: broken is broken"
        ]
    else:
        found = host.exporters()
        assert log == ["early:exporters", "broken:exporters", "later:exporters"]
        assert {"fmt-early", "fmt-later"} <= set(found)
        assert "fmt-broken" not in found, "it raised before registering"
        assert [(f.plugin, f.error) for f in host.failures] == [
            ("broken", "register_exporters raised RuntimeError: broken is broken")
        ]


@pytest.mark.parametrize("hook", ["event", "contribution"])
def test_a_wrapper_failing_before_its_yield_is_skipped(hook: str) -> None:
    """A wrapper raising before `yield` is reported; the inner implementations run anyway."""
    log: list[str] = []
    warnings: list[str] = []
    host = make_host(
        plain(log, "inner"), wrapping(log, "wrap", fail_before=True), warnings=warnings
    )
    if hook == "event":
        delete_event(host)
        assert log == ["wrap:before", "inner:deleted"]
        assert warnings == [
            "plugin 'wrap' failed in session_deleted: RuntimeError: wrapper broke before"
        ]
    else:
        assert "fmt-inner" in host.exporters()
        assert log == ["wrap:before", "inner:exporters"]
        assert host.failures[0].plugin == "wrap"


@pytest.mark.parametrize("hook", ["event", "contribution"])
def test_a_wrapper_failing_after_its_yield_leaves_the_result(hook: str) -> None:
    """A wrapper raising after `yield` is reported; the call still succeeds with what ran."""
    log: list[str] = []
    warnings: list[str] = []
    host = make_host(plain(log, "inner"), wrapping(log, "wrap", fail_after=True), warnings=warnings)
    if hook == "event":
        delete_event(host)
        assert log == ["wrap:before", "inner:deleted", "wrap:after"]
        assert warnings == [
            "plugin 'wrap' failed in session_deleted: RuntimeError: wrapper broke after"
        ]
    else:
        found = host.exporters()
        assert {"fmt-inner", "fmt-wrap"} <= set(found)
        assert host.failures[0].plugin == "wrap"


def test_ties_go_to_the_plugin_registered_first_whatever_the_call_order() -> None:
    """A tryfirst plugin offering a built-in's name does not take it: registration order decides."""

    class Thief:
        __name__ = "thief"

        @hookimpl(tryfirst=True)
        def register_exporters(self, register: Callable[[Any], None]) -> None:
            register(Exporter("markdown"))

    warnings: list[str] = []
    host = make_host(Thief(), warnings=warnings)
    assert host.exporters()["markdown"].plugin == "exporters"
    assert any("'markdown'" in w and "thief" in w for w in warnings)


def test_events_from_the_manager_reach_wrappers(tmp_path: Any) -> None:
    """SessionManager events go through the typed host methods, so a wrapper sees them."""
    from prompt_sessions.manager import SessionManager

    seen: list[str] = []

    class Around:
        __name__ = "around"

        @hookimpl(wrapper=True)
        def session_created(self, session: Any) -> Generator[None, Any, Any]:
            seen.append(f"before {session.name}")
            result = yield
            seen.append(f"after {session.name}")
            return result

    with SessionManager.open(tmp_path / "env", host=make_host(Around()), config={}) as manager:
        manager.create("po", "Hello")
    assert seen == ["before Hello", "after Hello"]


def test_an_old_style_hookwrapper_runs_around_and_is_isolated_too() -> None:
    """hookwrapper=True (pluggy's older style) runs around the others; raising after its yield
    is reported and the event still reaches every plugin."""
    log: list[str] = []
    warnings: list[str] = []

    class Old:
        __name__ = "old"

        @hookimpl(hookwrapper=True)
        def session_deleted(self, session_id: str) -> Generator[None, Any, None]:
            log.append("old:before")
            outcome = yield
            log.append(f"old:after result={outcome.get_result()!r}")
            raise RuntimeError("old broke after")

    delete_event(make_host(plain(log, "inner"), Old(), warnings=warnings))
    assert log == ["old:before", "inner:deleted", "old:after result=[]"]
    assert warnings == ["plugin 'old' failed in session_deleted: RuntimeError: old broke after"]
