"""Printing: JSON for scripts, compact tables for people, warnings on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import click
import msgspec

from ..cells import cell_len, fit_name, pad
from ..errors import UsageError
from ..models import SessionSummary
from ..text import unencodable, visible


class _Text(click.ParamType):
    """Text typed as an argument. Bytes that are not UTF-8 reach Python as lone surrogates,
    which can be neither stored nor searched: refused in one line naming the argument."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and unencodable(value):
            what = (param.human_readable_name if param else "an argument").lower()
            raise UsageError(
                f"{what} is not valid UTF-8 text: {visible(value, one_line=True)} "
                "(check the terminal's or the shell's encoding)"
            )
        return value


TEXT = _Text()


def print_json(value: Any) -> None:
    """Print ``value`` as one line of JSON on stdout."""
    print_json_chunks((msgspec.json.encode(value),))


def print_json_chunks(chunks: Iterable[bytes]) -> None:
    """Print JSON already encoded, in UTF-8 pieces, on stdout, with a final newline."""
    out = sys.stdout.buffer
    for chunk in chunks:
        out.write(chunk)
    out.write(b"\n")
    out.flush()


def summary_json(summary: SessionSummary) -> dict[str, Any]:
    return msgspec.to_builtins(summary)


def when(iso: str) -> str:
    """A timestamp as local 'YYYY-MM-DD HH:MM'."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M")


def print_table(
    summaries: Iterable[SessionSummary],
    current: set[str] | None = None,
    orphaned: set[str] | None = None,
) -> None:
    rows = list(summaries)
    if not rows:
        click.echo("No sessions.")
        return
    current = current or set()
    names = [visible(s.name, one_line=True) for s in rows]
    pos = [visible(s.po_name, one_line=True) for s in rows]
    # widths in terminal cells, cut between graphemes: emoji and CJK names keep the columns
    name_width = min(40, max(4, *(cell_len(n) for n in names)))
    po_width = min(20, max(2, *(cell_len(p) for p in pos)))
    click.echo(f"  {'ID':8}  {'NAME':{name_width}}  {'PO':{po_width}}  {'MSGS':>4}  UPDATED")
    for s, shown, po in zip(rows, names, pos, strict=True):
        mark = "*" if s.id in current else " "
        name, po = pad(fit_name(shown, name_width), name_width), pad(po, po_width)
        flags = (" (pinned)" if s.pinned else "") + (" (archived)" if s.archived else "")
        flags += "".join(f" #{visible(t, one_line=True)}" for t in s.tags or ())
        flags += " (orphaned: its PO file is gone)" if orphaned and s.id in orphaned else ""
        click.echo(
            f"{mark} {s.id[:8]}  {name}  {po}  {s.message_count:>4}  {when(s.updated_at)}{flags}"
        )


def warn(text: str) -> None:
    click.echo(f"Warning: {visible(text, one_line=True)}", err=True)


def warn_problems(problems: dict[str, str]) -> None:
    for sid, reason in sorted(problems.items()):
        warn(f"skipped damaged session {sid}: {reason} (see `prompt-sessions doctor`)")
