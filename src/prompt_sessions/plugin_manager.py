"""A pluggy PluginManager whose hook implementations cannot break a hook call.

The plugin host calls every hook through ``pm.hook`` so pluggy's ordering holds (``tryfirst``,
``trylast``, ``wrapper=True``); this manager keeps one plugin's failure from stopping the others
by wrapping each implementation when its plugin registers.
"""

from __future__ import annotations

import contextvars
import functools
import sys
from collections.abc import Callable, Generator
from typing import Any, cast

import pluggy

# The plugin whose hook implementation is running: ``register`` callbacks credit it.
CALLING: contextvars.ContextVar[str] = contextvars.ContextVar("prompt_sessions_plugin")


class IsolatingPluginManager(pluggy.PluginManager):
    """A PluginManager whose hook implementations cannot break a hook call.

    Each implementation's function is wrapped when its plugin registers: an exception is handed
    to ``on_error(plugin, hook, exc)`` and the call goes on with the next implementation, as if
    the failing one had returned None. The calls themselves stay pluggy's, so ``tryfirst``,
    ``trylast``, ``wrapper=True`` and ``firstresult`` keep their meaning.
    """

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.on_error: Callable[[str, str, Exception], None] = _report
        self.on_call: Callable[[str, str], None] = lambda plugin, hook: None

    def register(self, plugin: object, name: str | None = None) -> str | None:
        plugin_name = super().register(plugin, name)
        if plugin_name is None:
            return None
        for caller in self.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin:
                    wrapped = _isolated(impl, caller.name, self)
                    # pluggy read the argument names from the original function already; only
                    # the callable it invokes changes.
                    impl.function = wrapped  # type: ignore[misc]
        return plugin_name


def _report(plugin: str, hook: str, exc: Exception) -> None:
    print(f"Warning: plugin '{plugin}' failed in {hook}: {exc}", file=sys.stderr)


def _isolated(impl: pluggy.HookImpl, hook: str, pm: IsolatingPluginManager) -> Callable[..., Any]:
    function = impl.function
    plugin = impl.plugin_name

    def on_error(plugin: str, hook: str, exc: Exception) -> None:
        pm.on_error(plugin, hook, exc)

    if not (impl.wrapper or impl.hookwrapper):

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            pm.on_call(plugin, hook)
            token = CALLING.set(plugin)
            try:
                return function(*args, **kwargs)
            except Exception as exc:
                on_error(plugin, hook, exc)
                return None
            finally:
                CALLING.reset(token)

        return call

    @functools.wraps(function)
    def wrap(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
        # A wrapper runs around the others: its code before ``yield`` and after it are each
        # isolated; a broken wrapper leaves the inner result (or error) as it was.
        pm.on_call(plugin, hook)
        token = CALLING.set(plugin)
        gen: Generator[Any, Any, Any] | None
        try:
            gen = cast("Generator[Any, Any, Any]", function(*args, **kwargs))
            next(gen)
        except Exception as exc:
            on_error(plugin, hook, exc)
            gen = None
        finally:
            CALLING.reset(token)
        if gen is None:
            return (yield)
        try:
            outcome = yield
        except BaseException as raised:
            token = CALLING.set(plugin)
            try:
                gen.throw(raised)
            except StopIteration as stop:
                return stop.value
            except Exception as exc:
                if exc is not raised:
                    on_error(plugin, hook, exc)
                raise raised from None
            finally:
                CALLING.reset(token)
            gen.close()
            raise
        token = CALLING.set(plugin)
        try:
            gen.send(outcome)
        except StopIteration as stop:
            return outcome if impl.hookwrapper else stop.value
        except Exception as exc:
            on_error(plugin, hook, exc)
            return outcome if impl.wrapper else None
        finally:
            CALLING.reset(token)
        gen.close()
        on_error(plugin, hook, RuntimeError("wrapper yielded more than once"))
        return outcome if impl.wrapper else None

    return wrap
