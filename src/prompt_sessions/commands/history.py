"""Slash commands that change a session's path without losing the old one (DESIGN section 14,
"Rewind without loss"): ``/rewind [N]``, ``/rewind --undo`` (also ``/undo``), ``/edit [N] <text>``,
``/regenerate`` and ``/tree``. Registered by ``default_plugins/slash_commands.py``.

Message numbers count from 1, as people read them: ``/rewind 4`` keeps messages 1 to 4. The new
text of ``/edit`` is taken as typed (quotes, apostrophes and line breaks kept).
"""

from __future__ import annotations

import re

from ..errors import UsageError
from ..models import Message
from ..organise.trash import folded_fork_note
from ..rewind import Rewound, lineage, rewind, undo
from ..text import quoted
from .base import CommandContext, SlashCommand
from .display import count


def _idle(ctx: CommandContext, session_id: str) -> None:
    running = getattr(ctx.frontend, "reply_running", None)
    if running is not None and running(session_id):
        raise UsageError("a reply is running in this session; /cancel it first")


def _rewritten(ctx: CommandContext, session_id: str, *, reply: bool = False) -> None:
    tell = getattr(ctx.frontend, "history_rewritten", None)
    if tell is not None:
        tell(session_id, reply=reply)


def _number(word: str, usage: str) -> int:
    try:
        return int(word)
    except ValueError:
        raise UsageError(f"'{word}' is not a message number; usage: {usage}") from None


def _last_user(history: list[Message]) -> int | None:
    """The index of the last message the person wrote, or None."""
    for i in range(len(history) - 1, -1, -1):
        if history[i].role == "user":
            return i
    return None


def _kept(done: Rewound) -> str:
    assert done.kept is not None
    return f"kept in {quoted(done.kept.name)}; /undo takes it back, /tree shows it"


def rewind_command(ctx: CommandContext, args: list[str]) -> str:
    usage = "/rewind [N] or /rewind --undo"
    if args == ["--undo"]:
        return undo_command(ctx, [])
    if len(args) > 1 or (args and args[0].startswith("--")):
        raise UsageError(f"unexpected '{' '.join(args)}'; usage: {usage}")
    sid = ctx.require_session()
    _idle(ctx, sid)
    history = ctx.manager.get(sid).history
    if args:
        to = _number(args[0], usage)
    else:
        last = _last_user(history)
        if last is None:
            raise UsageError("nothing to rewind: this session has no message of yours")
        to = last  # the last turn goes: the person's message and what answered it
    done = rewind(ctx.manager, sid, to)
    _rewritten(ctx, sid)
    dropped = len(history) - to
    return f"Rewound to {count(to, 'message')}; the {count(dropped, 'message')} after are " + _kept(
        done
    )


def undo_command(ctx: CommandContext, args: list[str]) -> str:
    if args:
        raise UsageError(f"unexpected '{' '.join(args)}'; usage: /undo")
    sid = ctx.require_session()
    _idle(ctx, sid)
    done = undo(ctx.manager, sid)
    _rewritten(ctx, sid)
    said = f"Undid the last rewind: {count(len(done.session.history), 'message')} again"
    if done.kept is not None:
        said += f"; what followed it is kept in {quoted(done.kept.name)}"
    if done.removed is not None:
        said += "; " + folded_fork_note(ctx.manager, done.removed, done.removed_name)
    return said


