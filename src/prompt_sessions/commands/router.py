"""Parsing a line typed in a message box and running the slash command it names."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any

from ..errors import PromptSessionsError, UsageError
from .base import CommandContext


def split_command(line: str) -> list[str]:
    """The words of a slash command line, shell quoting rules; a clear error for a bad quote."""
    text = line.strip()
    if text.startswith("/"):
        text = text[1:]
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"cannot read the command: {exc}") from exc


class CommandRouter:
    """Matches the longest run of typed words against command names and aliases."""

    def __init__(self, commands: Iterable[Any]) -> None:
        self.commands: list[Any] = list(commands)
        self._table: dict[tuple[str, ...], Any] = {}
        for command in self.commands:
            self._table.setdefault(tuple(_words(command.name)), command)
        for command in self.commands:
            for alias in getattr(command, "aliases", ()) or ():
                self._table.setdefault(tuple(_words(alias)), command)
        self._longest = max((len(key) for key in self._table), default=1)

    @classmethod
    def from_host(cls, host: Any) -> CommandRouter:
        """Every command the plugins registered, built-ins first."""
        return cls(c.value for c in host.commands().values())

    @staticmethod
    def is_command(line: str) -> bool:
        """A line starting with one slash is a command; ``//text`` sends ``/text`` as a message."""
        text = line.lstrip()
        return text.startswith("/") and not text.startswith("//") and len(text.strip()) > 1

    def find(self, words: list[str]) -> tuple[Any, list[str]]:
        """The command the words name and the arguments left over."""
        lowered = [w.lower() for w in words]
        for size in range(min(self._longest, len(words)), 0, -1):
            command = self._table.get(tuple(lowered[:size]))
            if command is not None:
                return command, words[size:]
        shown = " ".join(words[:2]) if words else ""
        group = (
            [
                c
                for c in self.commands
                if len(_words(c.name)) > 1 and _words(c.name)[0] == lowered[0]
            ]
            if words
            else []
        )
        if group:  # "/session" alone, or with a word it does not know: say what it takes
            forms = ", ".join(getattr(c, "usage", "") or f"/{_typed(c)}" for c in group)
            raise UsageError(f"'/{shown}' is not a command; /{words[0]} takes: {forms}")
        raise UsageError(
            f"unknown command '/{shown}'; type /help for the list, or start with // to send a "
            "message that begins with /"
        )

    def run(self, ctx: CommandContext, line: str) -> str | None:
        """Run one command line. Errors of the project propagate for the frontend to show."""
        found = self._raw(line)
        if found is not None:
            command, args = found
        else:
            words = split_command(line)
            if not words:
                raise UsageError("type a command after the slash; /help lists them")
            command, args = self.find(words)
        if getattr(command, "name", None) == "help":
            return self.help_text(args)
        try:
            return command.run(ctx, args)
        except PromptSessionsError:
            raise
        except Exception as exc:  # a plugin's bug is reported, not fatal
            raise UsageError(f"/{_typed(command)} failed: {type(exc).__name__}: {exc}") from exc

    def _raw(self, line: str) -> tuple[Any, list[str]] | None:
        """A command that takes the rest of the line as typed (``SlashCommand.raw``), with that
        rest as its one argument; None for any other line (command names never need quoting)."""
        text = line.strip().removeprefix("/")
        words = text.split()
        if not words:
            return None
        try:
            command, args = self.find(words)
        except UsageError:
            return None
        if not getattr(command, "raw", False):
            return None
        named = len(words) - len(args)
        rest = re.sub(rf"^\s*(?:\S+\s+){{{named - 1}}}\S+", "", text, count=1).strip()
        return command, [rest] if rest else []

    def help_text(self, args: list[str] | None = None) -> str:
        """One line per command (usage, aliases, help); with arguments, only matching commands."""
        wanted = " ".join(args or []).lower().lstrip("/")
        lines = []
        for command in sorted(self.commands, key=_typed):
            if wanted and not _typed(command).startswith(wanted):
                continue
            usage = getattr(command, "usage", "") or f"/{_typed(command)}"
            aliases = getattr(command, "aliases", ()) or ()
            also = f" (also {', '.join('/' + a for a in aliases)})" if aliases else ""
            lines.append(f"{usage}{also}: {getattr(command, 'help', '')}")
        if not lines:
            raise UsageError(f"no command starts with '/{wanted}'")
        return "\n".join(lines)


def _words(name: str) -> list[str]:
    return name.replace(".", " ").lower().split()


def _typed(command: Any) -> str:
    return " ".join(_words(command.name))
