"""config.toml is checked against one typed schema: bad values and unknown keys are one-line errors
naming the key, `config set` writes nothing it would refuse to read, and comments are kept aside."""

from __future__ import annotations

import tomllib
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cli_runner import Run

from prompt_sessions import hookimpl
from prompt_sessions.config import ConfigError, check_config, set_value
from prompt_sessions.config_schema import (
    Config,
    EchoOptions,
    PriceConfig,
    RuntimeConfig,
    StorageConfig,
    UiConfig,
)
from prompt_sessions.default_plugins.echo import EchoResponder
from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost


def host_with(*plugins: object) -> PluginHost:
    return PluginHost.create(entry_points=False, plugins=plugins, warn=lambda text: None)


def refused(data: dict[str, Any], host: PluginHost | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        check_config(data, host or host_with())
    return str(info.value)


# ---------------------------------------------------------------- the examples


def test_lock_timeout_as_text_is_one_line_naming_the_key() -> None:
    """`lock_timeout = "ten"` says which key and what it wants, not `unexpected ValueError`."""
    assert refused({"storage": {"lock_timeout": "ten"}}) == (
        'config.toml: storage.lock_timeout: expected a number, got text "ten"'
    )


def test_misspelled_key_names_it_with_a_hint() -> None:
    """A typo is an error naming the key and the closest known one."""
    assert refused({"storage": {"lock_timout": 5}}) == (
        "config.toml: storage.lock_timout: unknown key; did you mean 'lock_timeout'?"
    )
    assert refused({"responderz": "echo"}) == (
        "config.toml: responderz: unknown key; did you mean 'responder'?"
    )
    assert refused({"runtime": {"zzz": 1}}).startswith(
        "config.toml: runtime.zzz: unknown key; known: buffer_limit_bytes, checkpoint_ms, "
        "max_generating"
    )


def test_unknown_backend_lists_the_known_ones() -> None:
    """`storage.backend = "nosuch"` lists the backends that exist."""
    assert refused({"storage": {"backend": "nosuch"}}) == (
        "config.toml: storage.backend: unknown storage backend 'nosuch'; known: json, sqlite"
    )


def test_a_table_set_to_a_value_is_refused() -> None:
    """`storage = "x"` (a table given a value) is refused naming the table."""
    assert refused({"storage": "x"}) == ('config.toml: storage: expected a table, got text "x"')
    assert refused({"responders": {"echo": 3}}) == (
        "config.toml: responders.echo: expected a table, got 3"
    )
    assert refused({"prices": {"gpt-4o": 3}}) == (
        "config.toml: prices.gpt-4o: expected a table, got 3"
    )


# ---------------------------------------------------------------- every key's type


TABLES = {
    "storage": StorageConfig,
    "runtime": RuntimeConfig,
    "ui": UiConfig,
    "prices.gpt-4o": PriceConfig,
    "responders.echo": EchoOptions,
}


def leaf_keys() -> list[tuple[str, str, Any]]:
    """(dotted table, key, a value of the wrong type) for every key the schema declares."""
    inspect = msgspec.inspect
    wrong = {inspect.IntType: "abc", inspect.FloatType: "abc", inspect.StrType: 5}
    wrong[inspect.BoolType] = "yes"
    cases = []
    for table, schema in TABLES.items():
        info = inspect.type_info(schema)
        assert isinstance(info, inspect.StructType)
        for field in info.fields:
            if field.name == "sections":
                continue
            kind = field.type.type if isinstance(field.type, inspect.Metadata) else field.type
            cases.append((table, field.name, wrong[type(kind)]))
    return cases


def test_the_key_list_covers_every_table_of_the_schema() -> None:
    """Every table the Config tree declares is among those whose keys are tried below."""
    tables = set()
    for field in msgspec.inspect.type_info(Config).fields:  # type: ignore[union-attr]
        kind = field.type.type if isinstance(field.type, msgspec.inspect.Metadata) else field.type
        if isinstance(kind, msgspec.inspect.StructType):
            tables.add(kind.cls)
        elif isinstance(kind, msgspec.inspect.DictType) and isinstance(
            kind.value_type, msgspec.inspect.StructType
        ):
            tables.add(kind.value_type.cls)
    assert tables <= set(TABLES.values())


@pytest.mark.parametrize(("table", "key", "bad"), leaf_keys(), ids=lambda v: str(v))
def test_every_key_refuses_the_wrong_type(table: str, key: str, bad: Any) -> None:
    """Each declared key refuses a value of the wrong type, naming its full dotted path."""
    data: dict[str, Any] = {}
    node = data
    for part in table.split("."):
        node = node.setdefault(part, {})
    node[key] = bad
    message = refused(data)
    assert message.startswith(f"config.toml: {table}.{key}: expected ")
    assert "\n" not in message


def test_top_level_responder_must_be_text() -> None:
    """`responder = 5` is refused; an empty name too."""
    assert refused({"responder": 5}) == "config.toml: responder: expected text, got 5"
    assert refused({"responder": ""}).startswith("config.toml: responder: expected text of length")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (
            {"runtime": {"max_generating": 0}},
            "runtime.max_generating: expected a whole number >= 1",
        ),
        ({"runtime": {"retry_jitter": 1.5}}, "runtime.retry_jitter: expected a number <= 1.0"),
        ({"storage": {"lock_timeout": -1}}, "storage.lock_timeout: expected a number >= 0"),
        ({"prices": {"m": {"input": -2}}}, "prices.m.input: expected a number >= 0"),
        ({"prices": {"m": {"inptu": 2}}}, "prices.m.inptu: unknown key; did you mean 'input'?"),
        ({"responders": {"echo": {"fail_time": 1}}}, "did you mean 'fail_times'?"),
        ({"storage": {"sqlit": {"x": 1}}}, "storage.sqlit: not a storage backend; did you mean"),
    ],
)
def test_ranges_and_nested_tables(data: dict[str, Any], words: str) -> None:
    """Limits, price tables, responder tables and backend sub-tables are checked by key."""
    assert words in refused(data)


