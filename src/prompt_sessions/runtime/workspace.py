"""Which sessions were open, which was shown, and each one's view: ``<env>/workspace.json``.

A small file of its own rather than session metadata: view state changes with every scroll and
belongs to this machine's frontend, so writing it into session files would churn the truth,
wake every other process's watcher and travel with exports. It is written atomically (a crash
leaves the old or the new file) and read leniently: unknown or damaged entries are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ids import is_valid_id
from ..storage.files import atomic_write, ensure_dir, read_bytes
from .view_state import ViewState

WORKSPACE_FILE = "workspace.json"
WORKSPACE_VERSION = 1
MAX_WORKSPACE_BYTES = 8 * 1024 * 1024


@dataclass
class Workspace:
    open: list[str] = field(default_factory=list)
    shown: str | None = None
    views: dict[str, ViewState] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "format_version": WORKSPACE_VERSION,
            "open": self.open,
            "shown": self.shown,
            "views": {sid: view.to_dict() for sid, view in self.views.items()},
        }
        return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def workspace_path(root: Path) -> Path:
    return root / WORKSPACE_FILE


def load_workspace(root: Path) -> Workspace:
    """The saved workspace; an empty one if the file is missing, too big or unreadable."""
    try:
        raw = read_bytes(workspace_path(root))
    except OSError:
        return Workspace()
    if len(raw) > MAX_WORKSPACE_BYTES:
        return Workspace()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return Workspace()
    if not isinstance(data, dict):
        return Workspace()
    opened = [sid for sid in data.get("open") or [] if is_valid_id(sid)]
    opened = list(dict.fromkeys(opened))
    shown = data.get("shown")
    views_raw = data.get("views")
    views = {
        sid: ViewState.from_dict(view)
        for sid, view in (views_raw.items() if isinstance(views_raw, dict) else [])
        if sid in opened
    }
    return Workspace(open=opened, shown=shown if shown in opened else None, views=views)


def save_workspace(root: Path, workspace: Workspace) -> None:
    """Write it atomically. Nothing is written for an empty workspace in a folder not yet made."""
    if not workspace.open and not workspace_path(root).exists():
        return
    ensure_dir(root)
    atomic_write(workspace_path(root), workspace.to_json())
