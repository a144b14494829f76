"""export and import."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ImportFormatError, UsageError
from ..outputs import folder_asked, write_output
from ..path_links import link_problem
from ..text import counted, quoted, visible
from .output import print_json, summary_json
from .state import CliState

pass_state = click.make_pass_decorator(CliState)


@click.command()
@click.argument("ref")
@click.option(
    "--format",
    "-f",
    "fmt",
    default="markdown",
    show_default=True,
    help="Export format (see `formats`).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(allow_dash=True, readable=False),
    help="Write to this file instead of stdout (- is stdout).",
)
@click.option("--po", help="Only look among this PO's sessions.")
@pass_state
def export(state: CliState, ref: str, fmt: str, output: str | None, po: str | None) -> None:
    """Export a session (markdown by default) to stdout or a file."""
    mgr = state.manager
    target = mgr.resolve(po, ref)
    data = mgr.export(target.id, format=fmt)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if output and output != "-":
        path = Path(output).expanduser()
        if (folder := folder_asked(output)) is not None:
            # a new file in it, named after the session, as the TUI's export does
            from ..commands.actions import free_path, slug

            stem = f"{slug(target.name)}-{target.id[:8]}"
            path = free_path(folder, stem, mgr.host.exporter(fmt).extension)
        where = write_output(path, raw)
        size = f"{len(raw):,} byte{'' if len(raw) == 1 else 's'}"
        click.echo(f"Wrote {visible(where, one_line=True)} ({size})", err=True)
    else:
        if sys.stdout.isatty():  # a person reads it: stored text must not drive the terminal
            raw = _for_terminal(raw, fmt)
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()


def _for_terminal(raw: bytes, fmt: str) -> bytes:
    """An export shown on a terminal, control characters visible; redirected, it stays exact."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"the {fmt} export is binary; write it to a file with -o FILE") from None
    return visible(text).encode("utf-8")


