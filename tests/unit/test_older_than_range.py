"""``--older-than DAYS`` takes any number a person may type (DESIGN section 14: ``trash --empty
[--older-than DAYS]``, ``prune --empty [--older-than DAYS]``).

A span longer than the calendar holds (``1e308``, ``inf``, a huge whole number) matches
nothing: nothing is that old. ``nan`` is no number of days: a one-line error. Neither may end
in an unexpected error, and nothing is deleted or moved on the way.
"""

from __future__ import annotations

import math

import pytest
from cli_runner import Run

from prompt_sessions import SessionManager
from prompt_sessions.errors import UsageError
from prompt_sessions.organise import prune
from prompt_sessions.organise import trash as trash_rules

LONG = ["1e308", "inf", "100000000000000000000", "3000000"]


def _trashed(run: Run) -> str:
    sid = run.json("new", "coordinator", "--name", "Old", "--json")["id"]
    assert run("delete", sid, "--yes")[0] == 0
    return sid


@pytest.mark.parametrize("days", LONG)
def test_trash_empty_older_than_a_long_span_deletes_nothing(run: Run, days: str) -> None:
    """``trash --empty --older-than DAYS --yes`` with a span past the calendar deletes
    nothing and exits 0; the trashed session can still be restored."""
    sid = _trashed(run)
    code, _, err = run("trash", "--empty", "--older-than", days, "--yes")
    assert code == 0, err
    assert [e["id"] for e in run.json("trash", "--json")] == [sid]
    assert run("restore", sid[:8])[0] == 0


@pytest.mark.parametrize("days", LONG)
def test_prune_older_than_a_long_span_finds_nothing(run: Run, days: str) -> None:
    """``prune --empty --older-than DAYS --yes`` with a span past the calendar moves nothing."""
    run.json("new", "coordinator", "--name", "Empty one", "--json")
    run.json("new", "coordinator", "--name", "Empty two", "--json")
    code, _, err = run("prune", "--empty", "--older-than", days, "--yes")
    assert code == 0, err
    assert len(run.json("list", "--json")) == 2


@pytest.mark.parametrize("command", ["trash", "prune"])
def test_nan_days_is_a_one_line_error(run: Run, command: str) -> None:
    """``--older-than nan`` is refused on one line (no traceback, no unexpected error) and
    changes nothing."""
    sid = _trashed(run)
    run.json("new", "coordinator", "--name", "Empty", "--json")
    code, out, err = run(command, "--empty", "--older-than", "nan", "--yes")
    assert code in (1, 2), out
    assert "unexpected" not in err and "Traceback" not in err
    assert "nan" in err.lower()
    assert [e["id"] for e in run.json("trash", "--json")] == [sid]
    assert len(run.json("list", "--json")) == 1


@pytest.mark.parametrize("days", [math.inf, 1e308, 10**20])
def test_the_rules_take_a_long_span(manager: SessionManager, days: float) -> None:
    """The organising rules behind both commands match nothing for a span past the calendar."""
    manager.create(po_name="coordinator", name="Empty one")
    manager.create(po_name="coordinator", name="Empty two")
    assert prune.empty_sessions(manager, days) == []
    gone = manager.create(po_name="coordinator", name="Gone").id
    manager.delete(gone)
    assert trash_rules.older_than(trash_rules.trashed(manager), days) == []


def test_the_rules_refuse_nan(manager: SessionManager) -> None:
    """NaN days is a UsageError from both rules."""
    with pytest.raises(UsageError, match="nan"):
        prune.empty_sessions(manager, math.nan)
    with pytest.raises(UsageError, match="nan"):
        trash_rules.older_than([], math.nan)
