"""search and send."""

from __future__ import annotations

import sys

import click

from .output import print_json, when
from .state import CliState

pass_state = click.make_pass_decorator(CliState)


@click.command()
@click.argument("query")
@click.option("--po", help="Only search this PO's sessions.")
@click.option("--json", "as_json", is_flag=True, help="Print an array of hits.")
@pass_state
def search(state: CliState, query: str, po: str | None, as_json: bool) -> None:
    """Find sessions whose name or messages contain QUERY (case-insensitive)."""
    hits = state.manager.search(query, po)
    if as_json:
        print_json([hit.to_json() for hit in hits])
        return
    if not hits:
        click.echo("No matches.")
        return
    for hit in hits:
        where = "name" if hit.message_index is None else f"message {hit.message_index + 1}"
        click.echo(
            f"{hit.session.id[:8]}  {hit.session.po_name}: {hit.session.name}  ({where}, {when(hit.session.updated_at)})"
        )
        click.echo(f"    {hit.snippet}")


@click.command()
@click.argument("po")
@click.argument("message")
@click.option("--session", "ref", help="Session to talk in (default: the PO's current session).")
@pass_state
def send(state: CliState, po: str, message: str, ref: str | None) -> None:
    """Add MESSAGE to a session of PO, run the PO's responder and print the reply as it streams."""
    import asyncio

    from ..models import Message
    from ..reply import run_reply

    ctx = state.app_context()
    mgr = ctx.manager
    if ref is not None:  # an empty --session is a bad ref, not "the current session"
        target = mgr.get(mgr.resolve(po, ref).id)
    else:
        target = mgr.current(po, source="cli")
    if not message.strip():
        raise click.UsageError("MESSAGE is empty")
    mgr.append(target.id, Message(role="user", content=message, source="cli"))

    def on_chunk(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    asyncio.run(run_reply(ctx, target.id, on_chunk=on_chunk))
    sys.stdout.write("\n")
