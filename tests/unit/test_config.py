"""config.toml: read with tomllib, written with tomli-w, dotted keys."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from prompt_sessions.config import (
    ConfigError,
    get_value,
    load_config,
    parse_value,
    section,
    set_value,
)
from prompt_sessions.errors import UsageError


def test_missing_config_is_empty(tmp_path: Path) -> None:
    """No config.toml means no settings, not an error."""
    assert load_config(tmp_path) == {}


def test_bad_toml_is_a_clear_error(tmp_path: Path) -> None:
    """Invalid TOML raises ConfigError naming the file."""
    (tmp_path / "config.toml").write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="config.toml"):
        load_config(tmp_path)
    (tmp_path / "config.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError):
        load_config(tmp_path)


def test_unreadable_config_is_a_clear_error(tmp_path: Path) -> None:
    """A config.toml that cannot be read (here a folder) raises ConfigError naming the file."""
    (tmp_path / "config.toml").mkdir()
    with pytest.raises(
        ConfigError, match=f"cannot read {tmp_path / 'config.toml'}: Is a directory"
    ):
        load_config(tmp_path)


def test_set_then_get_dotted_keys(tmp_path: Path) -> None:
    """set_value creates tables as needed, keeps other keys, and writes a private TOML file."""
    root = tmp_path / "env"
    set_value(root, "responders.echo.chunk_delay_ms", 0)
    set_value(root, "storage.backend", "json")
    set_value(root, "responders.echo.fail_times", 2)
    config = load_config(root)
    assert config == {
        "responders": {"echo": {"chunk_delay_ms": 0, "fail_times": 2}},
        "storage": {"backend": "json"},
    }
    assert get_value(config, "responders.echo.fail_times") == 2
    assert tomllib.loads((root / "config.toml").read_text()) == config
    assert stat.S_IMODE((root / "config.toml").stat().st_mode) == 0o600


def test_get_unset_key(tmp_path: Path) -> None:
    """Reading a key that is not set is a UsageError naming it."""
    with pytest.raises(UsageError, match="storage.backend"):
        get_value({}, "storage.backend")
    with pytest.raises(UsageError):
        get_value({"storage": "json"}, "storage.backend")


@pytest.mark.parametrize("key", ["", ".", "a..b", "a. .b", "trailing."])
def test_invalid_keys(tmp_path: Path, key: str) -> None:
    """Empty key parts are refused."""
    with pytest.raises(UsageError):
        set_value(tmp_path, key, 1)


def test_cannot_set_inside_a_value(tmp_path: Path) -> None:
    """Setting storage.backend.x when storage.backend is a string is refused, file untouched."""
    set_value(tmp_path, "storage.backend", "json")
    before = (tmp_path / "config.toml").read_bytes()
    with pytest.raises(UsageError, match="not a table"):
        set_value(tmp_path, "storage.backend.x", 1)
    assert (tmp_path / "config.toml").read_bytes() == before


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("1.5", 1.5),
        ("true", True),
        ('"quoted"', "quoted"),
        ("plain words", "plain words"),
        ("[1, 2]", [1, 2]),
    ],
)
def test_parse_value(text: str, value: object) -> None:
    """Command-line values are read as TOML when they parse, else as plain text."""
    assert parse_value(text) == value


def test_section_tolerates_missing_and_wrong_types() -> None:
    """section() returns a table or an empty dict, never raising."""
    config = {"responders": {"echo": {"chunk_delay_ms": 5}}, "storage": "oops"}
    assert section(config, "responders", "echo") == {"chunk_delay_ms": 5}
    assert section(config, "responders", "nope") == {}
    assert section(config, "storage") == {}
    assert section(config, "storage", "backend") == {}


def test_a_name_that_holds_dots_is_quoted_as_in_toml(tmp_path: Path) -> None:
    """A model id with dots is one quoted part of the key (TOML's own rule): set and get find
    it, and the file holds the id without the quotes."""
    set_value(tmp_path, 'prices."claude-3.5-sonnet".input', 3)
    set_value(tmp_path, "prices.'gpt-4.1'.output", 8)
    config = load_config(tmp_path)
    assert config == {"prices": {"claude-3.5-sonnet": {"input": 3}, "gpt-4.1": {"output": 8}}}
    assert get_value(config, 'prices."claude-3.5-sonnet".input') == 3


def test_an_unquoted_dotted_model_id_says_how_to_quote_it(tmp_path: Path) -> None:
    """`prices.claude-3.5-sonnet.input` splits the id at its dots; the error shows the quoted
    key to use, and nothing is written."""
    with pytest.raises(
        ConfigError, match=r'quote a model id that holds dots: prices\."claude-3\.5-sonnet"\.input'
    ):
        set_value(tmp_path, "prices.claude-3.5-sonnet.input", 3)
    assert not (tmp_path / "config.toml").exists()


def test_a_config_saved_with_a_byte_order_mark_is_read_and_set(tmp_path: Path) -> None:
    """A config.toml that starts with a UTF-8 byte-order mark (some editors write one) reads as
    its TOML, and `config set` edits it keeping its comment."""
    path = tmp_path / "config.toml"
    path.write_bytes(b'\xef\xbb\xbf# mine\n[storage]\nbackend = "json"\n')
    assert load_config(tmp_path) == {"storage": {"backend": "json"}}
    assert set_value(tmp_path, "storage.lock_timeout", 3) is None
    assert path.read_text() == '# mine\n[storage]\nbackend = "json"\nlock_timeout = 3\n'
