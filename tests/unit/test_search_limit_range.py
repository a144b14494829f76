"""A search's hit limit larger than SQLite's integers is "no practical limit", not a crash
(DESIGN section 12: ``search --limit N``).

``--limit`` takes any whole number; the index (the JSON store's cache and the sqlite backend
alike) binds it into SQLite, whose integers end at 2**63 - 1. A huge limit returns every hit,
as a large one does; a limit below 1 stays a one-line usage error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions import Message, SessionManager, search_live
from prompt_sessions.errors import UsageError
from prompt_sessions.plugins import PluginHost

HUGE = [2**63 - 1, 2**63, 10**20, 10**400]
HUGE_IDS = ["2^63-1", "2^63", "1e20", "1e400"]


@pytest.fixture(params=["json", "sqlite"])
def mgr(tmp_path: Path, request: pytest.FixtureRequest):
    store = tmp_path / ".prompt_objects"
    store.mkdir()
    (store / "config.toml").write_text(f'[storage]\nbackend = "{request.param}"\n')
    manager = SessionManager.open(store, host=PluginHost.create(entry_points=False))
    for name in ("One", "Two"):
        sid = manager.create(po_name="coordinator", name=name).id
        manager.append(sid, Message(role="user", content=f"hello from {name}"))
    yield manager
    manager.close()


@pytest.mark.parametrize("limit", HUGE, ids=HUGE_IDS)
def test_a_huge_limit_finds_every_hit(mgr: SessionManager, limit: int) -> None:
    """``SessionManager.search`` with a limit past SQLite's integers returns every hit, on
    the json and sqlite backends."""
    hits = mgr.search("hello", limit=limit)
    assert sorted(h.session.name for h in hits) == ["One", "Two"]


@pytest.mark.parametrize("limit", HUGE, ids=HUGE_IDS)
def test_the_explorer_searches_take_a_huge_limit(mgr: SessionManager, limit: int) -> None:
    """The explorer's two searches (the first page, then the ranked hits) take the same limit
    and find the same hits."""
    ranked = search_live.ranked(mgr, "hello", limit=limit, cancelled=lambda: False)
    assert sorted(h.session.name for h in ranked) == ["One", "Two"]
    page = search_live.first_page(mgr, "hello", limit=limit)
    assert page is None or sorted(h.session.name for h in page) == ["One", "Two"]


@pytest.mark.parametrize("limit", [0, -1, -(2**70)], ids=["0", "-1", "-2^70"])
def test_a_limit_below_one_is_refused(mgr: SessionManager, limit: int) -> None:
    """A limit below 1 is still a usage error, whatever its size."""
    with pytest.raises(UsageError, match="positive whole number"):
        mgr.search("hello", limit=limit)
    with pytest.raises(UsageError, match="positive whole number"):
        search_live.first_page(mgr, "hello", limit=limit)


@pytest.mark.parametrize("limit", ["9223372036854775808", "100000000000000000000"])
def test_cli_search_takes_a_huge_limit(run: Run, limit: str) -> None:
    """``prompt-sessions search --limit N`` with N past SQLite's integers prints every hit."""
    sid = run.json("new", "coordinator", "--name", "Greeting", "--json")["id"]
    assert run("send", "coordinator", "hello there", "--session", sid)[0] == 0
    code, out, err = run("search", "hello", "--limit", limit, "--json")
    assert code == 0, err
    assert "Greeting" in out or "hello there" in out
