"""``config.toml``: read with tomllib, written with tomli-w, dotted keys on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import PromptSessionsError, UsageError

CONFIG_NAME = "config.toml"


class ConfigError(PromptSessionsError):
    title = "Bad configuration"


def load_config(root: Path) -> dict[str, Any]:
    path = root / CONFIG_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    import tomllib

    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def get_value(config: dict[str, Any], key: str) -> Any:
    node: Any = config
    for part in _split(key):
        if not isinstance(node, dict) or part not in node:
            raise UsageError(f"'{key}' is not set")
        node = node[part]
    return node


def parse_value(text: str) -> Any:
    """Read a command-line value as TOML (numbers, booleans, quoted strings), else as a string."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def set_value(root: Path, key: str, value: Any) -> None:
    import tomli_w

    from .storage.files import atomic_write, ensure_dir

    config = load_config(root)
    parts = _split(key)
    node = config
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"'{part}' in '{key}' is a value, not a table")
        node = child
    node[parts[-1]] = value
    ensure_dir(root)
    atomic_write(root / CONFIG_NAME, tomli_w.dumps(config).encode("utf-8"))


def _split(key: str) -> list[str]:
    parts = key.split(".")
    if not key or any(not p.strip() for p in parts):
        raise UsageError(f"invalid config key '{key}': use dotted names like storage.backend")
    return parts


def section(config: dict[str, Any], *path: str) -> dict[str, Any]:
    node: Any = config
    for part in path:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}
