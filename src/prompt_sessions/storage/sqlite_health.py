"""``doctor`` for the sqlite store: SQLite's own page check, every session decoded, summaries and
the search index rebuilt where they disagree with the messages, and with ``repair`` damaged
sessions moved aside as JSON that keeps their exact bytes (DESIGN section 4, "Damage stays local").
"""

from __future__ import annotations

import builtins
import functools
import os
import sqlite3
import time

from ..errors import CorruptSession, NewerSession, ReadOnlyStore, SessionNotFound, StorageError
from ..ids import is_valid_id
from ..models import FORMAT_VERSION, Session, summarize
from . import files, search_health, search_index
from . import sqlite_rows as rows
from .base import HealthReport, check_private, refuse_repair
from .sqlite_connection import DB_NAME, SCHEMA_VERSION
from .sqlite_indexing import SqliteIndexing

ORPHANED = "its messages are stored but the session's own row is gone"
STRAY = "messages"  # doctor's name for message rows of something that is not a session id


class SqliteHealth(SqliteIndexing):
    """The store's health check and repair."""

    def check(self, repair: bool = False) -> HealthReport:
        """Check SQLite's pages, decode every session, fix summaries that disagree with their
        messages; with ``repair``, move damaged sessions to ``damaged/`` as JSON. On a store
        this program cannot write, check by reading only; ``repair`` raises ReadOnlyStore."""
        if repair and self.db_path.is_file() and search_health.unwritable(self.db_path):
            raise refuse_repair(self.root)  # checking reads only; repairing writes
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
                    verdict = _quick_check(conn, "")
                    ids = [r[0] for r in conn.execute("SELECT id FROM sessions ORDER BY id")]
                    orphans = [
                        r[0]
                        for r in conn.execute(
                            "SELECT DISTINCT session_id FROM messages"
                            " WHERE session_id NOT IN (SELECT id FROM sessions) ORDER BY 1"
                        )
                    ]
            except StorageError as exc:
                # The file itself is unreadable: report it and leave it exactly as it is. A
                # store that may not be written (a read-only mount) is not damaged: nothing
                # is to be moved aside.
                found = report.unreadable if isinstance(exc, ReadOnlyStore) else report.damaged
                found[DB_NAME] = exc.message
                self.close()
                self._check_modes(report, repair)
                return report
            # Damaged pages in the search index alone are the index's damage, mended by
            # building it again; anywhere else they are the file's.
            pages_ok = verdict == "ok" or self._store_pages_ok(conn)
            if not pages_ok:
                report.damaged[DB_NAME] = f"SQLite reports: {verdict}"
            for sid in orphans:
                if is_valid_id(sid):
                    report.damaged[sid] = ORPHANED
                else:  # not an id (a hand edit): never part of a path, so never moved
                    report.damaged[STRAY] = "message rows name a session id that is not one"
            healthy: dict[str, Session] = {}
            for sid in ids:
                try:
                    with self._reading() as rconn:
                        assert rconn is not None
                        session = rows.load(rconn, sid)
                        gap = rows.mismatch(rconn, sid, rows.head_row(rconn, sid)[2])
                    if gap is not None:
                        # Not rewritten to fit: the summary is the witness of what was lost.
                        raise CorruptSession(sid, gap)
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
                with self._reading() as rconn:  # ``conn`` may have been closed since
                    assert rconn is not None
                    damage = self._read_only_index_damage(rconn, verdict, healthy)
                if damage is not None:
                    report.damaged[search_health.KEY] = f"{damage}; {search_health.UNWRITABLE}"
                return report
            self._sweep_temp_files()
            damage = None
            if verdict != "ok":
                # Read outside any transaction: SQLite meeting damaged pages fails its COMMIT.
                damage = search_health.damage(conn, pages=True)
                if damage is None:  # not in the index's tables: the file's own damage
                    report.damaged.setdefault(DB_NAME, f"SQLite reports: {verdict}")
            self._index_off = 2 if damage else 0  # nor is a damaged index written below
            try:
                with self._writing() as wconn:
                    self._fix_summaries(wconn, healthy, report)
                    if verdict == "ok":
                        damage = self._search_index_damage(wconn, healthy, report)
                    stale = wconn.execute(
                        "DELETE FROM current WHERE session_id NOT IN (SELECT id FROM sessions)"
                    ).rowcount
                    if stale:
                        report.fixed.append(
                            f"forgot {stale} current-session choice(s) of deleted sessions"
                        )
                    if repair:
                        self._move_aside(
                            wconn,
                            [
                                s
                                for s in report.damaged
                                if s not in (DB_NAME, STRAY, search_health.KEY)
                            ],
                            report,
                        )
            finally:
                self._index_off = 0
        if damage is not None:
            self._report_index_damage(damage, len(healthy), report, repair)
        return report

    def _read_only_index_damage(
        self, conn: sqlite3.Connection, verdict: str, healthy: dict[str, Session]
    ) -> str | None:
        """What is wrong with the index, found by reading only (a store this program cannot
        write): the full check, then whether it holds every session as it now is."""
        damage = search_health.read_only_damage(conn, pages=verdict != "ok")
        if damage is not None or search_index.version(conn) != search_index.VERSION:
            return damage
        try:
            known = search_index.stamps(conn)
        except sqlite3.Error:
            return None
        behind = sum(
            known.get(sid) != search_index.stamp_of(summarize(s)) for sid, s in healthy.items()
        )
        return f"it holds {behind} session(s) as they were before a change" if behind else None

    def _report_index_damage(
        self, damage: str, sessions: int, report: HealthReport, repair: bool
    ) -> None:
        """A damaged index is a problem doctor reports under ``search_health.KEY``; with
        ``repair`` it is built again whole from the sessions, as the cache it is (DESIGN
        section 12), in transactions of its own."""
        if not repair:
            report.damaged[search_health.KEY] = (
                f"{damage}; `prompt-sessions doctor --repair` builds it again from the sessions"
            )
        elif self._rebuild_index():
            report.fixed.append(f"search index built again ({sessions} session(s)): {damage}")
        else:
            report.damaged[search_health.KEY] = f"{damage}; SQLite could not build it again"

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

    def _store_pages_ok(self, conn: sqlite3.Connection) -> bool:
        """Whether SQLite finds every page of the sessions' own tables sound (the search
        index's tables aside)."""
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith("search_")
        ]
        return all(_quick_check(conn, n) == "ok" for n in names)

    def _search_index_damage(
        self,
        conn: sqlite3.Connection,
        healthy: dict[str, Session],
        report: HealthReport,
    ) -> str | None:
        """Index again every session a sound index holds differently, and forget the gone
        ones; what is wrong with the index instead, if it is damaged (a table gone, values
        SQLite cannot read, a write that could not update it)."""
        damage = None
        with search_health.undone_on_damage(conn, "search_refresh") as outcome:
            damage = self._refresh_search_index(conn, healthy, report)
        if outcome.error is not None:
            damage = f"it cannot be read ({outcome.error})"
        return damage or search_health.damage(conn, pages=False)

    def _refresh_search_index(
        self, conn: sqlite3.Connection, healthy: dict[str, Session], report: HealthReport
    ) -> str | None:
        """Bring a sound index's stamps up to date; what is wrong with it instead, if it is
        stale or partly gone (it is not touched then)."""
        if search_index.version(conn) != search_index.VERSION or not search_index.intact(conn):
            return search_health.damage(conn, pages=False)
        known = search_index.stamps(conn)
        redone = 0
        for sid, session in healthy.items():
            summary = summarize(session)
            if known.get(sid) != search_index.stamp_of(summary):
                search_index.put_session(conn, session, summary)
                redone += 1
        # A session still stored (damaged, newer or unreadable now) stays indexed as it was.
        kept = (
            healthy.keys() | report.damaged.keys() | report.newer.keys() | report.unreadable.keys()
        )
        for sid in known.keys() - kept:
            search_index.drop_session(conn, sid)
            redone += 1
        if redone:
            report.fixed.append(f"search index: {redone} session(s) indexed again")
        return None

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
            row: tuple[bytes, bytes, bytes] | None
            try:
                row = rows.head_row(conn, sid)  # as bytes, whatever their encoding
            except SessionNotFound:
                row = None  # messages whose session row is gone: kept all the same
            messages = [
                {"idx": r[0], "body": rows.exact(r[1])}
                for r in conn.execute(
                    "SELECT idx, CAST(body AS BLOB) FROM messages"
                    " WHERE session_id = ? ORDER BY idx",
                    (sid,),
                )
            ]
            if row is None and not messages:
                continue  # deleted by another process since it was reported
            head, updated_at, summary = (rows.exact(v) for v in row) if row else (None,) * 3
            salvage = {
                "id": sid,
                "values": "text, or {'base64': ...} for bytes that are not UTF-8",
                "head": head,
                "updated_at": updated_at,
                "summary": summary,
                "messages": messages,
            }
            target = files.unused_path(aside, f"{sid}.{stamp}", ".json")
            files.atomic_write(target, rows.encoder.encode(salvage) + b"\n")
            conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
            conn.execute("DELETE FROM messages WHERE session_id = ?", (sid,))
            conn.execute("DELETE FROM current WHERE session_id = ?", (sid,))
            self._index(conn, functools.partial(search_index.drop_session, sid=sid))
            report.moved.append(str(target))


def _quick_check(conn: sqlite3.Connection, table: str) -> str:
    """SQLite's page check of the file (or of ``table`` alone): "ok", or what it found, also
    when the damage is such that SQLite raises instead of listing it."""
    try:
        return conn.execute(f"PRAGMA quick_check{f'({table})' if table else ''}").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if not search_health.is_damage(exc):
            raise
        return str(exc)
