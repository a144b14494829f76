"""The ``[runtime]`` table of config.toml: concurrency limits, buffer cap, retries, watching.

The keys, their types, limits and defaults are declared once, in ``config_schema.RuntimeConfig``.
"""

from __future__ import annotations

from typing import Any

from ..config import check_table
from ..config_schema import MB, RuntimeConfig

__all__ = ["MB", "RuntimeSettings"]


class RuntimeSettings(RuntimeConfig):
    """The runtime's limits, as ``[runtime]`` gives them (DESIGN section 8)."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RuntimeSettings:
        """The ``[runtime]`` table of config.toml data, checked.

        Raises:
            ConfigError: a key is unknown or has the wrong type or range, named in one line.
        """
        table = config.get("runtime", {}) if isinstance(config, dict) else {}
        settings: RuntimeSettings = check_table(table, cls, "runtime")
        return settings
