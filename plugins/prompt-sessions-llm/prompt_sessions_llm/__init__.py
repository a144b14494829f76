"""The ``llm`` responder: POs answer through simonw's ``llm`` library (DESIGN section 11).

Importing this module is cheap: ``llm`` itself is imported the first time a PO answers, so
commands such as ``prompt-sessions list`` never pay for it.
"""

from __future__ import annotations

from prompt_sessions import hookimpl

from .responder import LlmResponder

__all__ = ["LlmResponder"]


@hookimpl
def register_responders(register):  # type: ignore[no-untyped-def]
    register("llm", LlmResponder)
