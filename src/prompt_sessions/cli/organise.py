"""Organising commands (DESIGN section 14): trash, restore, pin, tag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import msgspec

from ..cells import cell_len, fit_name, pad
from ..errors import AmbiguousSession, PromptSessionsError, SessionNotFound, UsageError
from ..organise.labels import split_tags
from ..storage.base import TrashedSession
from ..text import counted, quoted, visible
from .output import TEXT, print_json, warn_problems, when
from .path_type import LinkedPath
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
            f"{s.id[:8]}  {pad(fit_name(name, name_width), name_width)}  {pad(po, po_width)}  "
            f"{s.message_count:>4}  {when(entry.deleted_at)}"
        )


def _sweep_options(
    empty: str, older: str, yes: str, json: str
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options `trash` and `prune` share (--empty, --older-than, --yes, --json), each
    with its command's help text (DESIGN section 14)."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(
            (
                click.option("--empty", "empty", is_flag=True, help=empty),
                click.option(
                    "--older-than",
                    "days",
                    type=click.FloatRange(min=0),
                    metavar="DAYS",
                    help=older,
                ),
                click.option("--yes", "-y", is_flag=True, help=yes),
                click.option("--json", "as_json", is_flag=True, help=json),
            )
        ):
            command = option(command)
        return command

    return decorate


@click.command()
@_sweep_options(
    empty="Delete trashed sessions for good.",
    older="With --empty: only sessions deleted more than DAYS days ago.",
    yes="With --empty: really delete (else only list).",
    json="Print an array of trashed sessions.",
)
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
        everything = mgr.trashed()
        chosen = trash_rules.older_than(everything, days)
        if as_json:
            print_json([trashed_json(e) for e in chosen])
            return
        if not chosen and everything:  # not "empty": it holds newer ones
            click.echo(
                f"Nothing in the trash was deleted more than {days:g} days ago "
                f"({counted(len(everything), 'newer session')})."
            )
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
    try:
        entry = state.manager.restore(ref)
    except SessionNotFound:
        _not_in_trash(state, ref)
        raise
    if as_json:
        print_json(msgspec.to_builtins(entry.summary))
    else:
        click.echo(f"Restored {quoted(entry.summary.name)} ({entry.summary.id})")


def _not_in_trash(state: CliState, ref: str) -> None:
    """Raise a UsageError saying so when ``ref``, not found in the trash, names a session in
    use: "no session matches" would have the person look for one that is there."""
    try:
        live = state.manager.resolve(None, ref)
    except AmbiguousSession:
        said = f"{quoted(ref)} is not in the trash: it names sessions in the store"
    except PromptSessionsError:
        return  # in neither place: the trash's own error says so
    else:
        said = f"{quoted(live.name)} ({live.id[:8]}) is not in the trash: it is in the store"
    raise UsageError(
        f"{said} (restored, or never deleted); `prompt-sessions trash` lists deleted sessions"
    )


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
    """Add tags to a session (one word each; commas also separate them, and a leading # is
    dropped), or take them off with --remove."""
    from ..organise.labels import changed_tags

    mgr = state.manager
    words = split_tags(tags)  # every tag checked before the session is looked up or changed
    target = mgr.resolve(po, ref)
    before = list(target.tags or ()) or None
    absent = [w for w in words if remove and changed_tags(before, remove=[w]) == before]
    session = mgr.tag(target.id, remove=words) if remove else mgr.tag(target.id, add=words)
    if as_json:
        print_json(msgspec.to_builtins(session.summary()))
        return
    shown = " ".join(f"#{visible(t, one_line=True)}" for t in session.tags or ()) or "no tags"
    # a tag to take off that was not there is said, not silently passed over (a typo, say)
    missing = f" (it had no {', '.join(f'#{visible(w, one_line=True)}' for w in absent)})"
    click.echo(f"{quoted(session.name)}: {shown}" + (missing if absent else ""))


@click.command()
@_sweep_options(
    empty="Sessions without messages (required).",
    older="Only sessions last changed more than DAYS days ago.",
    yes="Move them to the trash (else only list).",
    json="Print an array of their summaries.",
)
@pass_state
def prune(state: CliState, empty: bool, days: float | None, yes: bool, as_json: bool) -> None:
    """List empty sessions; with --yes, move them to the trash (restorable)."""
    from ..organise import prune as rules
    from .output import print_table

    if not empty:
        raise click.UsageError("say what to prune: --empty")
    mgr = state.manager
    found = rules.empty_sessions(mgr, days)
    warn_problems(mgr.problems())  # a damaged session was not judged: say so
    if yes:
        found = rules.prune(mgr, found)
    if as_json:
        print_json(found)
    elif not found:
        # Say why an empty session a person can see is not offered.
        click.echo("No empty sessions to prune (a PO's current session is kept, even empty).")
    elif yes:
        click.echo(f"Moved {counted(len(found), 'empty session')} to the trash.")
    else:
        print_table(found)
        click.echo(f"Add --yes to move {counted(len(found), 'session')} to the trash.")


@click.command()
@po_option
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON.")
@pass_state
def stats(state: CliState, po: str | None, as_json: bool) -> None:
    """Sessions, messages, tokens and cost per PO, model and day."""
    import sys

    from ..organise import stats as rules

    result = rules.usage(state.manager, po)
    warn_problems(state.manager.problems())  # a damaged session is not counted: say so
    if as_json:
        print_json(result.as_json())
        return
    _usage_table("", {"total": result.total})
    for title, groups in (("PO", result.by_po), ("MODEL", result.by_model)):
        if groups:
            click.echo("")
            _usage_table(title, groups)
    if result.by_day and sys.stdout.isatty():
        click.echo("")
        for day, bar, tokens in rules.bars(result.by_day):
            click.echo(f"{day}  {bar} {tokens:,}")
    elif result.by_day:
        click.echo("")
        _usage_table("DAY", result.by_day)


def _usage_table(title: str, groups: dict[str, Any]) -> None:
    names = {key: visible(key, one_line=True) for key in groups}
    width = min(30, max(len(title), 5, *(cell_len(n) for n in names.values())))
    click.echo(
        f"{title:{width}}  {'SESSIONS':>8}  {'MESSAGES':>8}  {'TOKENS IN':>10}  "
        f"{'TOKENS OUT':>10}  {'COST':>10}"
    )
    for key, u in groups.items():
        cost = f"{u.cost:.4f}" if u.cost is not None else "-"
        click.echo(
            f"{pad(names[key], width)}  {u.sessions:>8,}  {u.messages:>8,}  "
            f"{u.input_tokens:>10,}  {u.output_tokens:>10,}  {cost:>10}"
        )


@click.command()
@click.argument("ref", type=TEXT)
@click.option("--to-po", "to_po", required=True, type=TEXT, help="The PO to copy it to.")
@po_option
@click.option("--json", "as_json", is_flag=True, help="Print the copy's summary.")
@pass_state
def copy(state: CliState, ref: str, to_po: str, po: str | None, as_json: bool) -> None:
    """Copy a session (its whole history) to another PO."""
    from .po_note import note_unknown_po

    mgr = state.manager
    source = mgr.resolve(po, ref)
    note_unknown_po(mgr, to_po)  # a mistyped PO is about to get its first session
    session = mgr.copy_to_po(source.id, to_po)
    if as_json:
        print_json(session.summary())
    else:
        target = visible(session.po_name, one_line=True)
        click.echo(f"Copied {quoted(session.name)} to {target} ({session.id})")
    from .name_note import note_name_clash

    note_name_clash(mgr, session)  # the copy keeps its name: the name alone names two now


@click.group("po")
def po_group() -> None:
    """Prompt objects: rename one in every session."""


@po_group.command("rename")
@click.argument("old", type=TEXT)
@click.argument("new", type=TEXT)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the moved sessions' summaries (and trashed)."
)
@pass_state
def po_rename(state: CliState, old: str, new: str, as_json: bool) -> None:
    """Give every session of PO OLD the PO name NEW (those in the trash too), and its PO
    file too (objects/OLD.md becomes objects/NEW.md, a front matter `name: OLD` becomes
    `name: NEW`); POs that list OLD in their capabilities list NEW instead."""
    report = state.manager.rename_po(old, new)
    if as_json:
        print_json(
            {
                "sessions": report.sessions,
                "trashed": report.trashed,
                "file": report.file or None,
                "callers": report.callers,
            }
        )
        return
    trashed = f", and {len(report.trashed)} in the trash" if report.trashed else ""
    click.echo(
        f"Moved {counted(len(report.sessions), 'session')} to {visible(new, one_line=True)}"
        f"{trashed}"
    )
    for said in [*report.callers, report.file]:
        if said:
            click.echo(visible(said, one_line=True))


def _progress_bar(label: str) -> Any:
    """A click progress bar on stderr when it is a terminal, else a no-op (DESIGN section 6)."""
    import contextlib
    import sys

    if not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return click.progressbar(length=1, label=label, file=sys.stderr)


def _advance(bar: Any) -> Any:
    if bar is None:
        return None

    def update(done: int, total: int) -> None:
        bar.length = max(total, 1)
        bar.update(done - bar.pos)

    return update


@click.command()
@click.option("-o", "output", type=click.Path(), help="The zip to write, or a folder for it.")
@click.option("--json", "as_json", is_flag=True, help="Print the file and counts as JSON.")
@pass_state
def backup(state: CliState, output: str | None, as_json: bool) -> None:
    """Write a dated zip of the sessions, PO files and config."""
    from pathlib import Path

    from ..organise import backup as rules
    from ..outputs import folder_asked

    if output == "-":
        raise UsageError("backup writes a zip file, not standard output: give -o a file or folder")
    target = Path(output).expanduser() if output else Path(rules.default_name())
    if output and (folder := folder_asked(output)) is not None:  # the dated name, in it
        target = folder / rules.default_name()
    with _progress_bar("Backing up") as bar:
        counts = rules.write_backup(state.manager, target, _advance(bar))
    if as_json:
        print_json({"file": str(target), **counts})
        return
    click.echo(
        f"Wrote {visible(str(target), one_line=True)}: {counted(counts['sessions'], 'session')}, "
        f"{counts['trash']} in the trash, {counted(counts['objects'], 'PO file')}"
        + (", config.toml" if counts["config"] else "")
    )


@click.command("restore-backup")
@click.argument("file", type=LinkedPath(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print what was added and the conflicts.")
@pass_state
def restore_backup(state: CliState, file: str, as_json: bool) -> None:
    """Add what a backup holds and this environment lacks; never overwrite, list conflicts."""
    from pathlib import Path

    from ..organise import backup as rules

    with _progress_bar("Restoring") as bar:
        report = rules.restore_backup(state.manager, Path(file), _advance(bar))
    if as_json:
        print_json(
            {"added": report.added, "unchanged": report.unchanged, "conflicts": report.conflicts}
        )
        return
    click.echo(
        f"Added {counted(len(report.added), 'item')}, {report.unchanged} already here, "
        f"{counted(len(report.conflicts), 'conflict')}."
    )
    for line in report.conflicts:
        click.echo(f"  conflict: {visible(line, one_line=True)}")
