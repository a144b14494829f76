"""A long session name is cut before the "(...)" mark that tells a fork or copy from its
original, in list and trash, so the two rows are told apart (DESIGN section 14)."""

from __future__ import annotations

from cli_runner import Run

LONG = "Plan the 1.0 release with the whole team"  # 40 cells: the NAME column's most


def test_list_and_trash_keep_the_before_rewind_mark_in_sight(run: Run) -> None:
    """After a rewind, list shows the session and its fork as two different names, the fork's
    ending in "(before rewind)"; deleted, the fork shows the same way in trash."""
    sid = str(run.json("new", "coordinator", "--name", LONG, "--json")["id"])
    for text in ("one", "two"):
        assert run("send", "coordinator", text, "--session", sid)[0] == 0
    assert run("rewind", sid, "--to", "2")[0] == 0
    code, out, _ = run("list")
    names = [line[12:52] for line in out.splitlines()[1:]]
    assert code == 0
    assert sorted(names) == [LONG, "Plan the 1.0 release wi… (before rewind)"]
    assert run("delete", f"{LONG} (before rewind)", "--yes")[0] == 0
    code, out, _ = run("trash")
    assert code == 0 and "Plan the 1.0 release wi… (before rewind)" in out.splitlines()[1]
