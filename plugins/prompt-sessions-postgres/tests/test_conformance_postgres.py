"""The backend conformance suite, unmodified, against a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import prompt_sessions_postgres
import pytest
from pg_support import schema_for

from prompt_sessions.testing.conformance import (
    BackendConformance,
    BackendFactory,
    ReplaceLastConformance,
    backend_factory_for,
)


class TestPostgresBackendConformance(BackendConformance, ReplaceLastConformance):
    """Every conformance check, on the postgres backend built as users get it (its plugin)."""

    @pytest.fixture
    def backend_factory(self, pg_dsn: str) -> BackendFactory:
        def factory(root: Path):  # type: ignore[no-untyped-def]
            build = backend_factory_for(
                "postgres",
                plugins=[prompt_sessions_postgres],
                config={"postgres": {"dsn": pg_dsn, "schema": schema_for(root)}},
            )
            return build(root)

        return factory
