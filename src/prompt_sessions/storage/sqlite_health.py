"""``doctor`` for the sqlite store: SQLite's own page check, every session decoded, summaries and
the search index rebuilt where they disagree with the messages, and with ``repair`` damaged
sessions moved aside as JSON that keeps their exact bytes (DESIGN section 4, "Damage stays local").
"""

from __future__ import annotations

import builtins
import os
import sqlite3
import time

from ..errors import CorruptSession, NewerSession, SessionNotFound, StorageError
from ..models import FORMAT_VERSION, Session, summarize
from . import files, search_index
from . import sqlite_rows as rows
from .base import HealthReport, check_private
from .sqlite_connection import DB_NAME, SCHEMA_VERSION, SqliteConnection


class SqliteHealth(SqliteConnection):
    """The store's health check and repair."""

    def check(self, repair: bool = False) -> HealthReport:
        """Check SQLite's pages, decode every session, fix summaries that disagree with their
        messages; with ``repair``, move damaged sessions to ``damaged/`` as JSON."""
        report = HealthReport()
        with self._mutex:
            # doctor reports loose modes as it finds them; only --repair changes them.
            tightened, self._tightened = self._tightened, True
            try:
                return self._check(report, repair)
            finally:
                self._tightened = tightened

    def _check(self, report: HealthReport, repair: bool) -> HealthReport:
        with self._mutex:
            try:
                conn = self._connect(create=False)
                if conn is None:
                    return report
                with self._translate("check"):
                    verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
                    ids = [r[0] for r in conn.execute("SELECT id FROM sessions ORDER BY id")]
            except StorageError as exc:
                # The file itself is unreadable: report it and leave it exactly as it is.
                report.damaged[DB_NAME] = exc.message
                self.close()
                self._check_modes(report, repair)
                return report
            if verdict != "ok":
                report.damaged[DB_NAME] = f"SQLite reports: {verdict}"
            healthy: dict[str, Session] = {}
            for sid in ids:
                try:
                    with self._reading() as rconn:
                        assert rconn is not None
                        session = rows.load(rconn, sid)
                except NewerSession as exc:
                    report.newer[sid] = exc.reason  # not damage: never moved aside
                except CorruptSession as exc:
                    report.damaged[sid] = exc.reason
                except SessionNotFound:
                    continue  # deleted by another process while we looked
                except StorageError as exc:
                    # SQLite could not read this session's rows: it stays, reported, and the
                    # rest of the store is still checked.
                    report.unreadable[sid] = exc.message
                else:
                    healthy[sid] = session
                    if session.format_version > FORMAT_VERSION:
                        report.newer[sid] = (
                            f"format_version {session.format_version} is newer than this "
                            f"program ({FORMAT_VERSION}); it is read-only here"
                        )
            report.sessions = len(healthy)
            self._check_modes(report, repair)
            if self._schema_version > SCHEMA_VERSION:
                report.newer[str(self.db_path)] = (
                    f"schema version {self._schema_version} is newer than this program "
                    f"({SCHEMA_VERSION}); the store is read-only and was left as it is"
                )
                return report
            if not os.access(self.db_path, os.W_OK):
                return report
            self._sweep_temp_files()
            with self._writing() as wconn:
                self._fix_summaries(wconn, healthy, report)
                stale = wconn.execute(
                    "DELETE FROM current WHERE session_id NOT IN (SELECT id FROM sessions)"
                ).rowcount
                if stale:
                    report.fixed.append(
                        f"forgot {stale} current-session choice(s) of deleted sessions"
                    )
                if repair:
                    self._move_aside(wconn, [s for s in report.damaged if s != DB_NAME], report)
        return report

    def _check_modes(self, report: HealthReport, repair: bool) -> None:
        aside = self.root / "damaged"
        paths = [self.root, *self._db_files()]
        if aside.is_dir():
            paths += [aside, *files.entries(aside)]
        check_private(report, paths, repair)

    def _fix_summaries(
        self, conn: sqlite3.Connection, healthy: dict[str, Session], report: HealthReport
    ) -> None:
        for sid, session in healthy.items():
            row = conn.execute(
                "SELECT CAST(summary AS BLOB) FROM sessions WHERE id = ?", (sid,)
            ).fetchone()
            if row is None:
                continue
            expected = summarize(session)
            try:
                stored = rows.summary_decoder.decode(row[0])
            except rows.UNREADABLE:
                stored = None
            if stored != expected:
                rows.write_summary(conn, expected)
                report.fixed.append(f"summary of {sid} rebuilt from its messages")
        self._fix_search_index(conn, healthy, report)

    def _fix_search_index(
        self, conn: sqlite3.Connection, healthy: dict[str, Session], report: HealthReport
    ) -> None:
        """Index again every session the index holds differently, and forget the gone ones;
        an index SQLite cannot read (a table gone, pages damaged) is built again whole, as the
        cache it is (DESIGN section 12)."""
        try:
            self._refresh_search_index(conn, healthy, report)
        except sqlite3.DatabaseError as exc:
            search_index.drop(conn)
            search_index.create(conn)
            for session in healthy.values():
                search_index.put_session(conn, session, summarize(session))
            report.fixed.append(
                f"search index built again ({len(healthy)} session(s)): it could not be read "
                f"({exc})"
            )

    def _refresh_search_index(
        self, conn: sqlite3.Connection, healthy: dict[str, Session], report: HealthReport
    ) -> None:
        known = search_index.stamps(conn)
        redone = 0
        for sid, session in healthy.items():
            summary = summarize(session)
            if known.get(sid) != search_index.stamp_of(summary):
                search_index.put_session(conn, session, summary)
                redone += 1
        for sid in known.keys() - healthy.keys():
            search_index.drop_session(conn, sid)
            redone += 1
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
        if redone:
            report.fixed.append(f"search index: {redone} session(s) indexed again")

    def _move_aside(
        self, conn: sqlite3.Connection, damaged: builtins.list[str], report: HealthReport
    ) -> None:
        """Keep every byte of a damaged session in a file a person can inspect, then drop it.

        Each stored value is written as text when its bytes are UTF-8, else as
        ``{"base64": ...}``, so the exact bytes of every row come back (DESIGN section 4:
        repair moves damage aside, it never loses it). The file is written (and fsynced)
        before the rows are deleted, in the same transaction.
        """
        if not damaged:
            return
        aside = self.root / "damaged"
        files.ensure_dir(aside)
        files.tighten([aside])
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for sid in damaged:
            try:
                row = rows.head_row(conn, sid)  # as bytes, whatever their encoding
            except SessionNotFound:
                continue
            messages = [
                {"idx": r[0], "body": rows.exact(r[1])}
                for r in conn.execute(
                    "SELECT idx, CAST(body AS BLOB) FROM messages"
                    " WHERE session_id = ? ORDER BY idx",
                    (sid,),
                )
            ]
            salvage = {
                "id": sid,
                "values": "text, or {'base64': ...} for bytes that are not UTF-8",
                "head": rows.exact(row[0]),
                "updated_at": rows.exact(row[1]),
                "summary": rows.exact(row[2]),
                "messages": messages,
            }
            target = files.unused_path(aside, f"{sid}.{stamp}", ".json")
            files.atomic_write(target, rows.encoder.encode(salvage) + b"\n")
            conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
            conn.execute("DELETE FROM messages WHERE session_id = ?", (sid,))
            conn.execute("DELETE FROM current WHERE session_id = ?", (sid,))
            search_index.drop_session(conn, sid)
            report.moved.append(str(target))
