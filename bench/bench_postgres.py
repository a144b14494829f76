"""PostgreSQL backend benchmarks against raw psycopg on the same server, in one run.

- append one message vs a raw INSERT + COMMIT of the same row (target <= 1.5x);
- list 10,000 summaries vs a raw SELECT of the same summaries, decoded (target <= 2x);
- the same append, list and search workload on json, sqlite and postgres side by side (search:
  a word of every session's message with one of a single session's, ``hello 777``).

Needs Debian's postgresql (``./scripts/test`` installs it); starts a throwaway server.
Run: python bench/bench_postgres.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import msgspec
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
import prompt_sessions_postgres  # noqa: E402
from _common import PAYLOAD, median_ms, report  # noqa: E402
from prompt_sessions_postgres.cluster import ThrowawayCluster  # noqa: E402

from prompt_sessions import Message, SessionManager  # noqa: E402
from prompt_sessions.ids import new_id  # noqa: E402
from prompt_sessions.models import Session, SessionSummary  # noqa: E402
from prompt_sessions.plugins import PluginHost  # noqa: E402
from prompt_sessions.storage import session_codec  # noqa: E402

QUICK = "--quick" in sys.argv
SESSIONS = 2_000 if QUICK else 10_000
STAMP = "2025-01-03T10:00:00.000Z"


def open_store(root: Path, backend: str, dsn: str, schema: str) -> SessionManager:
    host = PluginHost.create(entry_points=False, plugins=[prompt_sessions_postgres])
    config = {"storage": {"backend": backend, "postgres": {"dsn": dsn, "schema": schema}}}
    return SessionManager.open(root, host=host, config=config)


def bench_append(mgr: SessionManager, dsn: str, repeat: int) -> tuple[float, float]:
    """Median ms of our append and of a raw INSERT+COMMIT of the same row, interleaved."""
    sid = mgr.create("po", "bench").id
    message = Message(role="user", content=PAYLOAD)
    body = session_codec.encode_message(message).decode()
    with psycopg.connect(dsn, autocommit=True) as raw:
        raw.execute("CREATE TABLE IF NOT EXISTS raw_messages (s text, i int, body json)")
        counter = iter(range(10**9))
        ours, floors = [], []

        def insert() -> None:
            with raw.transaction():
                raw.execute(
                    "INSERT INTO raw_messages (s, i, body) VALUES (%s, %s, %s)",
                    (sid, next(counter), body),
                )

        for _ in range(repeat):
            floors.append(median_ms(insert, 1, warmup=0))
            ours.append(median_ms(lambda: mgr.append(sid, message), 1, warmup=0))
    return statistics.median(ours), statistics.median(floors)


def fill(mgr: SessionManager, count: int) -> None:
    """``count`` one-message sessions, created through the backend as users' sessions are."""
    for n in range(count):
        history = [Message(role="user", content=f"hello {n}", created_at=STAMP)]
        mgr.backend.create(
            Session(
                id=new_id(),
                name=f"s{n}",
                po_name="po",
                created_at=STAMP,
                updated_at=STAMP,
                history=history,
            )
        )


def raw_list(dsn: str, schema: str) -> float:
    decoder = msgspec.json.Decoder(list[SessionSummary])
    with psycopg.connect(dsn, autocommit=True) as raw:

        def select() -> None:
            rows = raw.execute(
                f'SELECT summary::text FROM "{schema}".sessions ORDER BY updated_at DESC'
            ).fetchall()
            decoder.decode("[" + ",".join(r[0] for r in rows) + "]")

        return median_ms(select, 5 if QUICK else 15)


def main() -> None:
    repeat = 100 if QUICK else 300
    with ThrowawayCluster(port=5488) as cluster, tempfile.TemporaryDirectory() as tmp:
        dsn = cluster.dsn
        print(f"PostgreSQL on a Unix socket; {SESSIONS:,} sessions for list\n")
        with open_store(Path(tmp) / "pg", "postgres", dsn, "bench") as mgr:
            ours, floor = bench_append(mgr, dsn, repeat)
            report("postgres: append one message vs raw INSERT+COMMIT", ours, floor, 1.5)
            fill(mgr, SESSIONS)
            listed = median_ms(mgr.list, 5 if QUICK else 15)
            report(
                f"postgres: list {SESSIONS:,} vs raw SELECT + decode",
                listed,
                raw_list(dsn, "bench"),
                2.0,
            )
        print("\nThe same workload on each backend (ms, median):")
        print(f"{'backend':10} {'append':>10} {'list ' + format(SESSIONS, ','):>14} {'search':>10}")
        for backend in ("json", "sqlite", "postgres"):
            with open_store(Path(tmp) / f"side-{backend}", backend, dsn, f"side_{backend}") as mgr:
                sid = mgr.create("po", "bench").id
                message = Message(role="user", content=PAYLOAD)
                append = median_ms(lambda: mgr.append(sid, message), repeat)  # noqa: B023
                fill(mgr, SESSIONS)
                mgr.flush()
                listed = median_ms(mgr.list, 5 if QUICK else 15)
                found = median_ms(lambda: mgr.search("hello 777"), 5 if QUICK else 15)  # noqa: B023
                print(f"{backend:10} {append:10.3f} {listed:14.1f} {found:10.1f}")


if __name__ == "__main__":
    main()
