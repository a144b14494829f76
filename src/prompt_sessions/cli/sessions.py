"""Session commands: new, list, show, rename, delete, duplicate, fork, archive."""

from __future__ import annotations

import click
import msgspec

from ..models import Session
from ..text import counted, quoted, visible
from .output import (
    TEXT,
    print_json,
    print_json_chunks,
    print_table,
    summary_json,
    warn_problems,
    when,
)
from .state import CliState

pass_state = click.make_pass_decorator(CliState)
po_option = click.option("--po", help="Only look among this PO's sessions.")


@click.command()
@click.argument("po", type=TEXT)
@click.option("--name", type=TEXT, help='Session name (default "New Session").')
@click.option("--json", "as_json", is_flag=True, help="Print the new session's summary as JSON.")
@pass_state
def new(state: CliState, po: str, name: str | None, as_json: bool) -> None:
    """Create a session for PO and make it the PO's current one."""
    from .name_note import note_name_clash
    from .po_note import note_unknown_po

    mgr = state.manager
    note_unknown_po(mgr, po)
    session = mgr.create(po, name, source="cli")
    mgr.switch(session.po_name, session.id)
    if name is not None:
        note_name_clash(mgr, session)
    if as_json:
        print_json(summary_json(session.summary()))
    else:
        po = visible(session.po_name, one_line=True)
        click.echo(f"Created {quoted(session.name)} ({session.id}) for {po}")


@click.command("list")
@po_option
@click.option("--all", "show_all", is_flag=True, help="Include archived sessions.")
@click.option("--pinned", is_flag=True, help="Only pinned sessions.")
@click.option("--tag", "tags", multiple=True, type=TEXT, help="Only sessions with this tag.")
@click.option(
    "--orphaned", "orphaned_only", is_flag=True, help="Only sessions whose PO file is gone."
)
@click.option("--json", "as_json", is_flag=True, help="Print an array of summaries.")
@pass_state
def list_(
    state: CliState,
    po: str | None,
    show_all: bool,
    pinned: bool,
    tags: tuple[str, ...],
    orphaned_only: bool,
    as_json: bool,
) -> None:
    """List sessions, pinned first, then most recently updated first."""
    from ..organise.between_pos import orphaned
    from ..organise.labels import has_tag, pinned_first

    mgr = state.manager
    mgr.recheck()  # a file edited in place moves no folder time: what is shown must be true
    every = mgr.list(po)  # archived ones too: the current session is chosen among them
    found = every if show_all else [s for s in every if not s.archived]
    warn_problems(mgr.problems())
    found = pinned_first(
        s for s in found if (s.pinned or not pinned) and all(has_tag(s, t) for t in tags)
    )
    orphans = orphaned(mgr, found)
    if orphaned_only:
        found = [s for s in found if s.id in orphans]
    if as_json:
        # An orphaned session (its PO file is gone) says so; the others are plain summaries.
        print_json([{**summary_json(s), "orphaned": True} if s.id in orphans else s for s in found])
        return
    from ..current_session import current_ids

    # The session `send` would use: the chosen one, else the PO's most recent (a deleted
    # current session leaves no choice behind).
    print_table(found, current_ids(mgr, every), orphans)


def session_json(session: Session) -> dict:
    """The session exactly in its file's shape (history and metadata included even when empty)."""
    from ..storage.session_codec import encode_session

    return msgspec.json.decode(encode_session(session))


