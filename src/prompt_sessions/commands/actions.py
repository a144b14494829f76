"""Session operations every frontend shares (slash commands, the TUI's keys, its palette)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import SessionNotFound, UsageError
from ..importing import ImportRun, RunReport
from ..manager import SessionManager
from ..models import DEFAULT_SESSION_NAME, Session, SessionSummary
from ..organise.stats import session_usage
from ..outputs import folder_asked, write_output
from ..resolve import MIN_ID_PREFIX, ambiguous
from ..text import counted, fold

_HEX = set("0123456789abcdef-")


def auto_name(manager: SessionManager, po_name: str) -> str:
    """``New Session``, or ``New Session 2``, 3... when the PO already has those names."""
    taken = {fold(s.name) for s in manager.list(po_name)}
    if fold(DEFAULT_SESSION_NAME) not in taken:
        return DEFAULT_SESSION_NAME
    n = 2
    while fold(f"{DEFAULT_SESSION_NAME} {n}") in taken:
        n += 1
    return f"{DEFAULT_SESSION_NAME} {n}"


def new_session(
    manager: SessionManager, po_name: str, name: str | None = None, *, source: str = "tui"
) -> Session:
    """Create a session and make it the PO's current one. Without a name, or with the offered
    default unchanged, the session is auto-named (its first message names it, DESIGN section 14).
    """
    default = auto_name(manager, po_name)
    auto = not name or name == default
    session = manager.create(po_name, name or default, source=source, auto_named=auto)
    manager.switch(po_name, session.id)
    return session


def ensure_session(
    manager: SessionManager, po_name: str, session_id: str | None, *, source: str = "tui"
) -> str:
    """The shown session, creating the PO's first one when it has none yet (the first write)."""
    if session_id is not None:
        return session_id
    session = manager.create(po_name, source=source)
    manager.switch(po_name, session.id)
    return session.id


def delete_session(
    manager: SessionManager, session_id: str, *, source: str = "tui"
) -> tuple[str, str]:
    """Delete a session; returns ``(po, id)`` of the PO's current session afterwards.

    When the deleted one was current, the most recent other session becomes current, or a fresh
    one is created if it was the last.
    """
    session = manager.get(session_id)
    po_name = session.po_name
    was_current = manager.backend.get_current(po_name) in (None, session_id)
    manager.delete(session_id)
    if not was_current:
        found = manager.peek_current(po_name)
        if found is not None:
            return po_name, found.id
    rest = manager.list(po_name, include_archived=False)
    if rest:
        manager.switch(po_name, rest[0].id)
        return po_name, rest[0].id
    return po_name, new_session(manager, po_name, source=source).id


def find_session(manager: SessionManager, po_name: str, ref: str) -> SessionSummary:
    """The PO's session by name (exact, then prefix), else any session by id or unique id prefix."""
    text = ref.strip()
    try:
        return manager.resolve(po_name, text)
    except SessionNotFound as exc:
        missing = exc  # it says whose session the name is, when another PO's
    lowered = text.lower()
    if len(lowered) >= MIN_ID_PREFIX and set(lowered) <= _HEX:
        matches = [s for s in manager.list() if s.id.startswith(lowered)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ambiguous(text, matches)
    raise missing


def export_to_file(
    manager: SessionManager,
    session_id: str,
    format: str = "markdown",
    path: str | Path | None = None,
    *,
    directory: Path | None = None,
) -> Path:
    """Export through the exporter plugin to ``path``, or to a new file named after the session.

    The file is written by the rule of :func:`prompt_sessions.outputs.write_output` (a missing
    folder is refused, a device is written to, never replaced); :raises UsageError: if it cannot.
    """
    exporter = manager.host.exporter(format)
    session = manager.get(session_id)
    data = exporter.export(session)
    if path is None:
        target = free_path(
            directory or Path.cwd(), f"{slug(session.name)}-{session.id[:8]}", exporter.extension
        )
    elif (folder := folder_asked(path)) is not None:
        target = free_path(folder, f"{slug(session.name)}-{session.id[:8]}", exporter.extension)
    else:
        target = Path(path).expanduser()
    write_output(target, data.encode("utf-8") if isinstance(data, str) else data)
    return target


def import_file(
    manager: SessionManager, path: str | Path, *, po_name: str | None = None
) -> RunReport:
    """Import every conversation of one file that can be read; the report lists the rest.

    As ``prompt-sessions import`` does (DESIGN section 16): a conversation imported before
    only gets the messages its earlier copy lacks. Raises UsageError when the file cannot be
    read, ImportFormatError when nothing in it can be imported.
    """
    from ..limits import read_input
    from ..path_links import link_problem

    source = Path(path).expanduser()
    try:
        data = read_input(source)
    except OSError as exc:
        # a link loop or a link to nothing is named as such ("No such file" would mislead)
        problem = link_problem(source)
        raise UsageError(problem or f"cannot read {source}: {exc.strerror or exc}") from exc
    return ImportRun(manager, po_name=po_name).add(data, filename=str(source))


def slug(name: str) -> str:
    """A file-name-safe form of a session name (names are display text, never paths)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned[:40] or "session"


def free_path(directory: Path, stem: str, extension: str) -> Path:
    """``stem.ext`` in the folder, or ``stem-2.ext``... when that exists (never overwrite)."""
    candidate = directory / f"{stem}.{extension}"
    n = 2
    while candidate.exists():
        candidate = directory / f"{stem}-{n}.{extension}"
        n += 1
    return candidate


def session_info(manager: SessionManager, session_id: str) -> str:
    session = manager.get(session_id)
    summary = session.summary()
    lines = [
        f"Session: {session.name}",
        f"Id: {session.id}",
        f"PO: {session.po_name}",
        f"Created: {session.created_at}",
        f"Updated: {session.updated_at}",
        f"Messages: {summary.message_count}",
    ]
    spent = session_usage(manager, session.id)
    total = spent.total
    if total.input_tokens or total.output_tokens:
        delegated = total.sessions - 1
        with_delegations = f" (with {counted(delegated, 'delegation')})" if delegated else ""
        lines.append(
            f"Tokens: {total.input_tokens} in, {total.output_tokens} out{with_delegations}"
        )
        for model, used in sorted(spent.by_model.items()):
            lines.append(f"  {model}: {used.input_tokens} in, {used.output_tokens} out")
        if total.cost is not None:
            lines.append(f"Cost: {total.cost:.4f} (from [prices] in config.toml)")
    if session.parent_id:
        lines.append(f"Forked from: {session.parent_id} at message {session.parent_message_index}")
    path = manager.session_path(session.id)
    if path is not None:
        lines.append(f"File: {path}")
    return "\n".join(lines)
