"""Every command's --help reads as plain text: the reStructuredText of docstrings written for
the code (``name``, :class:`X`) never reaches a person's terminal."""

from __future__ import annotations

from collections.abc import Iterator

import click

from prompt_sessions.cli import cli

MARKUP = ("``", ":class:", ":func:", ":meth:", ":mod:", ":data:")


def commands(cmd: click.Command, path: str, ctx: click.Context) -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None
            yield from commands(sub, f"{path} {name}", click.Context(sub, parent=ctx))


def test_no_help_text_shows_markup() -> None:
    """The help of every command and option, the lazily loaded ones included, is free of
    reStructuredText roles and double backquotes."""
    found = []
    for path, cmd in commands(cli, "prompt-sessions", click.Context(cli)):
        texts = [cmd.help or "", *(getattr(p, "help", None) or "" for p in cmd.params)]
        found += [f"{path}: {t[:60]!r}" for t in texts if any(m in t for m in MARKUP)]
    assert len(list(commands(cli, "prompt-sessions", click.Context(cli)))) > 20
    assert found == []
