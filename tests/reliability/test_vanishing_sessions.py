"""Readers under concurrency: a session deleted by another process mid-read is skipped.

Readers take no lock, so a session can be listed and then deleted before it is read. Search,
the current session, doctor and the runtime's store sync each meet that case here
deterministically (the deletion is done by a second manager at the exact moment between listing
and reading), on both backends; a churn test then runs searches against a process that creates
and deletes sessions without pause.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability_support import host, scaled

from prompt_sessions.context import AppContext
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.runtime import Coordinator
from prompt_sessions.storage import sqlite_rows

PO = "coordinator"
BACKENDS = ["json", "sqlite"]


def _open(root: Path, backend: str) -> SessionManager:
    return SessionManager.open(root, host=host(), backend=backend, config={})


def _with_needle(mgr: SessionManager, name: str) -> str:
    return mgr.create(PO, name, history=[Message(role="user", content=f"a needle in {name}")]).id


def _delete_after(
    monkeypatch: pytest.MonkeyPatch,
    target: Any,
    name: str,
    delete: Callable[[], None],
    *,
    before: bool = False,
) -> None:
    """``target.name`` runs as before, then ``delete`` runs once, before the caller goes on
    (with ``before``: ``delete`` runs once just before the first call)."""
    real = getattr(target, name)
    done = False

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nonlocal done
        if before and not done:
            done = True
            delete()
        result = real(*args, **kwargs)
        if not done:
            done = True
            delete()
        return result

    monkeypatch.setattr(target, name, wrapped)


# The sqlite store answers a search in one read transaction (the index and the summaries in one
# snapshot), so no session can vanish in the middle of it; the JSON store lists, then reads.
@pytest.mark.parametrize("backend", ["json"])
@pytest.mark.parametrize("query", ["needle", "victim"])
def test_search_skips_sessions_deleted_after_the_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, query: str
) -> None:
    """Sessions deleted by another process between search's listing and its reads are skipped
    (by their text or their name), not reported as SessionNotFound; the rest are found."""
    root = tmp_path / ".prompt_objects"
    mgr, other = _open(root, backend), _open(root, backend)
    keep = _with_needle(mgr, "victim survivor")
    victims = [_with_needle(mgr, f"victim {n}") for n in range(3)]

    def delete_victims() -> None:
        for sid in victims:
            other.delete(sid)

    _delete_after(monkeypatch, mgr.backend, "list", delete_victims)
    hits = mgr.search(query)
    assert {h.session.id for h in hits} == {keep}
    assert [s.id for s in mgr.list()] == [keep]
    mgr.close()
    other.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_current_session_deleted_while_it_is_read_gives_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """`current` (what `send` without --session uses) chose a session that another process
    deletes before it is read: the choice is made again, among the sessions that remain."""
    root = tmp_path / ".prompt_objects"
    mgr, other = _open(root, backend), _open(root, backend)
    older = mgr.create(PO, "older").id
    chosen = mgr.create(PO, "chosen").id
    mgr.switch(PO, chosen)
    _delete_after(monkeypatch, mgr, "peek_current", lambda: other.delete(chosen))
    assert mgr.current(PO).id == older
    mgr.close()
    other.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_doctor_skips_a_session_deleted_while_it_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """A session deleted by another process after doctor listed the store is neither counted
    nor reported as damaged; doctor succeeds."""
    root = tmp_path / ".prompt_objects"
    mgr, other = _open(root, backend), _open(root, backend)
    keep = _with_needle(mgr, "keep")
    victim = _with_needle(mgr, "victim")
    if backend == "json":
        # Doctor of a store it may not write reads without the lock, as any reader does.
        monkeypatch.setattr(mgr.backend, "_may_write", lambda: False)
        _delete_after(monkeypatch, mgr.backend, "_ids_on_disk", lambda: other.delete(victim))
    else:
        _delete_after(monkeypatch, sqlite_rows, "load", lambda: other.delete(victim), before=True)
    report = mgr.check()
    assert report.damaged == {}
    assert report.sessions == 1
    monkeypatch.undo()
    assert [s.id for s in mgr.list()] == [keep]
    mgr.close()
    other.close()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_store_sync_drops_a_session_deleted_before_it_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """The runtime sees another process's append in the catalog, and the session is deleted
    before the runtime reads it again: it is closed as deleted, with no warning."""
    root = tmp_path / ".prompt_objects"
    manager = _open(root, backend)
    ctx = AppContext(manager=manager, host=manager.host, root=root)
    coord = Coordinator(ctx)
    other = _open(root, backend)
    sid = ctx.manager.create(PO, "open here").id
    coord.open(sid)
    other.append(sid, Message(role="user", content="from elsewhere"))
    _delete_after(monkeypatch, ctx.manager, "list", lambda: other.delete(sid))
    await coord.refresh()
    assert coord.get(sid) is None
    assert ctx.warnings == []
    await coord.shutdown()
    ctx.manager.close()
    other.close()


CHURN = """
import sys, pathlib
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost

root, backend, stop = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
mgr = SessionManager.open(root, host=PluginHost.create(entry_points=False), backend=backend)
n = 0
while not stop.exists() or n < 20:
    made = [mgr.create("churn", f"churn {n}.{k}").id for k in range(5)]
    for sid in made:
        mgr.append(sid, Message(role="user", content=f"a needle in churn {n}"))
    for sid in made:
        mgr.delete(sid)
    n += 1
mgr.close()
print(n)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_search_list_and_export_under_churn(tmp_path: Path, backend: str) -> None:
    """While another process creates and deletes sessions without pause, every search, list
    and export of what was listed in this process succeeds and always finds the sessions that
    stay."""
    root = tmp_path / ".prompt_objects"
    mgr = _open(root, backend)
    stays = {_with_needle(mgr, f"stays {n}") for n in range(3)}
    stop = tmp_path / "stop"
    churn = subprocess.Popen(
        [sys.executable, "-c", CHURN, str(root), backend, str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # About one search in fifty met a vanished session before readers skipped them.
        for n in range(scaled(400)):
            found = {h.session.id for h in mgr.search("needle")}
            assert stays <= found
            if n % 20:
                continue
            listed = mgr.list()
            assert stays <= {s.id for s in listed}
            for summary in listed:
                if summary.id in stays:
                    assert "needle" in str(mgr.export(summary.id, "markdown"))
    finally:
        stop.touch()
        out, err = churn.communicate(timeout=120)
    assert churn.returncode == 0, err
    assert int(out) >= 20
    mgr.close()
