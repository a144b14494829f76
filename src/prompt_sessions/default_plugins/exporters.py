"""Built-in exporters: ``json`` (full fidelity, re-importable) and ``markdown``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..models import Session
    from ..protocols import Exporter


class JsonExporter:
    name = "json"
    extension = "json"
    media_type = "application/json"

    def export(self, session: Session) -> str:
        import msgspec

        from ..storage.session_codec import encode_session

        return msgspec.json.format(encode_session(session).decode("utf-8"), indent=2) + "\n"


class MarkdownExporter:
    name = "markdown"
    extension = "md"
    media_type = "text/markdown"

    def export(self, session: Session) -> str:
        # The writing loads on the first export: `list` and the like never pay for it.
        from .markdown_export import export_markdown

        return export_markdown(session)


@hookimpl
def register_exporters(register: Callable[[Exporter], None]) -> None:
    register(JsonExporter())
    register(MarkdownExporter())