def test_a_valid_config_is_typed() -> None:
    """A config using every core table converts to the typed tree with its values."""
    config = check_config(
        {
            "responder": "echo",
            "storage": {"backend": "sqlite", "lock_timeout": 3},
            "runtime": {"max_generating": 2, "retry_base_ms": 5},
            "ui": {"frontend": "tui"},
            "responders": {"echo": {"chunk_delay_ms": 0}, "other": {"anything": [1, 2]}},
            "prices": {"gpt-4o": {"input": 2.5, "output": 10}},
        },
        host_with(),
    )
    assert config.storage.lock_timeout == 3.0 and config.storage.backend == "sqlite"
    assert config.runtime.max_generating == 2
    assert config.responders["echo"] == EchoOptions(chunk_delay_ms=0)
    assert config.responders["other"] == {"anything": [1, 2]}, "no schema: free-form"
    assert config.prices["gpt-4o"].output == 10.0
    assert check_config({}) == Config()


# ---------------------------------------------------------------- plugin tables


class PgOptions(msgspec.Struct, forbid_unknown_fields=True):
    dsn: str
    schema: str = "prompt_sessions"


class ToyBackendPlugin:
    """A storage plugin declaring a schema for [storage.toy]."""

    def __init__(self) -> None:
        self.seen: list[StorageConfig] = []

    def factory(self, root: Path, config: StorageConfig) -> Any:
        from prompt_sessions.storage.json_backend import JsonBackend

        self.seen.append(config)
        return JsonBackend(root, lock_timeout=config.lock_timeout)

    @hookimpl
    def register_storage_backends(self, register):  # type: ignore[no-untyped-def]
        factory = self.factory
        factory.__func__.config_schema = PgOptions  # type: ignore[attr-defined]
        register("toy", factory)


def test_a_backend_sub_table_is_checked_by_its_plugin_and_handed_over(tmp_path: Path) -> None:
    """[storage.toy] goes to the toy backend's factory as its declared Struct; typos are refused."""
    plugin = ToyBackendPlugin()
    host = host_with(plugin)
    config = {"storage": {"backend": "toy", "toy": {"dsn": "x://y"}}}
    with SessionManager.open(tmp_path / "env", host=host, config=config):
        pass
    assert plugin.seen[-1].sections == {"toy": PgOptions(dsn="x://y")}
    assert refused({"storage": {"toy": {"dns": "x"}}}, host) == (
        "config.toml: storage.toy.dns: unknown key; did you mean 'dsn'?"
    )


def test_a_responder_schema_comes_from_its_factory() -> None:
    """Echo declares EchoOptions; front matter keys that are not echo's are left alone."""
    assert EchoResponder.config_schema is EchoOptions
    assert EchoResponder({"chunk_delay_ms": 5, "temperature": 0.2}).chunk_delay == 0.005
    with pytest.raises(ConfigError, match="responders.echo.fail_times: expected a whole number"):
        EchoResponder({"fail_times": "two"})


