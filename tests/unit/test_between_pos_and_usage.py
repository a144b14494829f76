"""prune --empty, stats, copy --to-po, po rename and orphaned sessions (DESIGN section 14)."""

from __future__ import annotations

import json

import pytest
from cli_runner import Run

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message, Usage
from prompt_sessions.plugins import PluginHost

BACKENDS = ["json", "sqlite"]
DAY1, DAY2 = "2025-01-03T10:00:00.000Z", "2025-01-04T10:00:00.000Z"


def _use(run: Run, backend: str) -> None:
    if backend == "sqlite":
        config = run.store / "config.toml"
        config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


def _manager(run: Run) -> SessionManager:
    return SessionManager.open(run.store, host=PluginHost.create(entry_points=False))


@pytest.mark.parametrize("backend", BACKENDS)
def test_prune_lists_then_moves_empty_sessions_to_the_trash(run: Run, backend: str) -> None:
    """prune --empty lists empty sessions (not the PO's current one, not ones with messages)
    and says to add --yes; with --yes they go to the trash, restorable."""
    _use(run, backend)
    with _manager(run) as mgr:
        empty = mgr.create("po", "Empty")
        full = mgr.create("po", "Full")
        mgr.append(full.id, Message(role="user", content="x"))
        in_use = mgr.create("po", "In use")
        mgr.switch("po", in_use.id)
    code, out, _ = run("prune", "--empty")
    assert code == 0 and "Empty" in out and "Full" not in out and "In use" not in out
    assert out.endswith("Add --yes to move 1 session to the trash.\n")
    assert run.json("prune", "--empty", "--older-than", "1", "--json") == []  # just made
    assert [s["id"] for s in run.json("prune", "--empty", "--yes", "--json")] == [empty.id]
    assert [e["id"] for e in run.json("trash", "--json")] == [empty.id]
    assert run("prune")[0] == 2  # what to prune must be said
    # Only the current (empty) session is left: the answer says why it is not offered.
    assert run("prune", "--empty") == (
        0,
        "No empty sessions to prune (a PO's current session is kept, even empty).\n",
        "",
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_stats_per_po_model_and_day_with_prices_and_delegations(run: Run, backend: str) -> None:
    """Totals per PO, model and day; cost from [prices.<model>] per million tokens; with --po
    the delegations made under that PO's sessions count too."""
    _use(run, backend)
    config = run.store / "config.toml"
    config.write_text(config.read_text() + "\n[prices.big]\ninput = 2.0\noutput = 10.0\n")
    with _manager(run) as mgr:
        s = mgr.create("boss", "Plan")
        mgr.append(s.id, Message(role="user", content="go", created_at=DAY1))
        mgr.append(
            s.id,
            Message(
                role="assistant",
                content="ok",
                created_at=DAY1,
                model="big",
                usage=Usage(input_tokens=1_000_000, output_tokens=100_000),
            ),
        )
        d = mgr.create("helper", "Sub", thread_type="delegation", parent_id=s.id)
        mgr.append(
            d.id,
            Message(
                role="assistant",
                content="done",
                created_at=DAY2,
                model="small",
                usage=Usage(input_tokens=10, output_tokens=5),
            ),
        )
        other = mgr.create("other", "Else")
        mgr.append(other.id, Message(role="user", content="x", created_at=DAY2))
    every = run.json("stats", "--json")
    assert every["total"]["sessions"] == 3 and every["total"]["messages"] == 4
    assert every["by_po"]["boss"]["cost"] == pytest.approx(3.0)  # 1M in at 2 + 0.1M out at 10
    assert every["by_model"]["small"] == {
        "sessions": 1,
        "messages": 1,
        "input_tokens": 10,
        "output_tokens": 5,
        "cost": None,
    }
    assert every["by_day"]["2025-01-03"]["input_tokens"] == 1_000_000
    assert every["by_day"]["2025-01-04"]["messages"] == 2
    boss = run.json("stats", "--po", "boss", "--json")
    assert boss["total"]["sessions"] == 2 and set(boss["by_po"]) == {"boss", "helper"}
    code, out, _ = run("stats")
    assert code == 0 and "big" in out and "3.0000" in out and "2025-01-04" in out


def test_stats_bar_chart_on_a_terminal(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal each day gets a bar proportional to its tokens."""
    from prompt_sessions.organise.stats import Usage as Totals
    from prompt_sessions.organise.stats import bars

    found = bars({"2025-01-02": Totals(input_tokens=5), "2025-01-01": Totals(output_tokens=10)})
    assert found == [("2025-01-01", "█" * 40, 10), ("2025-01-02", "█" * 20, 5)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_copy_to_another_po_keeps_the_source(run: Run, backend: str) -> None:
    """copy --to-po makes a new session of the other PO with the same messages and name and
    records where it came from; copying to its own PO is refused in one line."""
    _use(run, backend)
    with _manager(run) as mgr:
        s = mgr.create("alpha", "Notes")
        mgr.append(s.id, Message(role="user", content="keep"))
    copied = run.json("copy", "Notes", "--to-po", "beta", "--json")
    assert (copied["po_name"], copied["name"], copied["message_count"]) == ("beta", "Notes", 1)
    shown = run.json("show", copied["id"], "--json")
    assert shown["metadata"]["copied_from"] == {"id": s.id, "po_name": "alpha"}
    assert len(run.json("list", "--json")) == 2
    code, _, err = run("copy", copied["id"], "--to-po", "beta")
    assert code == 1 and "already belongs" in err and err.count("\n") == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_po_rename_moves_sessions_current_and_file(run: Run, backend: str) -> None:
    """po rename updates every session of the PO, its current session and objects/OLD.md;
    other POs are untouched; a second run finds no PO of that name and says so (as a typo
    does), changing nothing."""
    _use(run, backend)
    (run.store / "objects").mkdir()
    (run.store / "objects" / "old.md").write_text("---\ndescription: d\n---\nHi.\n")
    with _manager(run) as mgr:
        a = mgr.create("old", "A")
        mgr.create("old", "B")
        c = mgr.create("keep", "C")
        mgr.switch("old", a.id)
    code, out, _ = run("po", "rename", "old", "new")
    assert (code, out) == (0, "Moved 2 sessions to new\nrenamed old.md to new.md\n")
    assert sorted(s["name"] for s in run.json("list", "--po", "new", "--json")) == ["A", "B"]
    assert [s["id"] for s in run.json("list", "--po", "keep", "--json")] == [c.id]
    assert (run.store / "objects" / "new.md").exists()
    assert not (run.store / "objects" / "old.md").exists()
    with _manager(run) as mgr:
        assert mgr.backend.get_current("new") == a.id
        assert mgr.backend.get_current("old") is None
    code, out, err = run("po", "rename", "old", "new", "--json")
    assert (code, out) == (1, "") and err.startswith("Error: there is no PO 'old'")
    assert sorted(s["name"] for s in run.json("list", "--po", "new", "--json")) == ["A", "B"]


def test_po_rename_refuses_to_overwrite_a_po_file(run: Run) -> None:
    """When objects/NEW.md exists too, nothing is changed and the error is one line."""
    (run.store / "objects").mkdir()
    (run.store / "objects" / "old.md").write_text("Old.\n")
    (run.store / "objects" / "new.md").write_text("New.\n")
    with _manager(run) as mgr:
        mgr.create("old", "A")
    code, _, err = run("po", "rename", "old", "new")
    assert code == 1 and "exists already" in err and err.count("\n") == 1
    assert [s["po_name"] for s in run.json("list", "--json")] == ["old"]


def test_orphaned_sessions_are_marked_and_can_be_copied(run: Run) -> None:
    """With PO files present, a session whose PO has none is marked orphaned in list (text and
    JSON) and by --orphaned; copying it to a PO with a file gives a session that is not."""
    (run.store / "objects").mkdir()
    (run.store / "objects" / "writer.md").write_text("Write.\n")
    with _manager(run) as mgr:
        lost = mgr.create("gone", "Lost")
        mgr.create("writer", "Fine")
    listed = {s["name"]: s for s in run.json("list", "--json")}
    assert listed["Lost"]["orphaned"] is True and "orphaned" not in listed["Fine"]
    assert [s["id"] for s in run.json("list", "--orphaned", "--json")] == [lost.id]
    assert "(orphaned: its PO file is gone)" in run("list")[1]
    copied = run.json("copy", "Lost", "--to-po", "writer", "--json")
    assert copied["id"] not in {s["id"] for s in run.json("list", "--orphaned", "--json")}


def test_without_po_files_nothing_is_orphaned(run: Run) -> None:
    """An environment of bare POs only (no objects/ files) marks nothing orphaned."""
    with _manager(run) as mgr:
        mgr.create("bare", "Fine")
    assert "orphaned" not in json.dumps(run.json("list", "--json"))


@pytest.mark.parametrize("mark", [b"", b"\xef\xbb\xbf"], ids=["plain", "byte-order mark"])
def test_po_rename_edits_a_front_matter_that_names_the_po(run: Run, mark: bytes) -> None:
    """A PO file whose front matter says `name: old` gets `name: new` and is renamed, with or
    without a byte-order mark before it (kept); the sessions move and the answer says so."""
    (run.store / "objects").mkdir()
    (run.store / "objects" / "old.md").write_bytes(mark + b"---\nname: old\n---\nHi.\n")
    with _manager(run) as mgr:
        mgr.create("old", "A")
    code, out, _ = run("po", "rename", "old", "new")
    assert code == 0 and "set its front matter to 'name: new'" in out
    assert not (run.store / "objects" / "old.md").exists()
    new_file = run.store / "objects" / "new.md"
    assert new_file.read_bytes() == mark + b"---\nname: new\n---\nHi.\n"
    assert [s["po_name"] for s in run.json("list", "--json")] == ["new"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_po_rename_takes_trashed_sessions_along(run: Run, backend: str) -> None:
    """po rename gives the trashed sessions of OLD the name NEW too and counts them in its
    line and its JSON; ``restore`` then brings one back under NEW (not under a PO that no
    longer exists); another PO's trash is untouched; a PO found only in the trash can be
    renamed too."""
    _use(run, backend)
    with _manager(run) as mgr:
        live = mgr.create("old", "Live")
        gone = mgr.create("old", "Gone")
        mgr.append(gone.id, Message(role="user", content="kept"))
        other = mgr.create("keep", "Other")
        mgr.delete(gone.id)
        mgr.delete(other.id)
    before = {e["id"]: e for e in run.json("trash", "--json")}
    code, out, _ = run("po", "rename", "old", "new")
    assert (code, out) == (0, "Moved 1 session to new, and 1 in the trash\n")
    after = {e["id"]: e for e in run.json("trash", "--json")}
    assert after[gone.id]["po_name"] == "new" and after[other.id]["po_name"] == "keep"
    assert after[gone.id]["deleted_at"] == before[gone.id]["deleted_at"]
    assert run("restore", gone.id)[0] == 0
    shown = run.json("show", gone.id, "--json")
    assert shown["po_name"] == "new" and [m["content"] for m in shown["history"]] == ["kept"]
    assert sorted(s["id"] for s in run.json("list", "--po", "new", "--json")) == sorted(
        [live.id, gone.id]
    )
    assert run.json("list", "--po", "old", "--json") == []
    report = run.json("po", "rename", "keep", "kept", "--json")
    assert report["sessions"] == [] and [s["id"] for s in report["trashed"]] == [other.id]
    assert report["trashed"][0]["po_name"] == "kept"
