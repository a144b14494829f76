"""One responder instance per (responder, options), shared by the sessions that use it.

Sharing keeps a real responder's client and connection pool to one per configuration, and lets
a responder keep state across retries (echo's ``fail_times`` counts its calls).
"""

from __future__ import annotations

import json
from typing import Any

from ..config import section
from ..context import AppContext
from ..errors import SettingError
from ..objects import PromptObject, PromptObjectError


class ResponderPool:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._instances: dict[tuple[str, str], Any] = {}
        self._pinned: dict[str, Any] = {}

    def pin(self, po_name: str, responder: Any) -> None:
        """Use ``responder`` for this PO from now on (a caller that brings its own)."""
        self._pinned[po_name] = responder

    def for_po(self, po_name: str) -> tuple[Any, dict[str, Any]]:
        """The responder for a PO and the options it was built with.

        Raises:
            UnknownFormat: no responder of the name the PO or the config gives.
            SettingError: a setting the responder refuses, naming the file it was read from.
            PromptObjectError: the PO's file exists but cannot be read (it would otherwise
                answer as a bare PO, its prompt silently ignored).
        """
        if po_name in self._pinned:
            return self._pinned[po_name], {}
        try:
            po = self.ctx.po_for_reply(po_name)
        except PromptObjectError as exc:
            raise PromptObjectError(f"{exc}; fix the file, then send again") from None
        name = self.ctx.responder_name(po)
        options = {**section(self.ctx.config, "responders", name), **po.options}
        key = (name, json.dumps(options, sort_keys=True, default=repr))
        if key not in self._instances:
            try:
                self._instances[key] = self.ctx.host.responder_factory(name)(options)
            except SettingError as exc:
                raise exc.placed(self._place_of(exc.setting, name, po)) from None
        return self._instances[key], options

    def _place_of(self, setting: str, responder: str, po: PromptObject) -> str:
        """Where a responder setting was read: the PO's front matter wins over config.toml."""
        if setting in po.options and po.path is not None:
            try:
                shown = po.path.relative_to(self.ctx.root).as_posix()
            except ValueError:  # a PO file outside the environment
                shown = str(po.path)
            return f"{shown} front matter"
        return f"config.toml [responders.{responder}]"
