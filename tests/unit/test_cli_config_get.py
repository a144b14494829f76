"""config get of a core setting that config.toml does not set prints its default (a Note on
stderr says so); a key with no default stays an error."""

from __future__ import annotations

from cli_runner import Run

NOTE = "Note: not set in config.toml; this is the default\n"


def test_an_unset_core_setting_prints_its_default(run: Run) -> None:
    """storage.backend, runtime.max_generating and responder are not in the fixture's
    config.toml: each prints the default (json, 5, echo), noted on stderr."""
    assert run("config", "get", "storage.backend") == (0, "json\n", NOTE)
    assert run("config", "get", "runtime.max_generating") == (0, "5\n", NOTE)
    assert run("config", "get", "responder") == (0, "echo\n", NOTE)


def test_a_set_value_wins_and_has_no_note(run: Run) -> None:
    """Once set, the value is printed without a note."""
    assert run("config", "set", "runtime.max_generating", "2")[0] == 0
    assert run("config", "get", "runtime.max_generating") == (0, "2\n", "")


def test_keys_without_a_default_are_still_not_set(run: Run) -> None:
    """A known table that config.toml does not set is a one-line "not set" error as before
    (an unknown key is an error of its own: test_config_keys)."""
    for key in ("storage", "runtime", "storage.sqlite"):
        code, out, err = run("config", "get", key)
        assert (code, out, err) == (1, "", f"Error: '{key}' is not set\n")
