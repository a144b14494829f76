"""`config get` and `config set` of a key that neither the core's schema nor an installed
plugin's declared settings know: one `Error:` line naming the key and the nearest known key(s),
exit 1, nothing written (DESIGN sections 3 and 6). A known key that is simply unset keeps
printing its default or saying it is not set."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest
from cli_runner import Run

from prompt_sessions import hookimpl
from prompt_sessions.config_keys import check_key
from prompt_sessions.errors import UsageError

NOTE = "Note: not set in config.toml; this is the default\n"


def _responder(name: str, schema: type[Any] | None = None) -> types.ModuleType:
    """A plugin module registering one responder ``name`` whose factory declares ``schema``."""

    class Factory:
        config_schema = schema

    module = types.ModuleType(f"config_keys_{name}_plugin")

    @hookimpl
    def register_responders(register: Callable[..., None]) -> None:
        register(name, Factory)

    module.register_responders = register_responders  # type: ignore[attr-defined]
    return module


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch, fake_entry_points: Callable[..., None]) -> None:
    """An installed plugin with a responder ``remote`` that declares no settings."""
    fake_entry_points(remote=_responder("remote"))
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "remote")


@pytest.mark.parametrize(
    ("key", "said"),
    [
        (
            "responders.ech.chunk_delay_ms",
            "did you mean 'responders.echo.chunk_delay_ms'?",
        ),
        ("responders.echo.chunk_dely_ms", "did you mean 'responders.echo.chunk_delay_ms'?"),
        ("runtime.max_generatin", "did you mean 'runtime.max_generating'?"),
        ("storage.backnd", "did you mean 'storage.backend'?"),
        ("prices.gpt-4o.inptu", "did you mean 'prices.gpt-4o.input'?"),
        ("backend", "did you mean 'storage.backend'?"),
        ("reponder", "did you mean 'responder' or 'responders'?"),
        ("defualt_po", "known: prices, responder, responders, runtime, storage, ui"),
        ("ui.theme", "known in [ui]: ui.frontend"),
        ("storage.backend.name", ": 'storage.backend' is a value, not a table"),
        ("responders.nosuch.model", ": no responder 'nosuch'; installed: echo"),
    ],
)
def test_config_get_of_an_unknown_key_names_it_and_the_nearest(
    run: Run, key: str, said: str
) -> None:
    """A mistyped key is one `Error:` line naming it and the nearest known key(s) (or the
    keys of the table where it went wrong), exit 1, not "is not set"."""
    code, out, err = run("config", "get", key)
    assert (code, out) == (1, "")
    assert err.startswith(f"Error: unknown config key '{key}'")
    assert err.endswith(f"{said}\n") and err.count("\n") == 1


@pytest.mark.parametrize(
    "key", ["responders.ech.chunk_delay_ms", "responders.nosuch.model", "storage.postgre.dsn"]
)
def test_config_set_of_an_unknown_key_writes_nothing(run: Run, key: str) -> None:
    """`config set` refuses a key in the table of a responder or backend that is not
    installed in the same words as `config get`, and leaves config.toml as it was."""
    before = (run.store / "config.toml").read_bytes()
    code, out, err = run("config", "set", key, "5")
    assert (code, out) == (1, "")
    assert err.startswith("Error: ") and err.count("\n") == 1
    assert f"'{key}'" in err or key.split(".")[1] in err
    assert (run.store / "config.toml").read_bytes() == before
    assert run("config", "get", key)[0] == 1


def test_a_known_unset_key_prints_its_default_or_is_not_set(run: Run) -> None:
    """Known keys that config.toml does not set: a single value with a default prints it
    (a plugin's declared default too: echo's fail_times), a table or a key without a default
    is "not set", and a model id under [prices] takes the price table's keys."""
    assert run("config", "get", "responders.echo.fail_times") == (0, "0\n", NOTE)
    assert run("config", "get", "prices.gpt-4o.input") == (0, "0.0\n", NOTE)
    assert run("config", "get", 'prices."claude-3.5".output') == (0, "0.0\n", NOTE)
    for key in ("runtime", "storage.sqlite", "prices.gpt-4o"):
        assert run("config", "get", key) == (1, "", f"Error: '{key}' is not set\n")


def test_a_plugin_table_without_a_schema_takes_any_key(run: Run, remote: None) -> None:
    """An installed responder that declares no settings reads its table as it is: any key
    there is known (unset: "not set"), set and read back; a near miss of its name is not."""
    assert run("config", "get", "responders.remote.model") == (
        1,
        "",
        "Error: 'responders.remote.model' is not set\n",
    )
    assert run("config", "set", "responders.remote.model", "big")[0] == 0
    assert run("config", "get", "responders.remote.model") == (0, "big\n", "")
    code, _, err = run("config", "get", "responders.remot.model")
    assert code == 1
    assert err == (
        "Error: unknown config key 'responders.remot.model'; "
        "did you mean 'responders.remote.model'?\n"
    )


def test_a_value_the_file_holds_is_printed_even_under_an_unknown_name(run: Run) -> None:
    """Reading what config.toml says never fails for the name: a hand-written table of a
    responder that is not installed is still printed by `config get`."""
    (run.store / "config.toml").write_text('[responders.gone]\nmodel = "m"\n')
    assert run("config", "get", "responders.gone.model") == (0, "m\n", "")


def test_check_key_without_a_host_judges_the_core_keys_only() -> None:
    """With no plugin host, plugin tables take any key but core typos are still refused."""
    assert check_key("responders.anything.at_all", None).default is None
    assert check_key("storage.backend", None).default == "json"
    with pytest.raises(UsageError, match="did you mean 'storage.lock_timeout'"):
        check_key("storage.lock_timout", None)


def test_doctor_reports_a_hand_written_table_nothing_knows(run: Run) -> None:
    """A `[responders.ech]` table written by hand is taken as it is by every command; `doctor`
    names it with the nearest known key, as a setup line that leaves the exit status the
    store's; a known table gets no such line."""
    (run.store / "config.toml").write_text(
        "[responders.echo]\nchunk_delay_ms = 0\n\n[responders.ech]\nfail_times = 1\n"
        "\n[prices.gpt-4o]\ninput = 2.5\n"
    )
    run.store.chmod(0o700)  # private, as the store makes its folder (doctor says so otherwise)
    (run.store / "config.toml").chmod(0o600)
    code, out, _ = run("doctor")
    lines = [line for line in out.splitlines() if line.startswith("UNKNOWN CONFIG KEY")]
    assert lines == ["UNKNOWN CONFIG KEY 'responders.ech'; did you mean 'responders.echo'?"]
    assert code == 0
    (run.store / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    assert "UNKNOWN CONFIG KEY" not in run("doctor")[1]
