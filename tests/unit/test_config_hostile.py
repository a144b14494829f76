"""Hostile keys and values for ``config set`` and in a hand-edited config.toml (DESIGN
section 3): infinity is refused where a number of seconds, milliseconds or money is asked
for, and every error is one printable line; nothing is written."""

from __future__ import annotations

import pytest
from cli_runner import Run


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("responders.echo.chunk_delay_ms", "inf"),
        ("storage.lock_timeout", "1e999"),
        ("runtime.retry_base_ms", "+inf"),
        ("prices.some-model.input", "inf"),
    ],
)
def test_an_infinite_number_is_refused(run: Run, key: str, value: str) -> None:
    """TOML reads `inf` and `1e999` as infinity; a wait or price that large would hang a
    reply or cost the earth, so `config set` refuses it in one line and writes nothing."""
    before = (run.store / "config.toml").read_bytes()
    code, out, err = run("config", "set", key, value)
    assert (code, out) == (1, "")
    assert err == f"Error: config.toml: {key}: expected a finite number, not Infinity\n"
    assert (run.store / "config.toml").read_bytes() == before


def test_an_infinite_number_in_the_file_is_one_line_naming_the_key(run: Run) -> None:
    """A config.toml edited by hand to say `inf` is refused by every command, naming the key,
    and `config set` of a finite value puts it right."""
    (run.store / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = inf\n")
    code, _, err = run("list")
    assert code == 1
    assert err == (
        "Error: config.toml: responders.echo.chunk_delay_ms: expected a finite number, "
        "not Infinity\n"
    )
    assert run("config", "set", "responders.echo.chunk_delay_ms", "0")[0] == 0
    assert run("list")[0] == 0


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("set", "x\ny", "1"), "Error: invalid config key 'x\\ny': "),
        (("get", "a\nb"), "Error: invalid config key 'a\\nb': "),
        (("set", '"a\\nb"', "1"), "Error: config.toml: a\\nb: unknown key"),
        (("set", "storage.backend", "json\n[x]"), "Error: config.toml: storage.backend: "),
        (("set", "ui.frontend", "\x1b[31mred"), "Error: config.toml: ui.frontend: "),
    ],
)
def test_line_breaks_and_escapes_in_keys_and_values_stay_on_one_line(
    run: Run, args: tuple[str, ...], said: str
) -> None:
    """A key or value holding a line break or a terminal escape is shown escaped: the error
    is one line, and the terminal is not driven by it."""
    code, out, err = run("config", *args)
    assert (code, out) == (1, "")
    assert err.startswith(said)
    assert err.count("\n") == 1 and "\x1b" not in err


def test_a_config_nested_too_deep_is_one_line(run: Run) -> None:
    """A config.toml nesting lists thousands deep (or a few hundred: deep enough to exhaust
    the steps that read it) is refused in one line by every command, not a RecursionError."""
    for depth in (5000, 500):
        (run.store / "config.toml").write_text("x = " + "[" * depth + "]" * depth + "\n")
        code, out, err = run("list")
        assert (code, out) == (1, "")
        assert err == (f"Error: {run.store / 'config.toml'} nests values deeper than 32 levels\n")


@pytest.mark.parametrize("depth", [5000, 500])
def test_a_value_nested_too_deep_is_refused_by_config_set(run: Run, depth: int) -> None:
    """``config set`` of a value nesting lists too deep says so in one line and writes
    nothing."""
    before = (run.store / "config.toml").read_bytes()
    code, out, err = run("config", "set", "prices.m.input", "[" * depth + "]" * depth)
    assert (code, out, err) == (1, "", "Error: the value nests deeper than 32 levels\n")
    assert (run.store / "config.toml").read_bytes() == before