# ---------------------------------------------------------------- the Python API and the CLI


def test_session_manager_open_refuses_a_bad_config_file(tmp_path: Path) -> None:
    """SessionManager.open raises ConfigError naming the key; nothing is created."""
    root = tmp_path / "env"
    root.mkdir()
    (root / "config.toml").write_text('[storage]\nlock_timeout = "ten"\n')
    with pytest.raises(ConfigError, match="storage.lock_timeout: expected a number"):
        SessionManager.open(root, host=host_with())
    (root / "config.toml").write_text("[runtime]\nmax_generating = 0\n")
    with pytest.raises(ConfigError, match="runtime.max_generating"):
        SessionManager.open(root, host=host_with())
    assert sorted(p.name for p in root.iterdir()) == ["config.toml"]


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[storage]\nlock_timeout = "ten"\n', "storage.lock_timeout: expected a number"),
        ("[storage]\nlock_timout = 3\n", "did you mean 'lock_timeout'?"),
        ('[storage]\nbackend = "nosuch"\n', "known: json, sqlite"),
        ("[runtime]\nmax_generating = 'abc'\n", "runtime.max_generating: expected a whole"),
        ("[responders.echo]\nchunk_delay_ms = 'slow'\n", "responders.echo.chunk_delay_ms"),
    ],
)
@pytest.mark.parametrize("command", [(), ("list",), ("show", "x"), ("send", "po", "hi")])
def test_every_command_and_the_tui_report_a_bad_config_in_one_line(
    run: Run, toml: str, words: str, command: tuple[str, ...]
) -> None:
    """A bad config.toml is one `Error: config.toml: ...` line and exit 1: the TUI start (no
    command) included, before any screen opens."""
    run.store.mkdir(parents=True, exist_ok=True)
    (run.store / "config.toml").write_text(toml)
    code, out, err = run(*command)
    assert code == 1
    assert err.startswith("Error: config.toml: ") and words in err
    assert err.count("\n") == 1 and "unexpected" not in err
    assert out == ""


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        (
            "runtime.max_generating",
            "abc",
            'runtime.max_generating: expected a whole number, got text "abc"',
        ),
        (
            "storage.backend",
            "nosuch",
            "storage.backend: unknown storage backend 'nosuch'; known: json, sqlite",
        ),
        ("storage", "x", 'storage: expected a table, got text "x"'),
        ("storage.lock_timeout", "ten", "storage.lock_timeout: expected a number"),
        (
            "storage.lock_timout",
            "3",
            "storage.lock_timout: unknown key; did you mean 'lock_timeout'?",
        ),
        ("runtime", "5", "runtime: expected a table, got 5"),
        (
            "responders.echo.fail_always",
            "maybe",
            "responders.echo.fail_always: expected true or false",
        ),
        ("prices.gpt-4o.input", "cheap", "prices.gpt-4o.input: expected a number"),
        ("ui.theme", "dark", "ui.theme: unknown key"),
        ("responder", "nosuch", "responder: unknown responder 'nosuch'; known: echo"),
        ("ui.frontend", "nosuch", "ui.frontend: unknown frontend 'nosuch'; known: mcp, tui, web"),
        ("nosuch.key", "1", "nosuch: unknown key"),
        # A value that starts with "-" is the value, not an option.
        ("runtime.max_generating", "-3", "runtime.max_generating: expected a whole number >= 1"),
    ],
)
def test_config_set_refuses_and_writes_nothing(run: Run, key: str, value: str, words: str) -> None:
    """`config set` checks the whole new file first: a refused value leaves the file as it was."""
    run.store.mkdir(parents=True, exist_ok=True)
    path = run.store / "config.toml"
    before = path.read_bytes() if path.exists() else None
    code, out, err = run("config", "set", key, value)
    assert code == 1, out
    assert err.startswith(f"Error: config.toml: {words}") and err.count("\n") == 1
    assert (path.read_bytes() if path.exists() else None) == before
    assert not (run.store / "config.toml.bak").exists()
    assert run("list")[0] == 0, "every command still works"


