"""What a frontend gets: the open manager, the plugin host, the folder and its prompt objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .manager import SessionManager
from .objects import PromptObject, bare, load_prompt_objects
from .plugins import PluginHost


@dataclass
class AppContext:
    manager: SessionManager
    host: PluginHost
    root: Path
    config: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _objects: dict[str, PromptObject] | None = None

    @classmethod
    def open(cls, path: str | Path | None = None, *, host: PluginHost | None = None) -> AppContext:
        manager = SessionManager.open(path, host=host)
        return cls(manager=manager, host=manager.host, root=manager.root, config=manager.config)

    @property
    def objects(self) -> dict[str, PromptObject]:
        """The environment's POs from ``objects/*.md`` (read once)."""
        if self._objects is None:
            self._objects = load_prompt_objects(self.root, warn=self.warnings.append)
        return self._objects

    def prompt_object(self, name: str) -> PromptObject:
        return self.objects.get(name) or bare(name)

    def po_names(self) -> list[str]:
        """POs with a file, then POs that only have sessions."""
        names = list(self.objects)
        for summary in self.manager.list():
            if summary.po_name not in names:
                names.append(summary.po_name)
        return names

    def responder_name(self, po: PromptObject) -> str:
        return po.responder or str(self.config.get("responder", "echo"))
