"""The postgres store's ``check`` (what ``doctor`` runs): decode, rebuild, move damage aside.

Every session is decoded from its rows; summaries and search columns that disagree with the
texts are rewritten under the session's row lock; with ``repair``, a damaged session's rows are
saved whole to ``damaged/`` and dropped. Newer data (a newer session or schema) is never
rewritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from prompt_sessions.errors import CorruptSession, NewerSession, SessionNotFound
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
    report.sessions = len(healthy) + len(report.newer)
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
            try:
                stored = _summary_decoder.decode(row[0])
            except (msgspec.DecodeError, msgspec.ValidationError, TypeError):
                stored = None
            if stored != expected:
                backend._write_summary(wconn, expected)
                report.fixed.append(f"summary of {sid} rebuilt from its messages")
            if search.repair(wconn, backend._q, sid):
                report.fixed.append(f"search words of {sid} folded again from its texts")
        if repair:
            _move_aside(backend, wconn, list(report.damaged), report)
    return report


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
