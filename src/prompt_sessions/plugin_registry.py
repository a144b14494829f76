"""What plugins register: the ``register`` callback of the ``register_*`` hooks, checked and ranked.

A plugin offers exporters, importers, backends, responders, tools, frontends and slash commands
by calling the ``register`` argument of a hook (DESIGN section 7). This module turns those calls
into one name -> :class:`Contribution` table: every offer is checked (required attributes, a
name without spaces) and, when two plugins offer one name, the plugin registered first wins, so
built-ins win ties.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgspec
import pluggy

from .errors import PluginError
from .plugin_manager import CALLING

T = TypeVar("T")

_REQUIRED = {
    "exporter": ("name", "extension", "media_type", "export"),
    "importer": ("name", "sniff", "load"),
    "command": ("name", "run"),
}


class Contribution(msgspec.Struct, Generic[T]):
    """One thing a plugin registered, and which plugin it came from."""

    name: str
    value: T
    plugin: str


class PluginInfo(msgspec.Struct):
    """One loaded plugin as ``plugins`` lists it: its hooks and the package that installed it."""

    name: str
    version: str | None
    hooks: list[str]
    builtin: bool
    package: str | None = None


class Failure(msgspec.Struct):
    """A plugin left out: its name and one line saying why (shown by ``plugins`` and ``doctor``)."""

    plugin: str
    error: str


def collect(
    pm: pluggy.PluginManager,
    hook: str,
    kind: str,
    *,
    keyed: bool,
    trace: Callable[[str], None],
    warn: Callable[[str], None],
) -> dict[str, Contribution[Any]]:
    """Call the ``register_*`` hook ``hook`` and return what was offered, by name.

    Args:
        pm: the plugin manager whose ``pm.hook.<hook>`` is called (through pluggy, in its order).
        hook: the hook's name, e.g. ``"register_exporters"``.
        kind: what is registered, for messages (``"exporter"``).
        keyed: True when ``register(name, value)`` takes a name; False for ``register(obj)``,
            where ``obj.name`` is the name and the attributes listed for ``kind`` are required.
        trace: called with one line per offer (``PROMPT_SESSIONS_TRACE``).
        warn: called with one line per offer ignored because its name was taken.

    Raises:
        PluginError: inside ``register``, for a malformed offer; the plugin manager names the
            plugin and leaves it out (DESIGN section 7).
    """
    offered: list[Contribution[Any]] = []

    def register(*args: Any) -> None:
        plugin = CALLING.get("?")
        if keyed:
            if len(args) != 2:
                raise PluginError(f"{hook}: register(name, factory) takes two arguments")
            name, value = args
        else:
            if len(args) != 1:
                raise PluginError(f"{hook}: register(obj) takes one argument")
            value = args[0]
            missing = [a for a in _REQUIRED.get(kind, ()) if not hasattr(value, a)]
            if missing:
                raise PluginError(f"{kind} from {plugin} lacks {', '.join(missing)}")
            name = value.name
        if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
            raise PluginError(f"{kind} from {plugin} has an invalid name {name!r}")
        offered.append(Contribution(name, value, plugin))
        trace(f"{hook}: {plugin} registered {kind} '{name}'")

    getattr(pm.hook, hook)(register=register)
    # pluggy calls plugins in its own order (tryfirst, trylast, last registered first); for
    # a name offered twice the plugin registered first wins, so built-ins win ties.
    rank = {name: i for i, (name, _) in enumerate(pm.list_name_plugin())}
    found: dict[str, Contribution[Any]] = {}
    for item in sorted(offered, key=lambda c: rank.get(c.plugin, len(rank))):
        if item.name in found:
            warn(
                f"{kind} '{item.name}' from plugin '{item.plugin}' ignored: "
                f"'{found[item.name].plugin}' already provides it"
            )
            continue
        found[item.name] = item
    return found
