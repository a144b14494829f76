"""prompt-sessions-html: export a session as one self-contained, escaped HTML page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import prompt_sessions

from .page import render_page

__all__ = ["HtmlExporter", "register_exporters"]


class HtmlExporter:
    name = "html"  # prompt-sessions export REF --format html
    extension = "html"
    media_type = "text/html"

    def export(self, session: prompt_sessions.Session) -> str:
        return render_page(session)


@prompt_sessions.hookimpl
def register_exporters(register: Callable[[Any], None]) -> None:
    register(HtmlExporter())
