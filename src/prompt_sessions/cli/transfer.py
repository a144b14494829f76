"""export and import."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ImportFormatError, UsageError
from ..outputs import write_output
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
        where = write_output(output, raw)
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
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "-f", "fmt", help="Import format (default: detected).")
@click.option("--po", help="Assign the imported sessions to this PO.")
@click.option("--json", "as_json", is_flag=True, help="Print the imported sessions' summaries.")
@pass_state
def import_(
    state: CliState, files: tuple[str, ...], fmt: str | None, po: str | None, as_json: bool
) -> None:
    """Import sessions from files: every conversation that can be read; the rest are named
    with the reason on stderr."""
    mgr = state.manager
    imported = []
    failed = 0
    show_bar = len(files) > 1 and sys.stderr.isatty() and not as_json
    with (
        click.progressbar(files, label="Importing", file=sys.stderr)
        if show_bar
        else _plain(files) as items
    ):
        for name in items:
            try:
                data = _read(Path(name))
                report = mgr.import_report(data, fmt, filename=name, po_name=po)
            except ImportFormatError as exc:
                failed += 1
                click.echo(f"Error: {visible(name, one_line=True)}: {exc}", err=True)
                continue
            imported.extend(report.sessions)
            for skip in report.skipped:
                click.echo(
                    f"Warning: {visible(name, one_line=True)}: skipped {visible(str(skip))}",
                    err=True,
                )
    if as_json:
        print_json([summary_json(s.summary()) for s in imported])
    else:
        for session in imported:
            click.echo(
                f"Imported {quoted(session.name)} "
                f"({session.id}, {counted(len(session.history), 'message')})"
            )
    if failed:
        sys.exit(1)


class _plain:
    def __init__(self, items: tuple[str, ...]) -> None:
        self.items = items

    def __enter__(self) -> tuple[str, ...]:
        return self.items

    def __exit__(self, *exc: object) -> None:
        return None


def _read(path: Path) -> bytes:
    from ..limits import MAX_IMPORT_BYTES

    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise ImportFormatError(f"{size:,} bytes; the limit is {MAX_IMPORT_BYTES:,} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise ImportFormatError(f"cannot read it: {exc.strerror}") from exc
