"""Bringing the JSON store's search cache up to date before it answers (DESIGN section 12).

Every session in the cache carries a stamp: the summary it was indexed from. Sessions whose
stamp differs from the catalog's summary are indexed again, in batches of a bounded size so
progress moves and memory stays low; sessions gone from the catalog are dropped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from ..errors import SessionNotFound, StorageError
from ..models import Session, SessionSummary
from . import search_index

BATCH_SESSIONS = 200  # at most this many sessions per transaction while catching up,
BATCH_MESSAGES = 20_000  # and about this many messages, so progress moves and memory stays low
Progress = Callable[[int, int], None]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction on the cache, taken at once (``BEGIN IMMEDIATE``)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def catch_up(
    conn: sqlite3.Connection,
    known: dict[str, bytes],
    confirmed: dict[str, SessionSummary],
    summaries: Sequence[SessionSummary],
    load: Callable[[str], Session],
    progress: Progress | None,
) -> int:
    """Index again in ``conn`` every session of ``summaries`` (the catalog) whose stamp in
    ``known`` (id -> stamp, updated here) differs, and drop the sessions gone from the catalog.

    ``confirmed`` (updated here) holds the summaries found equal to their stamps before, so an
    unchanged summary is not encoded again. ``load`` reads a whole session from the store; one
    damaged or deleted since the listing is dropped from the cache. ``progress(done, total)``
    is told as batches finish. Returns how many sessions were (re)indexed.

    Raises:
        sqlite3.Error: the cache could not be written.
    """
    wanted = {s.id: s for s in summaries}
    stale = []
    for s in summaries:
        seen = confirmed.get(s.id)
        if seen is s or (seen is not None and seen == s):
            continue  # equal to its stamp when last compared, and the stamp is unchanged
        if known.get(s.id) == search_index.stamp_of(s):
            confirmed[s.id] = s
        else:
            confirmed.pop(s.id, None)
            stale.append(s.id)
    gone = [sid for sid in known if sid not in wanted]
    if gone:
        with transaction(conn):
            for sid in gone:
                search_index.drop_session(conn, sid)
        for sid in gone:
            del known[sid]
            confirmed.pop(sid, None)
    total = len(stale)
    if total and progress is not None:
        progress(0, total)
    done = 0
    # Oldest first, so the newest sessions get the highest rowids: a first page (newest rowids
    # first) then shows recent conversations.
    stale.sort(key=lambda sid: wanted[sid].updated_at)
    for batch in _batches([wanted[sid] for sid in stale]):
        loaded: list[tuple[str, Session | None]] = []
        for sid in batch:
            try:
                loaded.append((sid, load(sid)))
            except (StorageError, SessionNotFound):
                loaded.append((sid, None))  # damaged or deleted since the listing
        with transaction(conn):
            for sid, session in loaded:
                if session is None:
                    search_index.drop_session(conn, sid)
                else:
                    search_index.put_session(conn, session, session.summary())
        for sid, session in loaded:
            if session is None:
                known.pop(sid, None)
            else:
                known[sid] = search_index.stamp_of(session.summary())
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return total


def _batches(summaries: Sequence[SessionSummary]) -> Iterator[list[str]]:
    batch: list[str] = []
    messages = 0
    for summary in summaries:
        batch.append(summary.id)
        messages += summary.message_count
        if len(batch) >= BATCH_SESSIONS or messages >= BATCH_MESSAGES:
            yield batch
            batch, messages = [], 0
    if batch:
        yield batch
