"""Every hook a plugin can implement. Plugins mark implementations with ``@hookimpl``.

Contribution hooks take a ``register`` callback: the core validates each contribution, rejects
duplicate names and remembers which plugin gave it. Hooks only ever grow new parameters; an
implementation may accept any subset of a hook's parameters. The contributed shapes are the
Protocols of ``prompt_sessions.protocols``.

Every hook is called through pluggy (``PluginHost`` has one typed method per hook), so
``tryfirst``, ``trylast`` and ``wrapper=True`` hold; an implementation that raises is named in a
warning and skipped, and the others still run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from .commands.base import SlashCommand
    from .manager import SessionManager
    from .models import Message, Session
    from .protocols import Exporter, Frontend, Importer, ResponderFactory, StorageFactory, Tool

PROJECT = "prompt_sessions"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------- contributions


@hookspec
def register_storage_backends(register: Callable[[str, StorageFactory], None]) -> None:
    """Add storage backends.

    :param register: call ``register(name, factory)`` with a ``protocols.StorageFactory``:
        ``factory(root: Path, config: StorageConfig)`` returns an object implementing
        ``prompt_sessions.storage.base.StorageBackend`` for the environment folder ``root``;
        ``config`` is the checked ``[storage]`` table of ``config.toml`` and
        ``config.sections[name]`` the backend's own ``[storage.<name>]`` table (checked against
        the factory's ``config_schema`` Struct when it has one).
    """


@hookspec
def register_exporters(register: Callable[[Exporter], None]) -> None:
    """Add export formats.

    :param register: call ``register(exporter)`` with a ``protocols.Exporter``: ``name`` (the format
        name users type), ``extension`` (without a dot), ``media_type`` and
        ``export(session: Session) -> str | bytes``.
    """


@hookspec
def register_importers(register: Callable[[Importer], None]) -> None:
    """Add import formats.

    :param register: call ``register(importer)`` with a ``protocols.Importer``: ``name``,
        ``sniff(data: bytes, filename: str | None) -> bool`` and
        ``load(data: bytes, filename: str | None) -> Iterable[Session | Skipped]`` (one file may
        hold many conversations; ``prompt_sessions.importing.Skipped(where, reason)`` stands for
        one that cannot be read). ``load`` raises ``ImportFormatError`` for input it cannot read
        at all. The core drops a byte order mark before ``sniff`` and ``load`` see the input.
    """


@hookspec
def register_responders(register: Callable[[str, ResponderFactory], None]) -> None:
    """Add responders: what makes a PO answer.

    :param register: call ``register(name, factory)`` with a ``protocols.ResponderFactory``:
        ``factory(options: dict)`` returns a ``prompt_sessions.responders.Responder``
        (``options`` is ``[responders.<name>]`` from ``config.toml`` merged with the PO's front
        matter options). A ``config_schema`` attribute on the factory (a ``msgspec.Struct``
        type) declares what ``[responders.<name>]`` may say; without one it is free-form.
    """


@hookspec
def register_tools(register: Callable[[str, Tool], None]) -> None:
    """Add tools a PO may call when its front matter lists them in ``capabilities``.

    :param register: call ``register(name, function)`` with a plain typed Python function; its
        docstring describes the tool to the model and its annotated parameters become the
        arguments (``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``). A coroutine
        function is awaited; any other runs in a worker thread. What it returns is handed to
        the model as text (non-strings as JSON); what it raises becomes a tool error.
        DESIGN section 11.
    """


@hookspec
def register_frontends(register: Callable[[str, Frontend], None]) -> None:
    """Add user interfaces.

    :param register: call ``register(name, run)``; ``run(context: AppContext) -> None`` runs the
        UI until the user quits. The ``tui`` frontend is the default.
    """


@hookspec
def register_commands(register: Callable[[SlashCommand], None]) -> None:
    """Add slash commands, available in every frontend.

    :param register: call ``register(command)`` with a ``prompt_sessions.commands.SlashCommand``
        (``name``, ``aliases``, ``help``, ``usage`` and ``run(ctx, args) -> str | None``).
    """


@hookspec
def register_cli_commands(cli: click.Group) -> None:
    """Add commands to the ``prompt-sessions`` command line.

    :param cli: the root click group; call ``cli.add_command(...)`` or use ``@cli.command()``.
    """


# ---------------------------------------------------------------- questions


@hookspec(firstresult=True)
def session_title(session: Session, manager: SessionManager) -> str | None:
    """A better name for a session no person named, asked once after its first reply.

    ``firstresult``: the first plugin that returns a name wins; return None to let others
    answer. The answer is cleaned like a name a person types (whitespace collapsed, at most 50
    characters); one that is not a valid name is ignored. A session a person renamed is never
    asked about, and a rename made while the plugin works is kept (DESIGN section 14).

    :param session: the session with its history (its first user message and first reply).
    :param manager: the manager that stores it.
    :returns: the name, or None.
    """


# ---------------------------------------------------------------- attention


@hookspec
def session_attention(session: Session, reason: str, manager: SessionManager) -> None:
    """A session the person is not looking at needs them (DESIGN section 15, "Attention"): its
    reply finished, failed, or asks for input. Called once per such event, by the TUI, from a
    worker thread (a slow notifier never freezes the screen); never for the session on screen.

    :param session: the session as the frontend holds it, its new reply last.
    :param reason: ``"finished"``, ``"failed"`` or ``"waiting"`` (the reply asks for input).
    :param manager: the manager of the environment.
    """


# ---------------------------------------------------------------- events (after the fact)


@hookspec
def session_created(session: Session, manager: SessionManager) -> None:
    """A session was created (new, duplicated, forked or imported).

    :param session: the new session as written.
    :param manager: the manager that wrote it.
    """


@hookspec
def session_renamed(session: Session, old_name: str, manager: SessionManager) -> None:
    """A session got a new name.

    :param session: the session after the rename.
    :param old_name: its previous name.
    :param manager: the manager that wrote it.
    """


@hookspec
def session_deleted(session_id: str, po_name: str, manager: SessionManager) -> None:
    """A session was deleted.

    :param session_id: the id it had.
    :param po_name: the PO it belonged to.
    :param manager: the manager that deleted it.
    """


@hookspec
def message_appended(session_id: str, message: Message, manager: SessionManager) -> None:
    """A message was durably appended.

    :param session_id: the session it went to.
    :param message: the message as stored.
    :param manager: the manager that wrote it.
    """


@hookspec
def session_switched(po_name: str, session_id: str, manager: SessionManager) -> None:
    """A PO's current session changed.

    :param po_name: the PO.
    :param session_id: its new current session.
    :param manager: the manager that recorded it.
    """
