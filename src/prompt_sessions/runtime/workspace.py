"""Which sessions were open, which was shown, and each one's view: ``<env>/workspace.json``.

A small file of its own rather than session metadata: view state changes with every scroll and
belongs to this machine's frontend, so writing it into session files would churn the truth,
wake every other process's watcher and travel with exports. It is written atomically (a crash
leaves the old or the new file) and read leniently: unknown or damaged entries are skipped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..ids import is_valid_id
from ..storage.files import atomic_write, ensure_dir, read_bytes
from .view_state import ViewState

if TYPE_CHECKING:
    from .coordinator import Coordinator
    from .live_session import LiveSession

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


class WorkspaceSaver:
    """Saves the workspace off the event loop, coalescing bursts; at most one write in flight."""

    def __init__(
        self,
        root: Path,
        snapshot: Callable[[], Workspace],
        warn: Callable[[str], None],
        *,
        enabled: bool = True,
    ) -> None:
        self.root = root
        self.enabled = enabled
        self.snapshot = snapshot
        self.warn = warn
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def save_now(self) -> None:
        if not self.enabled:
            return
        try:
            save_workspace(self.root, self.snapshot())
        except Exception as exc:  # losing view state must never take a session down
            self.warn(f"could not save the open sessions: {exc}")

    def save_soon(self) -> None:
        if not self.enabled:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script): just write it
            self.save_now()
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._save_in_background())

    async def drain(self) -> None:
        """Wait for a save in flight."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _save_in_background(self) -> None:
        while True:
            self._again = False
            await asyncio.sleep(0)  # let a burst of opens and shows finish first
            snapshot = self.snapshot()
            try:
                await asyncio.to_thread(save_workspace, self.root, snapshot)
            except Exception as exc:
                self.warn(f"could not save the open sessions: {exc}")
            if not self._again:
                return


def reopen(coord: Coordinator, saved: Workspace) -> LiveSession | None:
    """Open the sessions of ``saved`` in ``coord`` with their views; returns the shown one.

    Sessions deleted or damaged since are skipped with a warning (``coord.warn``).
    """
    for sid in saved.open:
        try:
            live = coord.open(sid)
        except Exception as exc:
            coord.warn(f"session {sid[:8]} could not be reopened: {exc}")
            continue
        if sid in saved.views:
            live.view = saved.views[sid]
    if saved.shown is not None and coord.get(saved.shown) is not None:
        return coord.show(saved.shown)
    return None