def edit_command(ctx: CommandContext, args: list[str]) -> str:
    usage = "/edit [N] <new text>"
    sid = ctx.require_session()
    history = ctx.manager.get(sid).history
    rest = args[0] if args else ""  # the rest of the line as typed (a raw command)
    numbered = re.match(r"(\d+)\s+(\S.*)\Z", rest, re.DOTALL)
    if not rest or rest.isdigit():
        return _offer(ctx, history, int(rest) if rest else None, usage)
    if numbered:
        number, text = int(numbered[1]), numbered[2]
    else:
        last = _last_user(history)
        if last is None:
            raise UsageError("nothing to edit: this session has no message of yours")
        number, text = last + 1, rest
    if not 1 <= number <= len(history):
        raise UsageError(f"there is no message {number}; this session has {len(history)}")
    if history[number - 1].role != "user":
        raise UsageError(f"message {number} is not yours; /edit changes what you wrote")
    _idle(ctx, sid)
    done = rewind(
        ctx.manager, sid, number - 1, kind="edit", tail=[Message(role="user", content=text)]
    )
    _rewritten(ctx, sid, reply=True)
    return f"Edited message {number} and asked again; the earlier path is " + _kept(done)


def _offer(ctx: CommandContext, history: list[Message], number: int | None, usage: str) -> str:
    """``/edit`` or ``/edit N`` without text: the message it would change, offered in the
    message box as ``/edit N <its text>`` to change and send."""
    if number is None:
        last = _last_user(history)
        if last is None:
            raise UsageError("nothing to edit: this session has no message of yours")
        number = last + 1
    if not 1 <= number <= len(history) or history[number - 1].role != "user":
        raise UsageError(f"give the new text; usage: {usage}")
    offer = getattr(ctx.frontend, "offer_draft", None)
    if offer is None or not offer(f"/edit {number} {history[number - 1].content}"):
        raise UsageError(f"give the new text; usage: {usage}")
    return f"Change message {number} in the box and press Enter to ask again"


def regenerate_command(ctx: CommandContext, args: list[str]) -> str:
    if args:
        raise UsageError(f"unexpected '{' '.join(args)}'; usage: /regenerate")
    sid = ctx.require_session()
    _idle(ctx, sid)
    history = ctx.manager.get(sid).history
    last = _last_user(history)
    if last is None:
        raise UsageError("nothing to regenerate: this session has no message of yours")
    if last == len(history) - 1:  # not answered yet: nothing to keep aside
        _rewritten(ctx, sid, reply=True)
        return "Running the reply"
    done = rewind(ctx.manager, sid, last + 1, kind="regenerate")
    _rewritten(ctx, sid, reply=True)
    return "Asking for a new reply; the earlier one is " + _kept(done)


def tree_command(ctx: CommandContext, args: list[str]) -> str | None:
    if args:
        raise UsageError(f"unexpected '{' '.join(args)}'; usage: /tree")
    sid = ctx.require_session()
    opener = getattr(ctx.frontend, "open_tree", None)
    if opener is not None and opener(sid):
        return None
    lines = []
    for depth, node in lineage(ctx.manager, sid).walk():
        s = node.summary
        mark = "*" if s.id == sid else "-"
        kind = f", {s.thread_type}" if s.thread_type not in (None, "root") else ""
        lines.append(
            f"{'  ' * depth}{mark} {s.name} ({s.po_name}, {count(s.message_count)}{kind}) "
            f"{s.id[:8]}"
        )
    return "\n".join(lines)


HISTORY_COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand(
        "rewind",
        rewind_command,
        "end the session at message N (default: before your last message); the rest is kept "
        "in a fork",
        "/rewind [N] | /rewind --undo",
        category="session",
        palette_title="Rewind last turn",
    ),
    SlashCommand(
        "undo",
        undo_command,
        "take back the last rewind, edit or regenerate (same as /rewind --undo)",
        category="session",
        palette_title="Undo rewind",
    ),
    SlashCommand(
        "edit",
        edit_command,
        "change your message N (default: your last one) and ask again; the old path is kept",
        "/edit [N] <new text>",
        category="session",
        palette_title="Edit last message",
        raw=True,
    ),
    SlashCommand(
        "regenerate",
        regenerate_command,
        "a new reply to your last message; the earlier reply is kept in a fork",
        category="session",
        palette_title="Regenerate reply",
    ),
    SlashCommand(
        "tree",
        tree_command,
        "the forks and delegations of this session as a tree (Enter opens one)",
        category="session",
        palette_title="Tree",
    ),
)
