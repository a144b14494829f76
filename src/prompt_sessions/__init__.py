"""prompt-sessions: named, persistent conversation sessions for Prompt Objects."""

__version__ = "0.1.0"

__all__ = [
    "Message",
    "Session",
    "SessionManager",
    "SessionSummary",
    "Usage",
    "hookimpl",
    "__version__",
]

TYPE_CHECKING = False  # not typing's: importing typing costs the console script 10 ms
if TYPE_CHECKING:
    from typing import Any

    from .hookspecs import hookimpl
    from .manager import SessionManager
    from .models import Message, Session, SessionSummary, Usage

# Each name loads on first use: importing the package runs nothing, so the console script
# holds Ctrl-C (``interrupts``) before any real import, and a command pays only for its own.
_LAZY = {
    "hookimpl": "hookspecs",
    "Message": "models",
    "Session": "models",
    "SessionSummary": "models",
    "Usage": "models",
    "SessionManager": "manager",
}


def __getattr__(name: str) -> "Any":
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # found once: later lookups skip this function
    return value
