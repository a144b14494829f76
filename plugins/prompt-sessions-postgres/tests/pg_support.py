"""Helpers for the postgres tests: one schema per folder, a config.toml that selects it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import prompt_sessions_postgres

from prompt_sessions import SessionManager
from prompt_sessions.plugins import PluginHost


def schema_for(root: Path) -> str:
    """One schema per environment folder, so separate folders are separate stores."""
    return "t_" + hashlib.sha1(str(root).encode()).hexdigest()[:16]


def write_config(root: Path, dsn: str, schema: str | None = None, **extra: Any) -> Path:
    """An environment folder whose config.toml selects the postgres backend."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["[storage]", 'backend = "postgres"', "", "[storage.postgres]", f"dsn = {dsn!r}"]
    lines.append(f'schema = "{schema or schema_for(root)}"')
    lines += [f"{key} = {value!r}" for key, value in extra.items()]
    (root / "config.toml").write_text("\n".join(lines).replace("'", '"') + "\n")
    return root


def open_manager(root: Path) -> SessionManager:
    """A manager on ``root`` with the postgres backend's plugin loaded (no entry points)."""
    host = PluginHost.create(entry_points=False, plugins=[prompt_sessions_postgres])
    return SessionManager.open(root, host=host)
