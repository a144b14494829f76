"""A note when a command is about to give a PO its first session though the environment has PO
files and none of them is that PO: most often a mistyped name. Such a PO is a bare PO (no
system prompt, default responder; README "Prompt objects"), so the command goes on; the note
on stderr says so and names the closest PO."""

from __future__ import annotations

import click

from ..errors import InvalidName
from ..manager import SessionManager
from ..models import clean_po_name
from ..organise.between_pos import po_files
from ..text import visible


def note_unknown_po(manager: SessionManager, po: str) -> None:
    """Print one ``Note:`` line on stderr when ``po`` has neither a file in ``objects/`` nor a
    session while other POs have files; print nothing otherwise."""
    try:
        po = clean_po_name(po)  # " coordinator" is coordinator
    except InvalidName:
        return  # the command refuses such a name itself, in one line
    known = sorted(po_files(manager))
    if not known or po in known or manager.list(po, include_archived=True):
        return
    import difflib  # only here: `list` and the other commands never need it

    close = difflib.get_close_matches(po, known, n=1)
    guess = f"did you mean '{visible(close[0], one_line=True)}'? " if close else ""
    listed = ", ".join(visible(name, one_line=True) for name in known)
    click.echo(
        f"Note: no PO file for '{visible(po, one_line=True)}' ({guess}the POs: {listed}); "
        "it answers as a bare PO, without a system prompt",
        err=True,
    )
