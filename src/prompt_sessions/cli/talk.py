"""search and send."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from .output import print_json, when
from .state import CliState

pass_state = click.make_pass_decorator(CliState)


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--po", help="Only search this PO's sessions.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show at most N hits.",
)
@click.option("--json", "as_json", is_flag=True, help="Print an array of hits.")
@pass_state
def search(
    state: CliState, query: tuple[str, ...], po: str | None, limit: int, as_json: bool
) -> None:
    """Find messages and session names matching QUERY, best first.

    Every word must match, as a whole word, in any order; case and accents are ignored.
    Also: "exact phrase", -word, prefix*, po:NAME, role:user|assistant|tool, tag:TAG,
    is:archived|pinned|fork|delegation, after:YYYY-MM-DD, before:YYYY-MM-DD, in:name.
    Put -word after -- (or quote the whole query) so it is not read as an option.
    """
    with _progress_bar() as progress:
        hits = state.manager.search(" ".join(query), po, limit=limit, progress=progress)
    if as_json:
        print_json([hit.to_json() for hit in hits])
        return
    if not hits:
        click.echo("No matches.")
        return
    for hit in hits:
        where = "name" if hit.message_index is None else f"message {hit.message_index + 1}"
        mark = ", archived" if hit.session.archived else ""
        click.echo(
            f"{hit.session.id[:8]}  {hit.session.po_name}: {hit.session.name}  "
            f"({where}, {when(hit.session.updated_at)}{mark})"
        )
        click.echo(f"    {hit.snippet}")


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr while the search index catches up, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(
                length=total, label="Indexing sessions", file=sys.stderr
            ).__enter__()
        bar.update(done - bar.pos)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


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
        target = mgr.current(po)
    if not message.strip():
        raise click.UsageError("MESSAGE is empty")
    mgr.append(target.id, Message(role="user", content=message, source="cli"))

    def on_chunk(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    asyncio.run(run_reply(ctx, target.id, on_chunk=on_chunk))
    sys.stdout.write("\n")
