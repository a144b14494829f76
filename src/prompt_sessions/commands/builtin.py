"""The built-in slash commands. ``default_plugins/slash_commands.py`` registers them."""

from __future__ import annotations

from datetime import datetime

from ..errors import UsageError
from ..organise.name_clash import with_name_clash_notes
from ..organise.trash import undo_hint
from ..text import quoted
from . import actions
from .base import CommandContext, SlashCommand, rest_of_line
from .display import count, when

SESSIONS_LISTED = 30


def _no_args(args: list[str], usage: str) -> None:
    if args:
        raise UsageError(f"unexpected '{' '.join(args)}'; usage: {usage}")


def sessions(ctx: CommandContext, args: list[str]) -> str:
    _no_args(args, "/sessions")
    found = ctx.manager.list(ctx.po_name, include_archived=False)
    if not found:
        return f"{ctx.po_name} has no sessions yet"
    now = datetime.now().astimezone()
    lines = [f"Sessions of {ctx.po_name}:"]
    for s in found[:SESSIONS_LISTED]:
        mark = "*" if s.id == ctx.session_id else " "
        lines.append(
            f"{mark} {s.name} ({count(s.message_count)}, {when(s.updated_at, now)}) {s.id[:8]}"
        )
    if len(found) > SESSIONS_LISTED:
        lines.append(f"  ... and {len(found) - SESSIONS_LISTED} more (press S for the picker)")
    return "\n".join(lines)


def session_new(ctx: CommandContext, args: list[str]) -> str:
    name = rest_of_line(args, required=False)
    session = actions.new_session(ctx.manager, ctx.po_name, name)
    ctx.show(ctx.po_name, session.id)
    said = f"New session '{session.name}'"
    # as `new --name`: a name given may be another session's; a made-up one is the PO's own
    return with_name_clash_notes(said, ctx.manager, [session]) if name else said


def session_rename(ctx: CommandContext, args: list[str]) -> str:
    name = rest_of_line(args, "the new name: /session rename <name>")
    sid = actions.ensure_session(ctx.manager, ctx.po_name, ctx.session_id)
    old = ctx.manager.get(sid).name
    session = ctx.manager.rename(sid, name or "")
    ctx.show(ctx.po_name, sid)
    return with_name_clash_notes(f"Renamed '{old}' to '{session.name}'", ctx.manager, [session])


def session_switch(ctx: CommandContext, args: list[str]) -> str:
    ref = rest_of_line(args, "a session name or id: /session switch <name|id>")
    found = actions.find_session(ctx.manager, ctx.po_name, ref or "")
    ctx.manager.switch(found.po_name, found.id)
    ctx.show(found.po_name, found.id)
    return f"Switched to '{found.name}' ({found.po_name})"


def session_delete(ctx: CommandContext, args: list[str]) -> None:
    _no_args(args, "/session delete")
    sid = ctx.require_session()
    session = ctx.manager.get(sid)

    def delete() -> str:
        po_name, next_id = actions.delete_session(ctx.manager, sid)
        ctx.show(po_name, next_id)
        return f"Deleted session '{session.name}'{undo_hint(ctx.manager, sid)}"

    ctx.frontend.confirm(
        f"Delete session '{session.name}' ({count(len(session.history))})?", delete
    )
    return None


def session_export(ctx: CommandContext, args: list[str]) -> str:
    if len(args) > 2:
        raise UsageError("usage: /session export [format] [path]")
    sid = ctx.require_session()
    known = ctx.manager.host.exporters()
    format, path = "markdown", None
    if args:
        if args[0] in known:
            format = args[0]
            path = args[1] if len(args) > 1 else None
        elif len(args) == 1 and ("/" in args[0] or "." in args[0]):
            path = args[0]  # a lone argument that looks like a file is the path
        else:
            ctx.manager.host.exporter(args[0])  # raises UnknownFormat listing the known ones
    target = actions.export_to_file(ctx.manager, sid, format, path)
    return f"Exported to {target}"


