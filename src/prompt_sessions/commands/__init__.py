"""Slash commands shared by every frontend: the command shape, its context and the router.

Nothing here imports Textual; a REPL or a web frontend uses the same router as the TUI.
"""

from __future__ import annotations

from .base import CommandContext, Frontend, SlashCommand
from .router import CommandRouter, split_command

__all__ = ["CommandContext", "CommandRouter", "Frontend", "SlashCommand", "split_command"]
