"""The postgres store's ``check`` (what ``doctor`` runs): decode, rebuild, move damage aside.

Every session is decoded from its rows; summaries and search columns that disagree with the
texts are rewritten under the session's row lock; with ``repair``, a damaged session's rows are
saved whole to ``damaged/`` and dropped. Newer data (a newer session or schema) is never
rewritten. A role that may not write (SELECT only, a read-only standby) gets the same check by
reading only, with what it would fix listed as stale; ``repair`` is refused for it in one line
before anything is read (DESIGN section 4: reading never needs to write).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from prompt_sessions.errors import CorruptSession, NewerSession, ReadOnlyStore, SessionNotFound
from prompt_sessions.models import FORMAT_VERSION, Session, SessionSummary, summarize
from prompt_sessions.storage import message_rows
from prompt_sessions.storage.base import HealthReport

from . import search
from .schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from .backend import PostgresBackend

_summary_decoder = msgspec.json.Decoder(SessionSummary)
_encoder = msgspec.json.Encoder()


def check(backend: PostgresBackend, repair: bool = False) -> HealthReport:
    """The store's health report (``StorageBackend.check``); raises StorageError when the
    server cannot be reached. See the module's docstring for what is fixed."""
    report = HealthReport()
    with backend._reading(snapshot=True) as conn:
        if conn is None:
            return report
        writable = _may_write(backend, conn)
        if repair and not writable:
            raise ReadOnlyStore(
                f"cannot repair {backend.settings.where()} schema {backend.schema}: this role "
                "may not write there; `prompt-sessions doctor` without --repair checks it by "
                "reading only"
            )
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {backend._q}.sessions ORDER BY id")]
        healthy: dict[str, Session] = {}
        for sid in ids:
            try:
                session = backend._load(conn, sid)
                gap = _rows_mismatch(backend, conn, sid)
                if gap is not None:
                    # Not rewritten to fit: the summary is the witness of what was lost.
                    raise CorruptSession(sid, gap)
            except NewerSession as exc:
                report.newer[sid] = exc.reason  # not damage: never moved aside
            except CorruptSession as exc:
                report.damaged[sid] = exc.reason
            except SessionNotFound:
                continue
            else:
                if session.format_version > FORMAT_VERSION:
                    report.newer[sid] = (
                        f"format_version {session.format_version} is newer than this "
                        f"program ({FORMAT_VERSION}); it is read-only here"
                    )
                else:
                    healthy[sid] = session
        if not writable:
            report.stale = [x for one in healthy.values() for x in _stale(backend, conn, one)]
    report.sessions = len(healthy) + len(report.newer)
    if not writable:
        return report
    if backend._schema_version is not None and backend._schema_version > SCHEMA_VERSION:
        return report  # newer data is never rewritten
    with backend._writing() as wconn:
        for sid, session in healthy.items():
            row = wconn.execute(
                f"SELECT summary::text FROM {backend._q}.sessions WHERE id = %s FOR UPDATE",
                (sid,),
            ).fetchone()
            if row is None:
                continue
            expected = summarize(session)
            if _decoded_summary(row[0]) != expected:
                backend._write_summary(wconn, expected)
                report.fixed.append(f"summary of {sid} rebuilt from its messages")
            if search.repair(wconn, backend._q, sid):
                report.fixed.append(f"search words of {sid} folded again from its texts")
        if repair:
            _move_aside(backend, wconn, list(report.damaged), report)
    return report


def _may_write(backend: PostgresBackend, conn: Any) -> bool:
    """Whether this role may make the check's writes: the server takes writes (not a standby,
    not read-only by default) and the role may update and delete the store's rows."""
    sessions, messages = f"{backend._q}.sessions", f"{backend._q}.messages"
    row = conn.execute(
        "SELECT NOT pg_is_in_recovery() "
        "AND current_setting('default_transaction_read_only') = 'off' "
        "AND has_table_privilege(%s, 'UPDATE') AND has_table_privilege(%s, 'DELETE') "
        "AND has_table_privilege(%s, 'UPDATE')",
        (sessions, sessions, messages),
    ).fetchone()
    return bool(row[0])


def _stale(backend: PostgresBackend, conn: Any, session: Session) -> list[str]:
    """What the check would fix in ``session``'s rows, read only."""
    found = []
    row = conn.execute(
        f"SELECT summary::text FROM {backend._q}.sessions WHERE id = %s", (session.id,)
    ).fetchone()
    if row is not None and _decoded_summary(row[0]) != summarize(session):
        found.append(f"summary of {session.id} disagrees with its messages")
    want, rows = search.stale_columns(conn, backend._q, session.id)
    if want is not None or rows:
        found.append(f"search words of {session.id} disagree with its texts")
    return found


def _decoded_summary(text: str) -> SessionSummary | None:
    try:
        return _summary_decoder.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError):
        return None


def _rows_mismatch(backend: PostgresBackend, conn: Any, sid: str) -> str | None:
    """How the session's message rows disagree with its summary (a row deleted by hand);
    see ``prompt_sessions.storage.message_rows``."""
    positions = [
        r[0]
        for r in conn.execute(
            f"SELECT idx FROM {backend._q}.messages WHERE session_id = %s ORDER BY idx", (sid,)
        )
    ]
    row = conn.execute(
        f"SELECT summary::text FROM {backend._q}.sessions WHERE id = %s", (sid,)
    ).fetchone()
    return message_rows.mismatch(positions, row[0] if row else b"")


def _move_aside(
    backend: PostgresBackend, conn: Any, damaged: list[str], report: HealthReport
) -> None:
    if not damaged:
        return
    import time

    from prompt_sessions.storage import files

    aside = backend.root / "damaged"
    files.ensure_dir(aside)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for sid in damaged:
        row = conn.execute(
            f"SELECT head::text, updated_at, summary::text FROM {backend._q}.sessions "
            "WHERE id = %s",
            (sid,),
        ).fetchone()
        if row is None:
            continue
        bodies = [
            r[0]
            for r in conn.execute(
                f"SELECT body::text FROM {backend._q}.messages WHERE session_id = %s ORDER BY idx",
                (sid,),
            )
        ]
        salvage = {"head": row[0], "updated_at": row[1], "summary": row[2], "messages": bodies}
        target = aside / f"{sid}.{stamp}.json"
        files.atomic_write(target, _encoder.encode(salvage) + b"\n")
        conn.execute(f"DELETE FROM {backend._q}.sessions WHERE id = %s", (sid,))
        report.moved.append(str(target))