@click.command("import")
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--format", "-f", "fmt", help="Import format (default: detected).")
@click.option(
    "--from",
    "source",
    metavar="FORMAT",
    help="Read FORMAT's own files: its default location, or the FILES and folders given.",
)
@click.option("--po", help="Assign the imported sessions to this PO.")
@click.option("--as-new", is_flag=True, help="Make fresh copies of sessions imported before.")
@click.option("--dry-run", is_flag=True, help="List what would be imported; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the imported sessions' summaries.")
@pass_state
def import_(
    state: CliState,
    files: tuple[str, ...],
    fmt: str | None,
    source: str | None,
    po: str | None,
    as_new: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import sessions from files, or with --from FORMAT from that tool's own folder: every
    conversation that can be read; the rest are named with the reason on stderr. Importing a
    conversation again adds only its new messages to the earlier copy."""
    from ..importing import ImportRun, NothingToImport

    mgr = state.manager
    if source and fmt and source != fmt:
        raise UsageError(f"--from {source} and --format {fmt} disagree; give one")
    fmt = fmt or source
    paths, found = _paths(mgr, files, source)
    if po is not None:
        from .po_note import note_unknown_po

        note_unknown_po(mgr, po)  # a mistyped --po would give the copies a PO of their own
    run = ImportRun(mgr, po_name=po, as_new=as_new, dry_run=dry_run)
    outcomes = []
    failed = 0
    show_bar = len(paths) > 1 and sys.stderr.isatty() and not as_json
    with (
        run.exclusive(),  # imports at the same time take turns: none copies a conversation twice
        click.progressbar(paths, label="Importing", file=sys.stderr)
        if show_bar
        else _plain(paths) as items,
    ):
        for path in items:
            name = str(path)
            try:
                report = run.add(_read(path), fmt, filename=name)
            except NothingToImport as exc:
                if path not in found:  # named by the person: say so, as for any other failure
                    failed += 1
                    click.echo(f"Error: {visible(name, one_line=True)}: {exc}", err=True)
                continue  # a tool's own file with no conversation yet is passed over
            except ImportFormatError as exc:
                failed += 1
                click.echo(f"Error: {visible(name, one_line=True)}: {exc}", err=True)
                continue
            outcomes.extend(report.outcomes)
            for skip in report.skipped:
                click.echo(
                    f"Warning: {visible(name, one_line=True)}: skipped {visible(str(skip))}",
                    err=True,
                )
    if as_json:
        print_json(
            [
                {**summary_json(o.session.summary()), "import": o.action, "added": o.added}
                for o in outcomes
            ]
        )
    else:
        for outcome in outcomes:
            click.echo(_said(outcome, dry_run))
    if not dry_run:
        from .name_note import note_name_clashes

        # Copies are named apart within their PO only: another PO's session may bear the name.
        note_name_clashes(mgr, [o.session for o in outcomes if o.action == "new"])
    if failed:
        sys.exit(1)


_VERBS = {
    False: {"new": "Imported", "updated": "Updated", "unchanged": "Unchanged"},
    True: {"new": "Would import", "updated": "Would update", "unchanged": "Unchanged"},
}


def _said(outcome: Any, dry_run: bool) -> str:
    session = outcome.session
    verb = _VERBS[dry_run][outcome.action]
    if outcome.action == "new":
        what = counted(len(session.history), "message")
    elif outcome.action == "updated" and outcome.replaced:
        # the source took another path: say what left the copy and where it is kept
        what = f"{counted(outcome.replaced, 'message')} replaced by {outcome.added}"
        if outcome.kept is not None:
            what += f"; the old path is kept in {quoted(outcome.kept)}"
    elif outcome.action == "updated":
        what = f"+{counted(outcome.added, 'message')}"
    else:
        what = "nothing new"
    ident = "" if dry_run and outcome.action == "new" else f"{session.id}, "
    return f"{verb} {quoted(session.name)} ({ident}{what})"


def _paths(mgr: Any, files: tuple[str, ...], source: str | None) -> tuple[list[Path], set[Path]]:
    """The files to read: those given (a folder stands for the files the --from format finds
    in it), or the --from format's default location; and which of them were found rather than
    named."""
    from ..importing import LocatesFiles

    locator = None
    if source is not None:
        importers = mgr.host.importers()
        if source not in importers:
            from ..errors import UnknownFormat

            raise UnknownFormat(source, importers, kind="import format")
        locator = importers[source].value
        if not isinstance(locator, LocatesFiles):
            if not files:
                raise UsageError(f"the {source} format has no default location; name the files")
            locator = None
    if not files:
        if locator is None or source is None:
            raise UsageError("name the files to import, or a tool with --from FORMAT")
        found = locator.locate()
        if not found:
            raise UsageError(_nothing_found(locator, source))
        return found, set(found)
    paths: list[Path] = []
    located: set[Path] = set()
    for name in files:
        if problem := link_problem(name):  # the system would say "No such file" or worse
            raise UsageError(problem)
        path = Path(name)
        if path.is_dir():
            if locator is None:
                raise UsageError(f"{visible(name, one_line=True)} is a folder; name a file")
            inside = locator.locate(path)
            if not inside:
                raise UsageError(_nothing_found(locator, str(source), path))
            paths.extend(inside)
            located.update(inside)
        else:
            paths.append(path)
    return paths, located


def _nothing_found(locator: Any, source: str, folder: Path | None = None) -> str:
    """The one line for a --from FORMAT that found no files: the folder looked in and, for the
    default one, the variable that moves it (an importer's ``default_folder``, when it has one)."""
    from ..importers.common import nothing_found

    default = getattr(locator, "default_folder", None)
    if folder is not None:
        said = nothing_found(source, folder, None)
    elif default is None:
        said = f"no {source} files found in its default location; name the files to read"
    else:
        said = nothing_found(source, *default())
    return visible(said, one_line=True)


class _plain:
    def __init__(self, items: list[Path]) -> None:
        self.items = items

    def __enter__(self) -> list[Path]:
        return self.items

    def __exit__(self, *exc: object) -> None:
        return None


def _read(path: Path) -> bytes:
    from ..limits import read_input

    try:
        return read_input(path)
    except OSError as exc:
        from ..path_links import link_fault

        # A loop or a link to nothing found in a folder: said so, not "No such file".
        fault = link_fault(path)
        said = f"it is {fault}" if fault else f"cannot read it: {exc.strerror}"
        raise ImportFormatError(said) from exc
