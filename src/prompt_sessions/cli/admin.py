"""formats, plugins, doctor, config."""

from __future__ import annotations

import sys

import click

from ..text import counted, visible
from .output import print_json
from .state import CliState

pass_state = click.make_pass_decorator(CliState)


@click.command()
@pass_state
def formats(state: CliState) -> None:
    """List export and import formats from every plugin."""
    host = state.host
    exporters, importers = host.exporters(), host.importers()
    width = max([12, *map(len, exporters), *map(len, importers)])  # one column for both lists
    click.echo("Export formats:")
    for name, c in sorted(exporters.items()):
        ext, media = c.value.extension, c.value.media_type
        click.echo(f"  {name:{width}} .{ext:6} {media:24} ({c.plugin})")
    click.echo("Import formats:")
    for name, i in sorted(importers.items()):
        click.echo(f"  {name:{width}} ({i.plugin})")


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Include the built-in plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def plugins(state: CliState, show_all: bool, as_json: bool) -> None:
    """List installed plugins: name, version and hooks."""
    host = state.host
    infos = host.plugins(include_builtins=show_all)
    if as_json:
        print_json(
            [
                {
                    "name": i.name,
                    "version": i.version,
                    "package": i.package,
                    "hooks": i.hooks,
                    "builtin": i.builtin,
                }
                for i in infos
            ]
        )
    elif not infos:
        click.echo(
            "No external plugins installed." + ("" if show_all else " (--all shows the built-ins)")
        )
    else:
        for i in infos:
            version = f" {i.version}" if i.version else ""
            click.echo(f"{i.name}{version}{' (built-in)' if i.builtin else ''}")
            click.echo(f"  hooks: {', '.join(i.hooks) or '-'}")
    for failure in host.failures:
        click.echo(f"Broken plugin {failure.plugin}: {failure.error}", err=True)


@click.command()
@click.option(
    "--repair", is_flag=True, help="Move damaged session files aside into sessions/damaged/."
)
@pass_state
def doctor(state: CliState, repair: bool) -> None:
    """Check every session file and rebuild the catalog. Exit 1 if damage was found."""
    mgr = state.manager
    if sys.stderr.isatty():
        click.echo("Checking sessions…", err=True)
    report = mgr.check(repair=repair)
    fixed = report.fixed
    click.echo(f"{counted(report.sessions, 'session')} readable in {mgr.root}")
    for sid, reason in sorted(report.damaged.items()):
        click.echo(f"DAMAGED {sid}: {visible(reason, one_line=True)}")
    for sid, reason in sorted(report.unreadable.items()):
        click.echo(f"UNREADABLE {sid}: {visible(reason, one_line=True)}")
    for what, reason in sorted(report.newer.items()):
        click.echo(f"READ-ONLY {what}: {visible(reason, one_line=True)}")
    for line in report.loose:
        click.echo(f"NOT PRIVATE {visible(line, one_line=True)}")
    for line in fixed:
        click.echo(f"fixed: {line}")
    for line in report.stale:
        click.echo(f"STALE {visible(line, one_line=True)}")
    from ..delegation import unknown_capabilities

    # Setup problems, not damage: reported, and the exit status stays the store's.
    ctx = state.app_context()
    setup = [
        f"BAD PO FILE {visible(line, one_line=True)}"
        for line in dict.fromkeys(ctx.po_file_problems().values())  # two files, one line
    ]
    setup += [
        f"UNKNOWN CAPABILITY {visible(po_name, one_line=True)}: {visible(why, one_line=True)}"
        for po_name, why in unknown_capabilities(ctx)
    ]
    from ..config import load_config
    from ..config_keys import unknown_keys

    setup += [
        f"UNKNOWN CONFIG KEY {line.removeprefix('unknown config key ')}"
        for line in unknown_keys(load_config(mgr.root), state.host)
    ]
    problems = report.damaged or report.unreadable or report.newer or report.loose
    if report.stale:
        click.echo("Run `prompt-sessions doctor` where the store may be written to fix them.")
    if not problems and not fixed and not report.moved and not report.stale:
        click.echo("No problems found." if not setup else "No problems found in the store.")
    for path in report.moved:
        click.echo(f"moved aside: {path}")
    from ..storage.search_health import KEY

    if set(report.damaged) - {KEY} and not repair:  # the index's line says how to mend it
        click.echo("Run `prompt-sessions doctor --repair` to move damaged sessions aside.")
    if report.loose:
        click.echo("Run `prompt-sessions doctor --repair` to make them private (0600/0700).")
    for line in setup:
        click.echo(line)
    if len(report.moved) < len(report.damaged) or report.unreadable or report.loose:
        sys.exit(1)  # damage remains that repair could not (or was not asked to) fix


@click.group()
def config() -> None:
    """Read or change config.toml (dotted keys, e.g. storage.backend)."""


@config.command("get")
@click.argument("key")
@pass_state
def config_get(state: CliState, key: str) -> None:
    """Print a value (one config.toml does not set: its default, noted on stderr)."""
    from ..config import get_value, load_config
    from ..config_keys import check_key
    from ..envdir import find_env_dir
    from ..errors import UsageError

    try:
        value = get_value(load_config(find_env_dir(state.directory)), key)
    except UsageError:
        value = check_key(key, state.host).default  # an unknown key is an error of its own
        if value is None:
            raise
        click.echo("Note: not set in config.toml; this is the default", err=True)
    if isinstance(value, str):
        click.echo(value)
    else:  # tables, numbers, booleans and lists print as JSON
        print_json(value)


# A value may start with "-" (a negative number): it is the value, not an option.
@config.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
@pass_state
def config_set(state: CliState, key: str, value: str) -> None:
    """Set a value (read as TOML: numbers, true/false, quoted text; otherwise text)."""
    from ..config import parse_value, set_value
    from ..envdir import find_env_dir
    from . import backend_note as moving

    root = find_env_dir(state.directory)
    parsed = parse_value(value)
    switching = key.strip() == "storage.backend" and parsed != moving.configured_backend(root)
    if switching:
        old = moving.configured_backend(root)
        before = moving.sessions_of(root, state.host)
    note = set_value(root, key, parsed, state.host)
    click.echo(f"{key} = {value}")
    if note:
        click.echo(f"Note: {note}", err=True)
    if switching and before:
        after = moving.sessions_of(root, state.host, str(parsed))
        if after is not None and before - after:
            click.echo(
                f"Note: {moving.left_behind_note(old, parsed, len(before - after))}", err=True
            )
