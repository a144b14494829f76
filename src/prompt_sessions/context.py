"""What a frontend gets: the open manager, the plugin host, the folder and its prompt objects."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .manager import SessionManager
from .objects import (
    ObjectsStamp,
    PromptObject,
    PromptObjectError,
    bare,
    gather,
    objects_stamp,
    read_po_file,
)
from .plugins import PluginHost

# A file changed this close to the moment it was read may change again without its stamp
# changing (file times tick coarsely: a few ms, 2 s on some file systems): it is read again
# at the next use until it is older than this, as git treats a "racily clean" file.
RACY_NS = 2_000_000_000

PoFileStamp = tuple[str, int, int, int]


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
    # file name -> (its stamp when read, its PO / why it cannot be used / None: gone)
    _po_files: dict[str, tuple[PoFileStamp, PromptObject | str | None]] = field(
        default_factory=dict
    )
    # One refresh at a time: frontends look up POs from worker threads too.
    _objects_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, path: str | Path | None = None, *, host: PluginHost | None = None) -> AppContext:
        manager = SessionManager.open(path, host=host)
        return cls(manager=manager, host=manager.host, root=manager.root, config=manager.config)

    @property
    def objects(self) -> dict[str, PromptObject]:
        """The environment's POs from ``objects/*.md``, read again when a file there was added,
        removed or edited since (a frontend that runs for hours picks up an edited prompt at
        the next reply). Only the files that changed are read; a file that cannot be read is
        warned about once. Costs one listing and a stat per file while nothing changes."""
        with self._objects_lock:
            stamp = objects_stamp(self.root)
            if self._objects is None or stamp != self._objects_stamp:
                self._objects, racy = self._read_objects(stamp)
                self._objects_stamp = None if racy else stamp
            return self._objects

    def _read_objects(self, stamp: ObjectsStamp) -> tuple[dict[str, PromptObject], bool]:
        """The POs of the files in ``stamp``, reading those whose stamp changed, and whether
        one of them is racy (changed too near its reading to trust its stamp)."""
        started = time.time_ns()
        folder = self.root / "objects"
        kept: dict[str, tuple[PoFileStamp, PromptObject | str | None]] = {}
        racy = False
        for entry in stamp:
            name, mtime_ns = entry[0], entry[3]
            old = self._po_files.get(name)
            if old is None or old[0] != entry or mtime_ns >= started - RACY_NS:
                try:
                    item: PromptObject | str | None = read_po_file(folder / name)
                except PromptObjectError as exc:
                    item = str(exc)
                old = (entry, item)
            racy = racy or mtime_ns >= started - RACY_NS
            kept[name] = old
        self._po_files = kept
        read = {name: item for name, (_, item) in kept.items() if item is not None}
        problems: dict[str, str] = {}
        found = gather(read, self._warn_once, problems)
        self._po_problems = problems
        return found, racy or len(read) < len(kept)

    def po_file_problem(self, name: str) -> str | None:
        """Why ``objects/<name>.md`` is not read (a YAML mistake, a refused file), as one line
        naming the file; None when it is read or there is no such file. Such a PO must not
        answer as a bare PO: its prompt and settings would be silently ignored."""
        with self._objects_lock:
            if name in self.objects:
                return None
            return self._po_problems.get(f"{name}.md")

    def po_file_problems(self, read_again: bool = True) -> dict[str, str]:
        """The PO files that are not read: the PO each would be (its file name) -> one line
        naming the file and what is wrong, for ``doctor`` and the MCP server's PO list.
        ``read_again=False``: as the last reading of ``objects/`` found them (a caller that
        has just read :attr:`objects` spares a second listing)."""
        with self._objects_lock:
            if read_again:
                self.objects  # noqa: B018 - read again if a file changed
            problems = self._po_problems
        return {key.removesuffix(".md"): problems[key] for key in sorted(problems)}

    def po_for_reply(self, name: str) -> PromptObject:
        """PO ``name`` as a reply must use it: its file's PO, or a bare PO when it has no file.
        One reading of ``objects/`` gives both the check and the PO, so a file broken between
        a check and the reply can never make the PO answer without its prompt.

        Raises:
            PromptObjectError: ``objects/<name>.md`` (or two files naming ``name``) cannot be
                used; the line names the file and says why.
        """
        with self._objects_lock:  # the POs and their problems from one reading
            objects = self.objects
            if name in objects:
                return objects[name]
            problem = self._po_problems.get(f"{name}.md")
        if problem is not None:
            raise PromptObjectError(problem)
        return bare(name)

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
