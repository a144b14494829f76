"""Search at a million messages (DESIGN section 10 and 12).

Builds a JSON store of ``--sessions`` x ``--messages`` messages by writing session files directly
(not by appends), then times 30 one-to-three-word queries through ``SessionManager.search``
(limit 20, the CLI's default) against a raw FTS5 query for the same words over the same texts
(``ORDER BY rank LIMIT 20`` with ``snippet()``, unicode61 with accents removed). Each query's
figure is its median of ``--repeat`` runs; the target compares the p95 of those figures.

Then the explorer's first results (DESIGN section 10: within 50 ms): the same 30 queries, and
each again with a filter (``role:user``, ``is:archived``) and as a quoted phrase, through
``search_live.first_page`` with the explorer's limit, the call its search worker makes before
the ranked hits; and the fixed cost of a search that finds nothing, taken apart.

    python bench/bench_search.py [--sessions 2000] [--messages 500] [--keep DIR] [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import open_manager  # noqa: E402

from prompt_sessions import search_live  # noqa: E402
from prompt_sessions.models import Message, Session  # noqa: E402
from prompt_sessions.storage.session_codec import encode_session  # noqa: E402
from prompt_sessions.tui.screens.explorer import FIRST_PAGE_SECONDS, SEARCH_LIMIT  # noqa: E402

SEED = 20261201
VOCABULARY = 30_000
EXTRA = ["crème", "brûlée", "café", "naïve", "Straße", "über", "façade", "数据库", "迁移计划"]


def vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))))
    return sorted(words)


def zipf_weights(n: int) -> list[float]:
    return [1 / (rank + 1) for rank in range(n)]


def build_store(root: Path, sessions: int, messages: int) -> list[str]:
    """Write the session files directly; returns the vocabulary, most frequent first."""
    rng = random.Random(SEED)
    words = vocabulary(rng)
    rng.shuffle(words)
    cumulative = []
    total = 0.0
    for w in zipf_weights(len(words)):
        total += w
        cumulative.append(total)
    folder = root / "sessions"
    folder.mkdir(parents=True)
    for s in range(sessions):
        history = []
        for m in range(messages):
            count = rng.randint(15, 60)
            text = " ".join(rng.choices(words, cum_weights=cumulative, k=count))
            if rng.random() < 0.05:
                text += " " + rng.choice(EXTRA)
            minute = m % 60
            history.append(
                Message(
                    role="user" if m % 2 == 0 else "assistant",
                    content=text,
                    created_at=f"2025-{1 + s % 12:02d}-{1 + m % 28:02d}T10:{minute:02d}:00.000Z",
                )
            )
        session = Session(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            name=" ".join(rng.choices(words[:2000], k=3)),
            po_name=f"po{s % 7}",
            created_at="2025-01-01T09:00:00.000Z",
            updated_at=history[-1].created_at if history else "2025-01-01T09:00:00.000Z",
            history=history,
            archived=s % 10 == 0,
        )
        (folder / f"{session.id}.json").write_bytes(encode_session(session))
        if s % 200 == 0:
            print(f"  wrote {s}/{sessions} sessions", file=sys.stderr)
    return words


def queries(words: list[str]) -> list[str]:
    """30 queries: ten each of one, two and three words, from common to rare words."""
    rng = random.Random(SEED + 1)
    out = []
    for size in (1, 2, 3):
        for _ in range(10):
            out.append(
                " ".join(rng.choice(words[: rng.choice([50, 500, 5000])]) for _ in range(size))
            )
    return out


def raw_index(path: Path, root: Path) -> sqlite3.Connection:
    """An FTS5 table of the same message texts, as a program would build it directly."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(
        "CREATE VIRTUAL TABLE raw USING fts5(text, tokenize='unicode61 remove_diacritics 2')"
    )
    import msgspec

    decoder = msgspec.json.Decoder(Session)
    conn.execute("BEGIN")
    for name in os.listdir(root / "sessions"):
        if name.endswith(".json") and name != "index.json":
            session = decoder.decode((root / "sessions" / name).read_bytes())
            conn.executemany(
                "INSERT INTO raw (text) VALUES (?)", ((m.content,) for m in session.history)
            )
            conn.execute("INSERT INTO raw (text) VALUES (?)", (session.name,))
    conn.execute("COMMIT")
    return conn


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the store in this folder")
    parser.add_argument(
        "--quick", action="store_true", help="200 sessions (100,000 messages), 3 runs per query"
    )
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.repeat = 200, 3
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-search-"))
    root = base / ".prompt_objects"
    total = args.sessions * args.messages
    rng_words: list[str]
    if not (root / "sessions").exists():
        start = time.perf_counter()
        rng_words = build_store(root, args.sessions, args.messages)
        print(f"store of {total:,} messages written in {time.perf_counter() - start:.1f} s")
    else:
        rng = random.Random(SEED)
        rng_words = vocabulary(rng)
        rng.shuffle(rng_words)
    mgr = open_manager(root)
    start = time.perf_counter()
    mgr.list()
    print(f"catalog ready in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    mgr.search("warm")
    print(f"search index built (or checked) in {time.perf_counter() - start:.1f} s")
    raw_path = base / "raw.sqlite3"
    if raw_path.exists():
        raw = sqlite3.connect(raw_path)
    else:
        start = time.perf_counter()
        raw = raw_index(raw_path, root)
        print(f"raw FTS5 table built in {time.perf_counter() - start:.1f} s")

    def raw_query(q: str) -> list[tuple]:
        expr = " AND ".join(f'"{w}"' for w in q.split())
        return raw.execute(
            "SELECT rowid, snippet(raw, 0, '', '', '…', 12) FROM raw WHERE raw MATCH ? "
            "ORDER BY rank LIMIT 20",
            (expr,),
        ).fetchall()

    api_ms, raw_ms = [], []
    print(f"\n{'query':32} {'hits':>5} {'API ms':>9} {'raw ms':>9} {'ratio':>6}")
    for q in queries(rng_words):
        hits = mgr.search(q, limit=20)
        a = timed(lambda q=q: mgr.search(q, limit=20), args.repeat)
        r = timed(lambda q=q: raw_query(q), args.repeat)
        api_ms.append(a)
        raw_ms.append(r)
        print(f"{q:32} {len(hits):5} {a:9.2f} {r:9.2f} {a / r:6.2f}")
    list_ms = timed(mgr.list, args.repeat)
    api95, raw95 = p95(api_ms), p95(raw_ms)
    ratio = api95 / raw95
    print(
        f"\nlist() of {args.sessions} sessions (part of every JSON-store search): {list_ms:.1f} ms"
    )
    print(
        f"p95 over 30 queries: API {api95:.1f} ms, raw FTS5 {raw95:.1f} ms, "
        f"ratio {ratio:.2f}x (target <= 3x) {'MET' if ratio <= 3 else 'MISSED'}"
    )
    print(f"API p50 {statistics.median(api_ms):.1f} ms, raw p50 {statistics.median(raw_ms):.1f} ms")
    explorer(mgr, queries(rng_words), rng_words, args.repeat)
    fixed_cost(mgr, args.repeat)
    mgr.close()


def explorer(mgr: object, plain: list[str], top: list[str], repeat: int) -> None:
    """The explorer's first page for plain, filtered and phrase queries, and for the hardest
    kinds (the commonest word under a filter that keeps nothing, a one-letter prefix), through
    the call the explorer makes, with its time bound (target: 50 ms)."""
    words = [q.split() for q in plain]
    variants = {
        "words": plain,
        "role:user": [f"{q} role:user" for q in plain],
        "is:archived": [f"{q} is:archived" for q in plain],
        "phrase": [f'"{w[0]} {w[1]}"' if len(w) > 1 else f'"{w[0]}"' for w in words],
        "hard": [f"{top[0]} before:2000-01-01", f"{top[1]} po:nobody", "w*", "a*", "x*"],
    }

    def page(q: str, within: float | None) -> list:
        found = search_live.first_page(mgr, q, limit=SEARCH_LIMIT, within=within)  # type: ignore[arg-type]
        assert found is not None, "the index exists by now"
        return found

    print(
        f"\nexplorer's first page (search_live.first_page, limit {SEARCH_LIMIT}, "
        f"within {FIRST_PAGE_SECONDS * 1000:.0f} ms):"
    )
    print(f"{'kind':12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'empty':>6} {'cut':>4}")
    everything: list[float] = []
    for kind, texts in variants.items():
        figures = []
        empty = cut = 0
        for q in texts:
            bounded = page(q, FIRST_PAGE_SECONDS)
            empty += not bounded
            cut += len(bounded) < len(page(q, None))  # the time bound left matches out
            figures.append(timed(lambda q=q: page(q, FIRST_PAGE_SECONDS), repeat))
        everything += figures
        print(
            f"{kind:12} {statistics.median(figures):8.2f} {p95(figures):8.2f} "
            f"{max(figures):8.2f} {empty:6} {cut:4}"
        )
    worst = p95(everything)
    print(
        f"first page p95 over {len(everything)} queries: {worst:.1f} ms "
        f"(target <= 50 ms) {'MET' if worst <= 50 else 'MISSED'}; max {max(everything):.1f} ms"
    )


def fixed_cost(mgr: object, repeat: int) -> None:
    """What a search that finds nothing costs, and its parts (JSON store)."""
    backend = mgr.backend  # type: ignore[attr-defined]
    nothing = "qqqqzzzz"
    total = timed(lambda: mgr.search(nothing, limit=20), repeat)  # type: ignore[attr-defined]
    listing = timed(backend.list, repeat)
    known = timed(backend.list_known, repeat) if hasattr(backend, "list_known") else float("nan")
    first = timed(lambda: search_live.first_page(mgr, nothing, limit=SEARCH_LIMIT), repeat)  # type: ignore[arg-type]
    print(
        f"\nsearch finding nothing: {total:.2f} ms, of which the catalog's list() {listing:.2f} ms "
        f"(list_known(), without a look at the files: {known:.2f} ms); "
        f"the first page finding nothing: {first:.2f} ms"
    )
    if hasattr(backend, "list_known"):
        # The same cache file checked against the catalog as index.json and the journal hold
        # it: what a search costs once list() no longer looks at every file.
        from prompt_sessions.search_query import parse
        from prompt_sessions.storage.search_cache import SearchCache

        cache = SearchCache(backend.root, backend.list_known, backend.get)
        query = parse(nothing)
        try:
            light = timed(lambda: cache.search(query, 20), repeat)
        finally:
            cache.close()
        print(f"the same search checked against list_known() instead: {light:.2f} ms")


if __name__ == "__main__":
    main()
