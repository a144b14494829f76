"""What a frontend gets: the open manager, the plugin host, the folder and its prompt objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .manager import SessionManager
from .objects import ObjectsStamp, PromptObject, bare, load_prompt_objects, objects_stamp
from .plugins import PluginHost


@dataclass
class AppContext:
    manager: SessionManager
    host: PluginHost
    root: Path
    config: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _objects: dict[str, PromptObject] | None = None
    _objects_stamp: ObjectsStamp | None = None
    _po_problems: dict[str, str] = field(default_factory=dict)  # file name -> why not read

    @classmethod
    def open(cls, path: str | Path | None = None, *, host: PluginHost | None = None) -> AppContext:
        manager = SessionManager.open(path, host=host)
        return cls(manager=manager, host=manager.host, root=manager.root, config=manager.config)

    @property
    def objects(self) -> dict[str, PromptObject]:
        """The environment's POs from ``objects/*.md``, read again when a file there was added,
        removed or edited since (a frontend that runs for hours picks up an edited prompt at
        the next reply). A file that cannot be read is warned about once."""
        stamp = objects_stamp(self.root)
        if self._objects is None or stamp != self._objects_stamp:
            problems: dict[str, str] = {}
            self._objects = load_prompt_objects(self.root, self._warn_once, problems)
            self._objects_stamp, self._po_problems = stamp, problems
        return self._objects

    def po_file_problem(self, name: str) -> str | None:
        """Why ``objects/<name>.md`` is not read (a YAML mistake, a refused file), as one line
        naming the file; None when it is read or there is no such file. Such a PO must not
        answer as a bare PO: its prompt and settings would be silently ignored."""
        if name in self.objects:
            return None
        return self._po_problems.get(f"{name}.md")

    def po_file_problems(self) -> dict[str, str]:
        """The PO files that are not read: the PO each would be (its file name) -> one line
        naming the file and what is wrong, for ``doctor`` and the MCP server's PO list."""
        self.objects  # noqa: B018 - read again if a file changed
        return {
            key.removesuffix(".md"): self._po_problems[key] for key in sorted(self._po_problems)
        }

    def _warn_once(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

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
