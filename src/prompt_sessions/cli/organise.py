"""Organising commands (DESIGN section 14): trash, restore, pin, tag."""

from __future__ import annotations

from typing import Any

import click
import msgspec

from ..cells import cell_len, pad
from ..storage.base import TrashedSession
from ..text import counted, quoted, visible
from .output import TEXT, print_json, when
from .state import CliState

pass_state = click.make_pass_decorator(CliState)


def trashed_json(entry: TrashedSession) -> dict[str, Any]:
    """A trashed session as JSON: its summary plus ``deleted_at``."""
    return {**msgspec.to_builtins(entry.summary), "deleted_at": entry.deleted_at}


def _print_trash(entries: list[TrashedSession]) -> None:
    if not entries:
        click.echo("The trash is empty.")
        return
    names = [visible(e.summary.name, one_line=True) for e in entries]
    pos = [visible(e.summary.po_name, one_line=True) for e in entries]
    name_width = min(40, max(4, *(cell_len(n) for n in names)))
    po_width = min(20, max(2, *(cell_len(p) for p in pos)))
    click.echo(f"{'ID':8}  {'NAME':{name_width}}  {'PO':{po_width}}  {'MSGS':>4}  DELETED")
    for entry, name, po in zip(entries, names, pos, strict=True):
        s = entry.summary
        click.echo(
            f"{s.id[:8]}  {pad(name, name_width)}  {pad(po, po_width)}  "
            f"{s.message_count:>4}  {when(entry.deleted_at)}"
        )


@click.command()
@click.option("--empty", "empty", is_flag=True, help="Delete trashed sessions for good.")
@click.option(
    "--older-than",
    "days",
    type=click.FloatRange(min=0),
    metavar="DAYS",
    help="With --empty: only sessions deleted more than DAYS days ago.",
)
@click.option("--yes", "-y", is_flag=True, help="With --empty: really delete (else only list).")
@click.option("--json", "as_json", is_flag=True, help="Print an array of trashed sessions.")
@pass_state
def trash(state: CliState, empty: bool, days: float | None, yes: bool, as_json: bool) -> None:
    """List the trash; with --empty --yes, delete what it holds for good."""
    from ..organise import trash as trash_rules

    if days is not None and not empty:
        raise click.UsageError("--older-than needs --empty")
    mgr = state.manager
    if not empty:
        found = mgr.trashed()
        if as_json:
            print_json([trashed_json(e) for e in found])
        else:
            _print_trash(found)
        return
    if not yes:
        # Nothing leaves the trash without a person asking (DESIGN section 4, promise 5).
        chosen = trash_rules.older_than(mgr.trashed(), days)
        if as_json:
            print_json([trashed_json(e) for e in chosen])
            return
        _print_trash(chosen)
        if chosen:
            click.echo(f"Add --yes to delete {counted(len(chosen), 'session')} for good.")
        return
    gone = mgr.empty_trash(days)
    if as_json:
        print_json([trashed_json(e) for e in gone])
    else:
        click.echo(f"Deleted {counted(len(gone), 'session')} for good.")


@click.command()
@click.argument("ref", type=TEXT)
@click.option("--json", "as_json", is_flag=True, help="Print the restored session's summary.")
@pass_state
def restore(state: CliState, ref: str, as_json: bool) -> None:
    """Bring a session back from the trash, exactly as it was deleted."""
    entry = state.manager.restore(ref)
    if as_json:
        print_json(msgspec.to_builtins(entry.summary))
    else:
        click.echo(f"Restored {quoted(entry.summary.name)} ({entry.summary.id})")


po_option = click.option("--po", help="Only look among this PO's sessions.")


@click.command()
@click.argument("ref", type=TEXT)
@po_option
@click.option("--undo", is_flag=True, help="Unpin the session.")
@click.option("--json", "as_json", is_flag=True, help="Print the session's summary.")
@pass_state
def pin(state: CliState, ref: str, po: str | None, undo: bool, as_json: bool) -> None:
    """Pin a session: pinned sessions come first in lists and the picker."""
    mgr = state.manager
    target = mgr.resolve(po, ref)
    session = mgr.pin(target.id, pinned=not undo) if target.pinned == undo else None
    if as_json:
        print_json(msgspec.to_builtins(session.summary() if session else target))
    elif session is None:  # nothing to change: say so rather than claim it was done
        click.echo(f"{quoted(target.name)} is {'not pinned' if undo else 'already pinned'}")
    else:
        click.echo(f"{'Unpinned' if undo else 'Pinned'} {quoted(target.name)}")


@click.command()
@click.argument("ref", type=TEXT)
@click.argument("tags", nargs=-1, required=True, type=TEXT)
@po_option
@click.option("--remove", is_flag=True, help="Take these tags off instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the session's summary.")
@pass_state
def tag(
    state: CliState, ref: str, tags: tuple[str, ...], po: str | None, remove: bool, as_json: bool
) -> None:
    """Add tags to a session (one word each), or take them off with --remove."""
    mgr = state.manager
    target = mgr.resolve(po, ref)
    session = mgr.tag(target.id, remove=tags) if remove else mgr.tag(target.id, add=tags)
    if as_json:
        print_json(msgspec.to_builtins(session.summary()))
        return
    shown = " ".join(f"#{visible(t, one_line=True)}" for t in session.tags or ()) or "no tags"
    click.echo(f"{quoted(session.name)}: {shown}")