def session_import(ctx: CommandContext, args: list[str]) -> str:
    path = rest_of_line(args, "a file: /session import <path>")
    report = actions.import_file(ctx.manager, path or "")
    outcomes = report.outcomes
    first = outcomes[0].session
    ctx.manager.switch(first.po_name, first.id)
    ctx.show(first.po_name, first.id)
    more = f" and {len(outcomes) - 1} more" if len(outcomes) > 1 else ""
    done = {
        "new": "Imported",
        "updated": f"Added {count(outcomes[0].added, 'message')} to the earlier copy,",
        "unchanged": "Already imported:",
    }[outcomes[0].action]
    said = f"{done} {quoted(first.name)} ({first.po_name}){more}"
    if report.skipped:
        said += f"; skipped {count(len(report.skipped), 'entry', 'entries')}: {report.skipped[0]}"
        if len(report.skipped) > 1:
            said += f" (and {len(report.skipped) - 1} more)"
    made = [o.session for o in outcomes if o.action == "new"]
    return with_name_clash_notes(said, ctx.manager, made)


def session_info(ctx: CommandContext, args: list[str]) -> str:
    _no_args(args, "/session info")
    return actions.session_info(ctx.manager, ctx.require_session())


def session_fork(ctx: CommandContext, args: list[str]) -> str:
    name = rest_of_line(args, required=False)
    fork = ctx.manager.fork(ctx.require_session(), name=name)
    ctx.manager.switch(fork.po_name, fork.id)
    ctx.show(fork.po_name, fork.id)
    return with_name_clash_notes(f"Forked into '{fork.name}'", ctx.manager, [fork])


def cancel(ctx: CommandContext, args: list[str]) -> str:
    _no_args(args, "/cancel")
    if ctx.session_id is not None and ctx.frontend.cancel_reply(ctx.session_id):
        return "Reply cancelled"
    return "No reply is streaming"


def retry(ctx: CommandContext, args: list[str]) -> str:
    _no_args(args, "/retry")
    if ctx.session_id is not None and ctx.frontend.retry_reply(ctx.session_id):
        return "Running the reply again"
    return "Nothing to retry: the last turn has its reply"


def plugins(ctx: CommandContext, args: list[str]) -> str:
    _no_args(args, "/plugins")
    lines = []
    for info in ctx.manager.host.plugins(include_builtins=True):
        kind = "built-in" if info.builtin else f"{info.package or '?'} {info.version or ''}".strip()
        lines.append(f"{info.name} ({kind}): {', '.join(info.hooks)}")
    return "\n".join(lines) or "no plugins"


def help_command(ctx: CommandContext, args: list[str]) -> str:
    from .router import CommandRouter

    return CommandRouter.from_host(ctx.app.host).help_text(args)


BUILTIN_COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand(
        "sessions", sessions, "list this PO's sessions", category="session", palette_title="List"
    ),
    SlashCommand(
        "session.new",
        session_new,
        "start a new session and switch to it",
        "/session new [name]",
        ("new",),
        "session",
        "New",
    ),
    SlashCommand(
        "session.rename",
        session_rename,
        "rename the shown session",
        "/session rename <name>",
        ("rename",),
        "session",
        "Rename",
    ),
    SlashCommand(
        "session.switch",
        session_switch,
        "switch by name, or to any session by id or id prefix",
        "/session switch <name|id>",
        ("switch", "s"),
        "session",
        "Switch",
    ),
    SlashCommand(
        "session.delete",
        session_delete,
        "delete the shown session (asks first)",
        "/session delete",
        (),
        "session",
        "Delete",
    ),
    SlashCommand(
        "session.export",
        session_export,
        "write the shown session to a file (default markdown)",
        "/session export [format] [path]",
        (),
        "export",
        "Export",
    ),
    SlashCommand(
        "session.import",
        session_import,
        "import sessions from a file and switch to the first",
        "/session import <path>",
        (),
        "session",
        "Import",
    ),
    SlashCommand(
        "session.info",
        session_info,
        "id, PO, times, messages, tokens and file of the shown session",
        "/session info",
        (),
        "session",
        "Info",
    ),
    SlashCommand(
        "session.fork",
        session_fork,
        "copy the shown session into a new one and switch to it",
        "/session fork [name]",
        (),
        "session",
        "Fork",
    ),
    SlashCommand(
        "cancel",
        cancel,
        "stop the reply streaming in the shown session",
        category="session",
        palette_title="Cancel reply",
    ),
    SlashCommand(
        "retry",
        retry,
        "run the reply again when the last turn is unanswered or was cut short (ctrl+r)",
        category="session",
        palette_title="Retry reply",
    ),
    SlashCommand(
        "plugins",
        plugins,
        "list the plugins and their hooks",
        category="plugins",
        palette_title="List",
    ),
    SlashCommand(
        "help",
        help_command,
        "list the commands",
        "/help [command]",
        category="help",
        palette_title="Commands",
    ),
)
