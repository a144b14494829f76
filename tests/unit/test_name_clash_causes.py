"""The name-clash note says which of its two causes applies, in one line: another session
bears the same name, or another session's id starts with the name (``resolve_ref`` then asks
which is meant), or both; each with the id to use instead (DESIGN sections 5 and 6)."""

from __future__ import annotations

import re

import pytest
from cli_runner import Run

from prompt_sessions.manager import SessionManager
from prompt_sessions.organise.name_clash import name_clash_notes
from prompt_sessions.plugins import PluginHost

BACKENDS = ["json", "sqlite"]
SAME_NAME = "Note: another session is also called {name}: name this one by its id, {sid}\n"
ID_START = "Note: another session's id starts with {name}: name this one by its id, {sid}\n"
BOTH = (
    "Note: another session is also called {name}, and another's id starts with it: "
    "name this one by its id, {sid}\n"
)


def _use(run: Run, backend: str) -> None:
    if backend == "sqlite":
        config = run.store / "config.toml"
        config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


def _made(out: str) -> str:
    found = re.search(r"\(([0-9a-f-]{36})\)", out)
    assert found is not None, out
    return found[1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_name_another_session_bears_says_so(run: Run, backend: str) -> None:
    """`new --name Plan` beside another PO's "Plan": the note says the name is shared, not
    that an id might start with it."""
    _use(run, backend)
    run("new", "alpha", "--name", "Plan")
    code, out, err = run("new", "beta", "--name", "Plan")
    assert code == 0
    assert err == SAME_NAME.format(name="'Plan'", sid=_made(out)[:8])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_name_that_starts_another_sessions_id_says_so(run: Run, backend: str) -> None:
    """A rename to the first characters of another session's id: the note says an id starts
    with it, not that another session bears the name."""
    _use(run, backend)
    first = _made(run("new", "po", "--name", "One")[1])
    second = _made(run("new", "po", "--name", "Two")[1])
    code, out, err = run("rename", "Two", first[:6])
    assert (code, out) == (0, f"Renamed 'Two' to '{first[:6]}'\n")
    assert err == ID_START.format(name=f"'{first[:6]}'", sid=second[:8])


def test_both_causes_at_once_name_both(run: Run) -> None:
    """A name that another session bears and that starts a third session's id: one line
    naming both causes."""
    first = _made(run("new", "po", "--name", "One")[1])
    run("new", "po", "--name", first[:5])
    code, out, err = run("new", "other", "--name", first[:5])
    assert code == 0
    assert err == BOTH.format(name=f"'{first[:5]}'", sid=_made(out)[:8])


def test_the_notes_are_the_frontends_shared_words(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``name_clash_notes`` (what the TUI shows) gives the same words, one line each, and
    none for a name of its own or a name that only starts the session's own id."""
    mgr = SessionManager.open(tmp_path / "store", host=PluginHost.create(entry_points=False))
    try:
        one = mgr.create(po_name="po", name="Plan")
        two = mgr.create(po_name="other", name="Plan")
        three = mgr.create(po_name="po", name="Three")
        mgr.rename(three.id, one.id[:4])
        three = mgr.get(three.id)
        own = mgr.create(po_name="po", name="Own")
        mgr.rename(own.id, own.id[:8])
        own = mgr.get(own.id)
        assert name_clash_notes(mgr, [two]) == [
            SAME_NAME.format(name="'Plan'", sid=two.id[:8]).rstrip("\n")
        ]
        assert name_clash_notes(mgr, [three]) == [
            ID_START.format(name=f"'{one.id[:4]}'", sid=three.id[:8]).rstrip("\n")
        ]
        assert name_clash_notes(mgr, [own]) == []
    finally:
        mgr.close()
