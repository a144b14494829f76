"""One responder instance per (responder, options), shared by the sessions that use it.

Sharing keeps a real responder's client and connection pool to one per configuration, and lets
a responder keep state across retries (echo's ``fail_times`` counts its calls).
"""

from __future__ import annotations

import json
from typing import Any

from ..config import section
from ..context import AppContext


class ResponderPool:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._instances: dict[tuple[str, str], Any] = {}

    def for_po(self, po_name: str) -> tuple[Any, dict[str, Any]]:
        """The responder for a PO and the options it was built with. UnknownFormat if none."""
        po = self.ctx.prompt_object(po_name)
        name = self.ctx.responder_name(po)
        options = {**section(self.ctx.config, "responders", name), **po.options}
        key = (name, json.dumps(options, sort_keys=True, default=repr))
        if key not in self._instances:
            self._instances[key] = self.ctx.host.responder_factory(name)(options)
        return self._instances[key], options
