"""Helpers for plugin tests that need no pytest: register a plugin for the length of a block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..plugins import PluginHost


@contextmanager
def registered_plugin(
    plugin: object, host: PluginHost | None = None, *, name: str | None = None
) -> Iterator[PluginHost]:
    """Register ``plugin`` (a module, class or instance with ``@hookimpl`` methods) on ``host``
    for the duration of the block, and yield the host.

    Without ``host``, a fresh one is built with the built-in plugins and no entry points, so the
    test sees exactly the built-ins plus ``plugin``. A plugin the host refuses raises PluginError
    instead of being skipped with a warning, so a broken plugin fails its test.
    """
    from ..plugins import PluginHost

    if host is None:
        host = PluginHost.create(entry_points=False)
    registered = host.register(plugin, name)
    try:
        yield host
    finally:
        host.unregister(registered)
