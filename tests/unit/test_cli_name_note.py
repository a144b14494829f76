"""new --name and rename note a name that cannot name the session in later commands (another
session bears it, or an id starts with it), with the id to use instead."""

from __future__ import annotations

from cli_runner import Run


def test_a_second_session_of_one_name_is_noted(run: Run) -> None:
    """The second "Plan" is made, with a note giving its id; a unique name gets no note."""
    assert run("new", "po", "--name", "Plan")[2] == ""
    code, out, err = run("new", "other", "--name", "Plan", "--json")
    assert code == 0
    sid = run.json("list", "--po", "other", "--json")[0]["id"]
    assert err == (
        "Note: another session is also called 'Plan', or has an id starting with it: "
        f"name this one by its id, {sid[:8]}\n"
    )


def test_a_rename_to_an_id_prefix_of_another_session_is_noted(run: Run) -> None:
    """Renaming a session to the first characters of another's id is kept, and noted."""
    first = run.json("new", "po", "--name", "One", "--json")["id"]
    run("new", "po", "--name", "Two")
    code, out, err = run("rename", "Two", first[:4])
    assert (code, out) == (0, f"Renamed 'Two' to '{first[:4]}'\n")
    assert err.startswith(f"Note: another session is also called '{first[:4]}'")
    assert run("rename", first[:8], "Uno")[2] == ""
