"""config set storage.backend NEW, when the store in use holds sessions that NEW lacks, says so
and names the commands that copy them (switching copies nothing; migrate does, DESIGN 13)."""

from __future__ import annotations

from cli_runner import Run


def _note(count: str, old: str, new: str, verb: str = "are") -> str:
    return (
        f"Note: {count} of the {old} store {verb} not in the {new} store (switching copies "
        f"nothing); to copy them: prompt-sessions config set storage.backend {old}, "
        f"prompt-sessions migrate --to {new}, then set {new} again\n"
    )


def test_switching_away_from_sessions_says_how_to_copy_them(run: Run) -> None:
    """With two json sessions, switching to sqlite notes the two left behind and list is
    empty; switching back to json says nothing (it has them all)."""
    run("new", "coordinator", "--name", "One")
    run("new", "coordinator", "--name", "Two")
    assert run("config", "set", "storage.backend", "sqlite") == (
        0,
        "storage.backend = sqlite\n",
        _note("2 sessions", "json", "sqlite"),
    )
    assert run("list") == (0, "No sessions.\n", "")
    assert run("config", "set", "storage.backend", "json") == (0, "storage.backend = json\n", "")


def test_no_note_once_migrated_or_for_an_empty_store(run: Run) -> None:
    """After migrate --to sqlite the switch is silent; so is a switch from an empty store, and
    setting the backend already in use. One session left behind is counted in the singular."""
    assert run("config", "set", "storage.backend", "sqlite")[2] == ""
    assert run("config", "set", "storage.backend", "json")[2] == ""
    run("new", "coordinator", "--name", "One")
    assert run("migrate", "--to", "sqlite")[0] == 0
    assert run("config", "set", "storage.backend", "sqlite")[2] == ""
    assert run("config", "set", "storage.backend", "sqlite")[2] == ""
    run("new", "coordinator", "--name", "Only in sqlite")
    assert run("config", "set", "storage.backend", "json")[2] == _note(
        "1 session", "sqlite", "json", "is"
    )
