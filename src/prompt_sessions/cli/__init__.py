"""The ``prompt-sessions`` command line.

Commands load lazily (``list`` must not pay for what ``send`` or the TUI import), and plugin
commands are added only when a name is not a built-in one.
"""

from __future__ import annotations

import sys
from typing import TextIO

import click

from ..errors import PromptSessionsError, UsageError
from .path_type import LinkedPath
from .state import CliState

BUILTIN_COMMANDS = {
    "new": "sessions:new",
    "list": "sessions:list_",
    "show": "sessions:show",
    "rename": "sessions:rename",
    "delete": "sessions:delete",
    "duplicate": "sessions:duplicate",
    "fork": "sessions:fork",
    "archive": "sessions:archive",
    "trash": "organise:trash",
    "restore": "organise:restore",
    "pin": "organise:pin",
    "tag": "organise:tag",
    "prune": "organise:prune",
    "stats": "organise:stats",
    "copy": "organise:copy",
    "po": "organise:po_group",
    "backup": "organise:backup",
    "restore-backup": "organise:restore_backup",
    "rewind": "history:rewind",
    "export": "transfer:export",
    "import": "transfer:import_",
    "search": "talk:search",
    "send": "talk:send",
    "formats": "admin:formats",
    "plugins": "admin:plugins",
    "doctor": "admin:doctor",
    "config": "admin:config",
    "migrate": "migrate:migrate",
    "serve": "frontend:serve",
    "web": "frontend:web",
}


class LazyGroup(click.Group):
    """Built-in commands import on use; plugin commands load only for names we do not know."""

    _plugins_added = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands(ctx)
        return sorted(set(BUILTIN_COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = BUILTIN_COMMANDS.get(name)
        if target is not None:
            module_name, attr = target.split(":")
            from importlib import import_module

            return getattr(import_module(f"{__name__}.{module_name}"), attr)
        if name not in self.commands:
            self._add_plugin_commands(ctx)
        return self.commands.get(name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click resolves it; a name that is no command is refused with the commands it
        may be a typo of (``lst``: "Did you mean 'list'?")."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from difflib import get_close_matches

            close = get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.6)
            hint = " or ".join(repr(c) for c in close)
            ctx.fail(f"No such command {name!r}." + (f" Did you mean {hint}?" if hint else ""))
        return super().resolve_command(ctx, args)

    def _add_plugin_commands(self, ctx: click.Context) -> None:
        if self._plugins_added:
            return
        self._plugins_added = True
        # click looks a command up (and lists them for --help) before the group's own callback
        # runs, so the state may not exist yet: create it here, and the callback fills it in.
        ctx.ensure_object(CliState).host.add_cli_commands(self)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--dir",
    "directory",
    type=LinkedPath(file_okay=False),
    help="Environment folder (default: nearest .prompt_objects/).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="prompt-sessions")
@click.pass_context
def cli(ctx: click.Context, directory: str | None, debug: bool) -> None:
    """Named, persistent conversation sessions for Prompt Objects.

    With no command, opens the TUI on the environment folder.
    """
    from .. import interrupts

    interrupts.release()  # the command is found: Ctrl-C from here is the command's to handle
    state = ctx.ensure_object(CliState)
    if directory is not None:
        _refuse_project_folder(directory)
    state.directory, state.debug = directory, debug
    ctx.call_on_close(state.close)
    if ctx.invoked_subcommand is None:
        from .frontend import run_frontend

        run_frontend(state)


def _refuse_project_folder(directory: str) -> None:
    """Raise UsageError when ``--dir`` names a folder that holds none of an environment's files
    (DESIGN section 3) but a ``.prompt_objects/`` that is one: a project folder given for its
    environment, which would show no session and make new ones beside the real ones."""
    from pathlib import Path

    from ..envdir import STORE_DIR_NAME

    folder = Path(directory).expanduser()
    inner = folder / STORE_DIR_NAME
    if not inner.is_dir() or any(
        (folder / name).exists() for name in ("config.toml", "objects", "sessions", "trash")
    ):
        return
    raise UsageError(f"{folder} holds no environment but {inner} does: use --dir {inner}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    _storage_warnings_as_lines()
    try:
        _main(args)
    except KeyboardInterrupt:  # outside a command: as loading ended, or as an error was shown
        click.echo("\nInterrupted.", err=True)
        sys.exit(130)


def _storage_warnings_as_lines() -> None:
    """Show a :class:`~prompt_sessions.errors.StorageWarning` raised while a command runs as one
    ``Warning: ...`` line on stderr, as the command line's other warnings are (DESIGN section
    6); any other warning as Python shows it."""
    import warnings

    from ..errors import StorageWarning

    shown = warnings.showwarning
    if getattr(shown, "storage_lines", False):
        return

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, StorageWarning):
            from .output import warn

            warn(str(message))
        else:
            shown(message, category, filename, lineno, file, line)

    show.storage_lines = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def _main(args: list[str]) -> None:
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="prompt-sessions", standalone_mode=False)
        out = sys.stdout  # None when started with stdout closed (`>&-`)
        if out is not None and not out.closed:
            out.flush()  # here, not at exit: a full disk is then said in one line
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C into an Abort
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PromptSessionsError as exc:
        if debug:
            raise
        from ..text import visible  # errors quote what others wrote (a model server's text)

        click.echo(f"Error: {visible(str(exc))}", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # a bug: still one line unless asked for the traceback
        if debug:
            raise
        from ..text import visible

        failed = _output_failure(exc)
        if failed is not None:
            click.echo(f"Error: cannot write to standard output: {failed.strerror}", err=True)
            sys.exit(1)
        click.echo(
            f"Error: unexpected {type(exc).__name__}: {visible(str(exc))} "
            "(run with --debug for details)",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)


def _output_failure(exc: Exception) -> OSError | None:
    """``exc`` when it is standard output failing (a full disk behind ``> file``, an I/O
    error), else None: the store's and the output files' errors are StorageErrors naming
    their file."""
    import errno

    failing = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG)
    if isinstance(exc, OSError) and exc.filename is None and exc.errno in failing:
        return exc
    return None
