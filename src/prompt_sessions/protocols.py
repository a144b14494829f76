"""The shapes of what plugins contribute, in one place, so mypy checks plugins against them.

The ``register`` callback of each contribution hook (``hookspecs``) is typed with these; the plugin
host hands them back typed (``PluginHost.exporter(name) -> Exporter`` and so on). Slash commands
are ``prompt_sessions.commands.SlashCommand`` objects. DESIGN section 7.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .config_schema import StorageConfig
    from .context import AppContext
    from .importing import Skipped
    from .models import Session
    from .responders import Responder
    from .storage.base import StorageBackend

__all__ = [
    "Exporter",
    "Frontend",
    "Importer",
    "ResponderFactory",
    "StorageFactory",
    "Tool",
]


@runtime_checkable
class Exporter(Protocol):
    """An export format (``register_exporters``)."""

    name: str  # the format name users type (``--format NAME``)
    extension: str  # file extension, without a dot
    media_type: str

    def export(self, session: Session) -> str | bytes:
        """The whole session in this format.

        Args:
            session: the session, with its full history.

        Returns:
            Text or bytes, written to the file as they are.
        """
        ...


@runtime_checkable
class Importer(Protocol):
    """An import format (``register_importers``)."""

    name: str
    # Optional: ``typed = True`` says ``load`` builds sessions only from values its decoder
    # checked as it read them, so the import spares them the check through JSON and back.

    def sniff(self, data: bytes, filename: str | None) -> bool:
        """Whether ``data`` looks like this format; must not raise on other input."""
        ...

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        """Every conversation ``data`` holds (one file may hold many); an entry it cannot read
        may be given as ``Skipped(where, reason)`` so the others still import (DESIGN 16).

        Raises:
            ImportFormatError: input this importer cannot read.
        """
        ...


class ResponderFactory(Protocol):
    """Builds a responder (``register_responders``).

    ``options`` is ``[responders.<name>]`` of config.toml merged with the PO's front matter
    options. A factory may declare ``config_schema``, a ``msgspec.Struct`` type its table is
    checked against when config.toml is read (``config_schema.EchoOptions`` is an example).
    """

    def __call__(self, options: dict[str, Any]) -> Responder: ...


class StorageFactory(Protocol):
    """Builds a storage backend for an environment folder (``register_storage_backends``).

    ``config`` is the checked ``[storage]`` table; a backend's own sub-table
    (``[storage.<name>]``) is ``config.sections[name]``, converted to the factory's
    ``config_schema`` when it declares one.
    """

    def __call__(self, root: Path, config: StorageConfig) -> StorageBackend: ...


class Frontend(Protocol):
    """Runs a user interface until the user quits (``register_frontends``)."""

    def __call__(self, context: AppContext) -> None: ...


#: A tool a PO may call (``register_tools``): a plain typed function with a docstring, whose
#: parameters and docstring describe it to the model (DESIGN section 11).
Tool = Callable[..., Any]
