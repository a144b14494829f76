"""prompt-sessions-upper: export a session as plain text, in capital letters."""

from __future__ import annotations

from collections.abc import Callable

import prompt_sessions
from prompt_sessions.protocols import Exporter


class UpperExporter:
    name = "upper"  # what users type: prompt-sessions export REF --format upper
    extension = "txt"
    media_type = "text/plain"

    def export(self, session: prompt_sessions.Session) -> str:
        lines = [session.name.upper(), ""]
        for message in session.history:
            lines.append(f"{message.role.upper()}: {message.content.upper()}")
        return "\n".join(lines) + "\n"


@prompt_sessions.hookimpl
def register_exporters(register: Callable[[Exporter], None]) -> None:
    register(UpperExporter())  # mypy checks UpperExporter against the Exporter Protocol
