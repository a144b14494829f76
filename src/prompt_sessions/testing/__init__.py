"""Helpers for testing prompt-sessions and its plugins.

- ``registered_plugin(obj)``: a context manager that registers a plugin object on a PluginHost.
- ``prompt_sessions.testing.conformance.BackendConformance``: the storage backend test suite.
- A pytest plugin (registered through the ``pytest11`` entry point) with the fixtures
  ``prompt_sessions_dir``, ``prompt_sessions_backend``, ``plugin_host``, ``session_manager`` and
  ``registered_plugin``.
"""

from __future__ import annotations

from .helpers import registered_plugin

__all__ = ["registered_plugin"]