@pytest.fixture
def llm_installed(
    run: Run, monkeypatch: pytest.MonkeyPatch, fake_entry_points: Callable[..., None]
) -> None:
    """An installed plugin (after ``run``, which loads none) with a responder ``llm`` that,
    like the llm plugin, declares no settings: its ``[responders.llm]`` table takes any key."""
    module = types.ModuleType("config_schema_llm_plugin")

    class Unchecked(EchoResponder):
        config_schema = None

    @hookimpl
    def register_responders(register: Callable[..., None]) -> None:
        register("llm", Unchecked)

    module.register_responders = register_responders  # type: ignore[attr-defined]
    fake_entry_points(llm=module)
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "llm")


@pytest.mark.usefixtures("llm_installed")
def test_config_set_accepts_good_values_and_get_reads_them(run: Run) -> None:
    """Good values of each kind are written and read back by `config get`."""
    for key, value in [
        ("storage.lock_timeout", "2.5"),
        ("runtime.max_generating", "3"),
        ("prices.gpt-4o.output", "10"),
        ("responders.llm.model", "gpt-4o-mini"),
        ("responder", "echo"),
    ]:
        code, _, err = run("config", "set", key, value)
        assert code == 0, err
    assert run("config", "get", "storage.lock_timeout")[1] == "2.5\n"
    assert run("config", "get", "responders.llm.model")[1] == "gpt-4o-mini\n"


@pytest.mark.usefixtures("llm_installed")
def test_config_set_keeps_comments_order_and_spacing(run: Run) -> None:
    """`config set` edits the file in place: its comments, order and blank lines stay, a new
    key joins its table, a new table joins its parent's or goes at the end, and no backup or
    note is made."""
    run.store.mkdir(parents=True, exist_ok=True)
    path = run.store / "config.toml"
    head = (
        "# my settings\n"
        'responder = "echo"  # offline\n'
        "\n"
        "[responders.echo]\n"
        "# pause between chunks\n"
        "chunk_delay_ms = 0  # fast\n"
        "\n"
    )
    path.write_text(head + '[storage]\nbackend = "json"  # files\n')
    for key, value in [
        ("storage.backend", "sqlite"),
        ("storage.lock_timeout", "4"),
        ("responders.llm.model", "local"),
        ('prices."claude-3.5-sonnet".input', "3"),
    ]:
        code, _, err = run("config", "set", key, value)
        assert (code, err) == (0, "")
    assert path.read_text() == head + (
        "[responders.llm]\n"
        'model = "local"\n'
        "\n"
        "[storage]\n"
        'backend = "sqlite"  # files\n'
        "lock_timeout = 4\n"
        "\n"
        '[prices."claude-3.5-sonnet"]\n'
        "input = 3\n"
    )
    assert not (run.store / "config.toml.bak").exists()


def test_config_set_writes_anew_with_a_backup_when_the_file_cannot_be_edited(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the in-place edit not read back as the checked data, the file is written anew:
    its comments are then kept in config.toml.bak, and `config set` says so in one line."""
    from prompt_sessions import config as config_module

    monkeypatch.setattr(config_module, "_edited", lambda *args: None)
    run.store.mkdir(parents=True, exist_ok=True)
    path = run.store / "config.toml"
    original = b"# my settings\n[responders.echo]\nchunk_delay_ms = 0  # fast\n"
    path.write_bytes(original)
    code, out, err = run("config", "set", "storage.lock_timeout", "4")
    assert code == 0
    assert out == "storage.lock_timeout = 4\n"
    assert (
        err
        == "Note: config.toml had comments, which are not kept; the old file is config.toml.bak\n"
    )
    assert (run.store / "config.toml.bak").read_bytes() == original
    assert tomllib.loads(path.read_text()) == {
        "responders": {"echo": {"chunk_delay_ms": 0}},
        "storage": {"lock_timeout": 4},
    }


def test_config_set_without_comments_makes_no_backup(tmp_path: Path) -> None:
    """A `#` inside a value is not a comment: no backup, no note."""
    set_value(tmp_path, "responders.llm.system", "use # for headings")
    assert set_value(tmp_path, "storage.lock_timeout", 3) is None
    assert not (tmp_path / "config.toml.bak").exists()


def test_config_get_works_on_a_bad_config(run: Run) -> None:
    """`config get` reads a file other commands refuse, so the user can look at it."""
    run.store.mkdir(parents=True, exist_ok=True)
    (run.store / "config.toml").write_text('[storage]\nlock_timeout = "ten"\n')
    assert run("config", "get", "storage.lock_timeout") == (0, "ten\n", "")
    code, _, err = run("config", "set", "storage.lock_timeout", "10")
    assert code == 0, err
    assert run("list")[0] == 0
