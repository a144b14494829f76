"""Stores and catalogs for the look-ups that read index.json's bytes (``catalog_lookup``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reliability_support import open_manager

from prompt_sessions.models import Session, summarize
from prompt_sessions.storage import catalog_layout


def make_session(sid: str, name: str, po: str = "po", **fields: Any) -> Session:
    """A session of ``po`` with fixed times, so catalogs built from it are the same each run."""
    return Session(
        id=sid,
        name=name,
        po_name=po,
        **fields,
        created_at="2025-01-01T09:00:00.000Z",
        updated_at="2025-01-01T10:00:00.000Z",
    )


def store_of(root: Path, *sessions: Session) -> None:
    """A store holding ``sessions``, its catalog folded into index.json."""
    mgr = open_manager(root)
    for session in sessions:
        mgr.backend.create(session)
    mgr.close()


def catalog_of(*sessions: Session, unstamped: str = "") -> bytes:
    """index.json's bytes for ``sessions``, each with the stamp (1, 2, 3) but ``unstamped``."""
    stamps = {s.id: (1, 2, 3) for s in sessions if s.id != unstamped}
    return catalog_layout.encode([summarize(s) for s in sessions], {}, stamps, {})


def fail(self: Any, *args: Any) -> Any:
    """Patched over a way of reading the whole catalog that must not be taken."""
    raise AssertionError("the whole catalog was read")
