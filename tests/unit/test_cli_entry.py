"""The command line's entry point: exit codes for every way a command can end, plugin commands,
and the frontend opened when no command is given."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import click
import pytest

from cli_runner import Run
from prompt_sessions import __version__, hookimpl
from prompt_sessions.cli import cli
from prompt_sessions.context import AppContext
from prompt_sessions.errors import StorageError
from prompt_sessions.manager import SessionManager


@pytest.fixture(autouse=True)
def fresh_command_group(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Plugin commands are added to the process-wide click group once: start each test without."""
    monkeypatch.setattr(cli, "commands", {})
    monkeypatch.setattr(cli, "_plugins_added", False, raising=False)
    yield


def _failing_list(exc: BaseException) -> Callable[..., Any]:
    def fail(self: SessionManager, *args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


# ---------------------------------------------------------------- how commands end


def test_version_exits_0_with_the_version(run: Run) -> None:
    """--version prints the installed version and exits 0."""
    code, out, _ = run("--version")
    assert code == 0 and __version__ in out


def test_a_declined_confirmation_is_aborted_with_exit_1(run: Run) -> None:
    """No answer at a confirmation prompt (end of input) aborts: 'Aborted.' and exit 1."""
    run("new", "coordinator", "--name", "Kept")
    code, _, err = run("delete", "Kept", input="")
    assert code == 1 and err.endswith("Aborted.\n")
    assert [s["name"] for s in run.json("list", "--json")] == ["Kept"]


def test_ctrl_c_exits_130_with_one_line(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupt during a command ends it with 'Interrupted.' and the shell's code 130."""
    monkeypatch.setattr(SessionManager, "list", _failing_list(KeyboardInterrupt()))
    assert run("list") == (130, "", "\nInterrupted.\n")  # the blank line ends the ^C echo


def test_a_closed_output_pipe_ends_quietly(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """`prompt-sessions list | head` closing the pipe early is not an error: exit 0, no message."""
    monkeypatch.setattr(SessionManager, "list", _failing_list(BrokenPipeError()))
    assert run("list") == (0, "", "")


def test_an_unexpected_error_is_one_line_unless_debugging(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug is one 'Error: unexpected ...' line with exit 1; --debug shows the traceback."""
    monkeypatch.setattr(SessionManager, "list", _failing_list(RuntimeError("boom")))
    code, _, err = run("list")
    assert code == 1
    assert err == "Error: unexpected RuntimeError: boom (run with --debug for details)\n"
    with pytest.raises(RuntimeError, match="boom"):
        run("--debug", "list")


def test_debug_raises_the_projects_own_errors_too(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --debug a storage error propagates with its traceback instead of one line."""
    monkeypatch.setattr(SessionManager, "list", _failing_list(StorageError("disk on fire")))
    assert run("list") == (1, "", "Error: disk on fire\n")
    with pytest.raises(StorageError, match="disk on fire"):
        run("--debug", "list")


def test_an_unknown_command_is_a_usage_error(run: Run) -> None:
    """A command name neither built in nor from a plugin: exit 2 naming it."""
    code, _, err = run("frobnicate")
    assert code == 2 and err.endswith("Error: No such command 'frobnicate'.\n")


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("lst", "Did you mean 'list'?"),
        ("serch", "Did you mean 'search' or 'serve'?"),
        ("docter", "Did you mean 'doctor'?"),
    ],
)
def test_a_mistyped_command_names_the_commands_it_may_be(run: Run, typed: str, said: str) -> None:
    """A near miss of a command's name is refused (exit 2) with the commands it is closest to,
    and nothing runs."""
    code, out, err = run(typed, "anything")
    assert (code, out) == (2, "")
    assert err.endswith(f"Error: No such command '{typed}'. {said}\n")


# ---------------------------------------------------------------- plugin commands and frontends


def _plugin(**hooks: Callable[..., Any]) -> types.ModuleType:
    module = types.ModuleType("cli_test_plugin")
    for name, fn in hooks.items():
        fn.__name__ = name
        setattr(module, name, hookimpl(fn))
    return module


def _hello_commands(cli: click.Group) -> None:
    @cli.command()
    @click.argument("po")
    def hello(po: str) -> None:
        """Say hello to a PO."""
        click.echo(f"hello {po}")


def test_plugin_commands_run_and_are_listed_in_help(
    run: Run, monkeypatch: pytest.MonkeyPatch, fake_entry_points: Callable[..., None]
) -> None:
    """A command a plugin adds runs like a built-in one, and --help lists it beside them."""
    monkeypatch.delenv("PROMPT_SESSIONS_PLUGINS")
    fake_entry_points(greeter=_plugin(register_cli_commands=_hello_commands))
    assert run("hello", "coordinator") == (0, "hello coordinator\n", "")
    monkeypatch.setattr(cli, "commands", {})
    monkeypatch.setattr(cli, "_plugins_added", False)
    code, out, _ = run("--help")
    assert code == 0
    listed = out.split("Commands:", 1)[1].split()
    assert "hello" in listed and "list" in listed and "send" in listed


def test_a_plugin_whose_commands_fail_to_register_is_reported(
    run: Run, monkeypatch: pytest.MonkeyPatch, fake_entry_points: Callable[..., None]
) -> None:
    """A plugin raising in register_cli_commands is named in a warning; built-ins still work."""
    monkeypatch.delenv("PROMPT_SESSIONS_PLUGINS")

    def broken(cli: click.Group) -> None:
        raise ValueError("no commands today")

    fake_entry_points(broken=_plugin(register_cli_commands=broken))
    code, _, err = run("frobnicate")
    assert code == 2
    assert (
        "plugin 'broken' was not loaded: register_cli_commands raised ValueError: no commands today"
        in err
    )
    assert run("list", "--json")[0] == 0
    code, _, err = run("frobnicate")
    assert code == 2 and "broken" not in err  # plugins are asked for commands once per process


def test_no_command_opens_the_configured_frontend(
    run: Run, monkeypatch: pytest.MonkeyPatch, fake_entry_points: Callable[..., None]
) -> None:
    """Without a command, the frontend named by ui.frontend runs on the environment folder."""
    monkeypatch.delenv("PROMPT_SESSIONS_PLUGINS")
    opened: list[AppContext] = []

    def register_frontends(register: Callable[[str, Any], None]) -> None:
        register("recorder", opened.append)

    fake_entry_points(recorder=_plugin(register_frontends=register_frontends))
    run("config", "set", "ui.frontend", "recorder")
    assert run() == (0, "", "")
    assert [ctx.root for ctx in opened] == [run.store]


def test_an_unknown_frontend_lists_the_known_ones(run: Run) -> None:
    """ui.frontend naming no installed frontend is one error line listing those that exist, both
    from `config set` (which then writes nothing) and from a file edited by hand."""
    assert run("config", "set", "ui.frontend", "gui") == (
        1,
        "",
        "Error: config.toml: ui.frontend: unknown frontend 'gui'; known: mcp, tui, web\n",
    )
    (run.store / "config.toml").write_text('[ui]\nfrontend = "gui"\n')
    assert run() == (1, "", "Error: unknown frontend 'gui'; known: mcp, tui, web\n")