@click.command()
@click.argument("ref")
@po_option
@click.option("--json", "as_json", is_flag=True, help="Print the session in its file's shape.")
@pass_state
def show(state: CliState, ref: str, po: str | None, as_json: bool) -> None:
    """Show a session and its messages."""
    mgr = state.manager
    session = mgr.get(mgr.resolve(po, ref).id)
    if as_json:
        # The file's own layout, written out piece by piece as it is encoded: a dict, or the
        # whole encoding, would hold a long session twice more (DESIGN section 10, memory).
        from ..storage.session_codec import session_chunks

        print_json_chunks(session_chunks(session))
        return
    from .. import tool_calls

    # Stored text is shown with its control characters visible: it never drives the terminal.
    click.echo(f"{visible(session.po_name, one_line=True)}: {visible(session.name, one_line=True)}")
    click.echo(
        f"id {session.id} · {counted(len(session.history), 'message')} · "
        f"created {when(session.created_at)} · updated {when(session.updated_at)}"
    )
    for message in session.history:
        speaker = (
            "you"
            if message.role == "user"
            else (
                message.from_po or session.po_name if message.role == "assistant" else message.role
            )
        )
        flag = " (incomplete)" if message.incomplete else ""
        click.echo("")
        click.secho(
            f"{visible(speaker, one_line=True)} · {when(message.created_at)}{flag}", bold=True
        )
        if message.content or not (message.tool_calls or message.tool_results):
            click.echo(visible(message.content))
        for call in message.tool_calls or []:
            click.echo(visible(tool_calls.call_line(call), one_line=True))
        if message.tool_results and not tool_calls.repeats_results(message):
            for result in message.tool_results:
                click.echo(visible(tool_calls.result_line(result), one_line=True))


@click.command()
@click.argument("ref")
@click.argument("new_name", type=TEXT)
@po_option
@pass_state
def rename(state: CliState, ref: str, new_name: str, po: str | None) -> None:
    """Rename a session."""
    from .name_note import note_name_clash

    mgr = state.manager
    target = mgr.resolve(po, ref)
    session = mgr.rename(target.id, new_name)
    click.echo(f"Renamed {quoted(target.name)} to {quoted(session.name)}")
    note_name_clash(mgr, session)


@click.command()
@click.argument("ref")
@po_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def delete(state: CliState, ref: str, po: str | None, yes: bool) -> None:
    """Move a session to the trash (asks first); `restore` brings it back."""
    mgr = state.manager
    target = mgr.resolve(po, ref)
    if not yes:
        click.confirm(
            f"Delete {quoted(target.name)} ({visible(target.po_name, one_line=True)}, "
            f"{counted(target.message_count, 'message')})?",
            abort=True,
        )
    mgr.delete(target.id)
    from ..organise.trash import undo_hint

    click.echo(f"Deleted {quoted(target.name)}{undo_hint(mgr, target.id)}")


@click.command()
@click.argument("ref")
@click.option("--name", type=TEXT, help='Name of the copy (default "<name> (copy)").')
@po_option
@pass_state
def duplicate(state: CliState, ref: str, name: str | None, po: str | None) -> None:
    """Copy a session with its whole history."""
    from .name_note import note_name_clash

    mgr = state.manager
    copy = mgr.duplicate(mgr.resolve(po, ref).id, new_name=name)
    click.echo(f"Created {quoted(copy.name)} ({copy.id})")
    note_name_clash(mgr, copy)


@click.command()
@click.argument("ref")
@click.option("--at", type=click.IntRange(min=0), help="Keep the first N messages (default: all).")
@click.option("--name", type=TEXT, help='Name of the fork (default "<name> (fork)").')
@po_option
@pass_state
def fork(state: CliState, ref: str, at: int | None, name: str | None, po: str | None) -> None:
    """Start a new session from the first N messages of another."""
    from .name_note import note_name_clash

    mgr = state.manager
    child = mgr.fork(mgr.resolve(po, ref).id, at=at, name=name)
    click.echo(
        f"Created {quoted(child.name)} ({child.id}) with {counted(len(child.history), 'message')}"
    )
    note_name_clash(mgr, child)


@click.command()
@click.argument("ref")
@po_option
@click.option("--undo", is_flag=True, help="Bring an archived session back.")
@click.option("--json", "as_json", is_flag=True, help="Print the session's summary.")
@pass_state
def archive(state: CliState, ref: str, po: str | None, undo: bool, as_json: bool) -> None:
    """Hide a session from lists without deleting it."""
    mgr = state.manager
    target = mgr.resolve(po, ref)
    if target.archived != undo:  # nothing to change: say so rather than claim it was done
        if as_json:
            print_json(summary_json(target))
            return
        state_now = "not archived" if undo else "already archived"
        click.echo(f"{quoted(target.name)} is {state_now}")
        return
    session = mgr.archive(target.id, archived=not undo)
    if as_json:
        print_json(summary_json(session.summary()))
        return
    click.echo(f"{'Restored' if undo else 'Archived'} {quoted(target.name)}")
