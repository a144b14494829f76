"""Search answered by the server: the language's cases, the same hits in the same order as the
sqlite store, search columns kept in step by every write, and the upgrade that fills them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pg_support import open_manager, schema_for, write_config
from prompt_sessions_postgres.schema import SCHEMA_VERSION

from prompt_sessions import Message, SessionManager
from prompt_sessions.ids import new_id
from prompt_sessions.models import Session
from prompt_sessions.plugins import PluginHost
from prompt_sessions.storage import search_cache
from prompt_sessions.storage.base import SupportsSearch
from prompt_sessions.testing.search_conformance import SearchConformance, corpus


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("searched in memory, not on the server")


@pytest.fixture
def no_memory_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any search that would be answered from an index built in memory."""
    monkeypatch.setattr(search_cache, "SearchCache", _refuse)


class TestPostgresSearchConformance(SearchConformance):
    """Every search case of the conformance suite, answered by the server itself."""

    @pytest.fixture
    def backend(self, tmp_path: Path, pg_dsn: str, no_memory_index: None) -> Iterator[Any]:
        with open_manager(write_config(tmp_path / "env", pg_dsn)) as mgr:
            assert isinstance(mgr.backend, SupportsSearch)
            yield mgr.backend

    @pytest.fixture
    def manager(self, backend: Any, tmp_path: Path) -> SessionManager:
        return SessionManager(tmp_path / "env", backend, PluginHost.create(entry_points=False))


# ---------------------------------------------------------------------- same hits as sqlite


def _ranking_corpus() -> list[Session]:
    """Sessions whose messages repeat words at different rates and lengths, so BM25 orders
    them in many distinct ways, with ties."""
    words = ["deploy", "config", "server", "cache", "crème", "数据库", "walrus", "plan"]
    sessions = []
    for n in range(12):
        history = []
        for k in range(6):
            picked = [words[(n * 3 + k * j) % len(words)] for j in range(1 + (n + k) % 5)]
            filler = " ".join(f"f{(n + k + i) % 7}" for i in range((n * k) % 9))
            history.append(
                Message(
                    role=("user", "assistant", "tool")[k % 3],  # type: ignore[arg-type]
                    content=f"{' '.join(picked)} {filler} {picked[0]}",
                    created_at=f"2025-01-{1 + k:02d}T10:00:00.000Z",
                )
            )
        sessions.append(
            Session(
                id=new_id(),
                name=f"{words[n % len(words)]} notes {n}",
                po_name=("ops", "chef")[n % 2],
                created_at="2025-01-01T09:00:00.000Z",
                updated_at=history[-1].created_at,
                history=history,
                tags=["Team"] if n % 3 == 0 else None,
                archived=n % 4 == 0,
            )
        )
    return sessions


RANKED_QUERIES = [
    "deploy",
    "config server",
    "cache*",
    "creme",
    "数据",
    '"deploy config"',
    "plan -walrus",
    "walrus role:assistant",
    "server tag:team",
    "deploy -is:archived",
    "config after:2025-01-03 before:2025-01-05",
    "notes in:name",
    "f1 deploy",
]


def test_hits_and_order_equal_the_sqlite_store(
    tmp_path: Path, pg_dsn: str, no_memory_index: None
) -> None:
    """The same sessions in postgres and in sqlite: each query gives the same hits, in the same
    order, with the same snippets, with and without a limit."""
    sessions = _ranking_corpus()
    lite_root = tmp_path / "lite"
    lite_root.mkdir()
    (lite_root / "config.toml").write_text('[storage]\nbackend = "sqlite"\n')
    with (
        open_manager(write_config(tmp_path / "pg", pg_dsn)) as pg,
        open_manager(lite_root) as lite,
    ):
        for session in sessions:
            pg.backend.create(session)
            lite.backend.create(session)
        for query in RANKED_QUERIES:
            for limit in (200, 5):
                ours = [
                    (h.session.id, h.message_index, h.snippet)
                    for h in pg.search(query, limit=limit)
                ]
                theirs = [
                    (h.session.id, h.message_index, h.snippet)
                    for h in lite.search(query, limit=limit)
                ]
                assert ours == theirs, query
        assert pg.search("deploy")  # the corpus does match


