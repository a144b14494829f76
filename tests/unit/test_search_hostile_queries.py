"""Hostile search queries against both stores (DESIGN section 12): what a generated query
holds by the hundred gives the hits it asks for, not an error from SQLite about the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message


def _hits(manager: SessionManager, query: str) -> list[tuple[str, int | None]]:
    return sorted((h.session.name, h.message_index) for h in manager.search(query))


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_a_query_with_hundreds_of_excluded_words(tmp_path: Path, backend: str) -> None:
    """Two thousand ``-word``s (a generated query) exclude what they name and keep the rest,
    instead of SQLite's "parser stack overflow" surfacing as an error about the store."""
    with SessionManager.open(tmp_path / ".prompt_objects", backend=backend) as manager:
        for word in ("alpha", "bravo", "charlie"):
            session = manager.create("po", f"about {word}")
            manager.append(session.id, Message(role="user", content=f"the {word} plan"))
        excluded = " ".join(f"-w{i}" for i in range(2000))
        query = f"plan -alpha {excluded} -charlie"
        assert _hits(manager, query) == [("about bravo", 0)]
