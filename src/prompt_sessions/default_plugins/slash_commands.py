"""Built-in slash commands, registered like any plugin's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..hookspecs import hookimpl


@hookimpl
def register_commands(register: Callable[[Any], None]) -> None:
    from ..commands.builtin import BUILTIN_COMMANDS
    from ..commands.history import HISTORY_COMMANDS

    for command in (*BUILTIN_COMMANDS, *HISTORY_COMMANDS):
        register(command)