def _overlap_corpus() -> list[Session]:
    """Texts where a phrase's occurrences overlap, at different rates and lengths, in ASCII,
    accented and CJK text, so BM25's count of each phrase decides the order."""
    texts = [
        "ab ab ab",
        "ab ab ab ab",
        "ab ab zz",
        "zz ab ab zz ab ab",
        "abc ab ab abc",
        "éa éa éa",
        "Éa ÉA éa éa zz",
        "ea ea zz",
        "数据数据数据",
        "数据数据猫狗",
        "数据 数据 数据 数据",
        "zz yy xx",
    ]
    return [
        Session(
            id=new_id(),
            name=f"overlap {n}",
            po_name="po",
            created_at="2025-01-01T09:00:00.000Z",
            updated_at="2025-01-01T10:00:00.000Z",
            history=[
                Message(role="user", content=text, created_at="2025-01-01T10:00:00.000Z"),
                Message(
                    role="assistant",
                    content=f"{text} {text}",
                    created_at="2025-01-01T10:00:00.000Z",
                ),
            ],
        )
        for n, text in enumerate(texts)
    ]


OVERLAP_QUERIES = [
    '"ab ab"',
    '"ab ab ab"',
    '"ab a"*',
    "ab*",
    '"ea ea"',
    '"éa éa éa"',
    '"数据数据"',
    "数据",
]


def test_overlapping_phrases_rank_and_count_as_in_sqlite(
    tmp_path: Path, pg_dsn: str, no_memory_index: None
) -> None:
    """Phrases whose occurrences overlap ("ab ab" in "ab ab ab"), in ASCII and non-ASCII
    text: the same hits, in the same order, with the same counts as the sqlite store, with and
    without a limit."""
    sessions = _overlap_corpus()
    lite_root = tmp_path / "lite"
    lite_root.mkdir()
    (lite_root / "config.toml").write_text('[storage]\nbackend = "sqlite"\n')
    with (
        open_manager(write_config(tmp_path / "pg", pg_dsn)) as pg,
        open_manager(lite_root) as lite,
    ):
        for session in sessions:
            pg.backend.create(session)
            lite.backend.create(session)
        for query in OVERLAP_QUERIES:
            for limit in (200, 3):
                ours = [(h.session.id, h.message_index) for h in pg.search(query, limit=limit)]
                theirs = [(h.session.id, h.message_index) for h in lite.search(query, limit=limit)]
                assert ours == theirs, query
                assert ours, query


# ---------------------------------------------------------------------- kept in step by writes


def test_fork_update_and_tags_are_searchable_at_once(
    tmp_path: Path, pg_dsn: str, no_memory_index: None
) -> None:
    """A fork's copied messages, a new PO name, new tags and a new name are found by the next
    search: every write fills the search columns in its own transaction."""
    with open_manager(write_config(tmp_path / "env", pg_dsn)) as mgr:
        s = mgr.create("coordinator", "Plain")
        mgr.append(s.id, Message(role="user", content="Über die Brücke"))
        mgr.append(s.id, Message(role="assistant", content="the bridge"))
        fork = mgr.fork(s.id, 1, "Branch")
        assert {(h.session.id, h.message_index) for h in mgr.search("uber brucke")} == {
            (s.id, 0),
            (fork.id, 0),
        }
        mgr.backend.update(s.id, tags=["Straße"], po_name="writer", name="Ponte")
        assert [h.message_index for h in mgr.search("bridge tag:strasse po:WRITER")] == [1]
        assert [h.session.id for h in mgr.search("ponte in:name")] == [s.id]
        assert mgr.search("plain in:name") == []


def test_the_patterns_can_use_the_trigram_index(tmp_path: Path, pg_dsn: str) -> None:
    """The store has pg_trgm GIN indexes on the folded words, and the server uses them for a
    word's pattern when scanning is made expensive."""
    root = write_config(tmp_path / "env", pg_dsn)
    with open_manager(root) as mgr:
        mgr.create("coordinator", "Indexed")
    schema = schema_for(root)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        names = {
            r[0]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)
            )
        }
        assert {"messages_words", "sessions_words"} <= names
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                f'EXPLAIN SELECT idx FROM "{schema}".messages WHERE folded ~ %s',
                ("(^| )walrus( |$)",),
            )
        )
        assert "messages_words" in plan


# ---------------------------------------------------------------------- the upgrade


