"""The backend conformance suite against the built-in ``json`` backend."""

from __future__ import annotations

import pytest

from prompt_sessions.testing.conformance import (
    BackendConformance,
    BackendFactory,
    backend_factory_for,
)


class TestJsonBackendConformance(BackendConformance):
    """Every conformance check, on the JSON store built as users get it (through its plugin)."""

    @pytest.fixture
    def backend_factory(self) -> BackendFactory:
        return backend_factory_for("json")
