"""History commands: ``rewind REF --to N`` and ``rewind REF --undo`` (DESIGN section 14,
"Rewind without loss")."""

from __future__ import annotations

import click

from ..organise.trash import folded_fork_note
from ..text import counted, quoted
from .output import print_json, summary_json
from .state import CliState

pass_state = click.make_pass_decorator(CliState)


@click.command()
@click.argument("ref")
@click.option(
    "--to",
    "to",
    type=click.IntRange(min=0),
    help="Keep the first N messages; the rest go to a fork.",
)
@click.option("--undo", is_flag=True, help="Take back the session's last rewind.")
@click.option("--po", help="Only look among this PO's sessions.")
@click.option("--json", "as_json", is_flag=True, help="Print the session and the fork as JSON.")
@pass_state
def rewind(
    state: CliState, ref: str, to: int | None, undo: bool, po: str | None, as_json: bool
) -> None:
    """End a session at message N, keeping the messages after it in a fork (never deleted).

    The fork records the branch point; `rewind REF --undo` brings them back.
    """
    if (to is None) == (not undo):
        raise click.UsageError("give either --to N or --undo")
    mgr = state.manager
    target = mgr.resolve(po, ref)
    done = mgr.undo_rewind(target.id) if undo else mgr.rewind(target.id, to or 0)
    session, kept = done.session, done.kept
    if as_json:
        print_json(
            {
                "session": summary_json(session.summary()),
                "kept": summary_json(kept.summary()) if kept is not None else None,
                "removed": done.removed,
            }
        )
        return
    if undo:
        click.echo(
            f"Undid the last rewind of {quoted(session.name)}: "
            f"{counted(len(session.history), 'message')} again"
        )
    else:
        click.echo(f"Rewound {quoted(session.name)} to {counted(len(session.history), 'message')}")
    if kept is not None:
        click.echo(
            f"Kept the whole earlier path in {quoted(kept.name)} ({kept.id}); "
            f"`prompt-sessions rewind {session.id[:8]} --undo` takes this back"
            if not undo
            else f"Kept what followed in {quoted(kept.name)} ({kept.id})"
        )
    if done.removed is not None:
        note = folded_fork_note(mgr, done.removed, done.removed_name)
        click.echo(note[0].upper() + note[1:])