def _downgrade_to_version_1(dsn: str, schema: str) -> None:
    """Make the store look as version 1 left it: no search columns, its index on updated_at,
    no trash."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f'DROP TABLE "{schema}".trash_messages, "{schema}".trash;'
            f'ALTER TABLE "{schema}".messages DROP COLUMN folded, DROP COLUMN words;'
            f'ALTER TABLE "{schema}".sessions DROP COLUMN folded_name, DROP COLUMN name_words, '
            "DROP COLUMN po_key, DROP COLUMN tag_keys;"
            f"UPDATE \"{schema}\".meta SET value = '1' WHERE key = 'schema_version';"
            f'CREATE INDEX sessions_by_update ON "{schema}".sessions '
            "(updated_at DESC, created_at DESC)"
        )


def test_upgrade_fills_the_search_columns_of_existing_rows(
    tmp_path: Path, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version-1 store is searched in memory without being changed (reads never write); the
    first write upgrades it, filling every existing row, and the server then answers the
    language's accent, case and CJK cases alike."""
    root = write_config(tmp_path / "env", pg_dsn)
    schema = schema_for(root)
    sessions = corpus()
    with open_manager(root) as mgr:
        for session in sessions.values():
            mgr.backend.create(session)
    _downgrade_to_version_1(pg_dsn, schema)
    queries = ["creme brulee", "数据库", "config*", "strasse", "creme tag:cooking", "deploy po:ops"]
    with open_manager(root) as mgr:
        before = {q: [(h.session.id, h.message_index) for h in mgr.search(q)] for q in queries}
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        (version,) = conn.execute(
            f"SELECT value FROM \"{schema}\".meta WHERE key = 'schema_version'"
        ).fetchone()
    assert version == "1" and all(before.values())
    assert before["数据库"] == [(sessions["chef"].id, 2)]
    with open_manager(root) as mgr:
        mgr.create("coordinator", "After the upgrade")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        (version,) = conn.execute(
            f"SELECT value FROM \"{schema}\".meta WHERE key = 'schema_version'"
        ).fetchone()
        (empty,) = conn.execute(
            f'SELECT count(*) FROM "{schema}".messages WHERE folded IS NULL OR words IS NULL'
        ).fetchone()
    assert version == str(SCHEMA_VERSION) and empty == 0
    with open_manager(root) as mgr:
        monkeypatch.setattr(search_cache, "SearchCache", _refuse)
        after = {q: [(h.session.id, h.message_index) for h in mgr.search(q)] for q in queries}
    assert after == before


def test_doctor_folds_texts_edited_by_hand_again(tmp_path: Path, pg_dsn: str) -> None:
    """A message and a name changed with SQL leave stale search words behind; ``check`` (what
    doctor runs) finds them, reports them, and the next search sees the new words only."""
    root = write_config(tmp_path / "env", pg_dsn)
    schema = schema_for(root)
    with open_manager(root) as mgr:
        sid = mgr.create("coordinator", "Old name").id
        mgr.append(sid, Message(role="user", content="the walrus speaks"))
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(
                f"UPDATE \"{schema}\".messages SET body = json_build_object('role', 'user', "
                "'content', 'the pelican speaks', 'created_at', body->>'created_at') "
                "WHERE session_id = %s",
                (sid,),
            )
            conn.execute(
                f'UPDATE "{schema}".sessions SET head = (head::jsonb || \'{{"name": '
                '"Pelican notes"}\')::json WHERE id = %s',
                (sid,),
            )
        assert [h.message_index for h in mgr.search("walrus")] == [0]  # stale until checked
        report = mgr.backend.check()
        assert f"search words of {sid} folded again from its texts" in report.fixed
        assert mgr.search("walrus") == []
        assert [h.message_index for h in mgr.search("pelican")] == [None, 0]
        assert mgr.backend.check().fixed == []


def test_without_the_trigram_indexes_searches_scan_with_the_same_hits(
    tmp_path: Path, pg_dsn: str, no_memory_index: None
) -> None:
    """A server without pg_trgm has no trigram indexes: the same queries give the same hits in
    the same order, by scanning."""
    root = write_config(tmp_path / "env", pg_dsn)
    with open_manager(root) as mgr:
        for session in _ranking_corpus():
            mgr.backend.create(session)
        before = {
            q: [(h.session.id, h.message_index) for h in mgr.search(q)] for q in RANKED_QUERIES
        }
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            schema = schema_for(root)
            conn.execute(f'DROP INDEX "{schema}".messages_words, "{schema}".sessions_words')
        after = {
            q: [(h.session.id, h.message_index) for h in mgr.search(q)] for q in RANKED_QUERIES
        }
    assert after == before and all(before.values())
