"""Opening a UI: the TUI when no command is given, ``serve --mcp`` and ``web``.

Each runs a frontend found through the plugin host (``register_frontends``), so a plugin's
frontend and a built-in one are started the same way.
"""

from __future__ import annotations

import click

from ..config import section
from ..errors import UnknownFormat
from .state import CliState

pass_state = click.make_pass_decorator(CliState)


def run_frontend(state: CliState, name: str | None = None, **options: object) -> None:
    ctx = state.app_context()
    chosen = name or str(section(ctx.config, "ui").get("frontend", "tui"))
    frontends = ctx.host.frontends()
    if chosen not in frontends:
        raise UnknownFormat(chosen, frontends, kind="frontend")
    frontends[chosen].value(ctx, **options)


@click.command()
@click.option(
    "--mcp", "use_mcp", is_flag=True, help="Serve the Model Context Protocol on stdin/stdout."
)
@pass_state
def serve(state: CliState, use_mcp: bool) -> None:
    """Serve the sessions to other programs: --mcp runs an MCP server over stdio."""
    if not use_mcp:
        raise click.UsageError("say what to serve: --mcp")
    from ..frontends.stdio import stdout_to_stderr

    # Opening the environment loads plugins, which might print: stdout is the protocol's.
    with stdout_to_stderr():
        ctx = state.app_context()
        frontends = ctx.host.frontends()
    if "mcp" not in frontends:
        raise UnknownFormat("mcp", frontends, kind="frontend")
    _note_missing_environment(ctx.root)
    frontends["mcp"].value(ctx)


def _note_missing_environment(root: object) -> None:
    """A server started on a folder that does not exist (a mistyped path in a client's
    configuration) serves an empty environment: said once on stderr, which the protocol
    leaves free, so the mistake shows in the client's log."""
    from pathlib import Path

    if not Path(str(root)).is_dir():
        click.echo(
            f"Note: {root} does not exist yet: no PO files, no sessions; "
            "it is made on the first write",
            err=True,
        )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--public",
    is_flag=True,
    help="Allow a non-loopback --host; requests then need the access token printed at start.",
)
@pass_state
def web(state: CliState, host: str, port: int, public: bool) -> None:
    """Open the TUI in a browser: serve it over HTTP (loopback only unless --public)."""
    _note_missing_environment(state.manager.root)  # run_frontend builds the context
    run_frontend(state, "web", host=host, port=port, public=public)
