"""A real PostgreSQL server for the tests: one throwaway cluster per test process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prompt_sessions_postgres.cluster import ThrowawayCluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayCluster]:
    """A running server on a Unix socket in a temp folder, stopped when the tests end."""
    with ThrowawayCluster() as cluster:
        yield cluster


@pytest.fixture(autouse=True)
def _no_outside_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dsn in the developer's environment would win over every test's own config."""
    monkeypatch.delenv("PROMPT_SESSIONS_PG_DSN", raising=False)


@pytest.fixture
def pg_dsn(pg_cluster: ThrowawayCluster) -> str:
    return pg_cluster.dsn
