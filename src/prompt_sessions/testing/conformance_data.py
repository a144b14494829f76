"""The sessions, messages and times the backend conformance suite builds its cases from."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..ids import new_id
from ..models import Message, Session
from ..storage.base import StorageBackend

BackendFactory = Callable[[Path], StorageBackend]

BASE_DAY = "2025-01-03"
BAD_IDS = [
    "../../etc/passwd",
    "",
    "6F1C0E9A-3B7D-4C52-9A55-1F0D2B8E4C11",  # uppercase: ids are lowercase
    "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11/../x",
    "6f1c0e9a3b7d4c529a551f0d2b8e4c11",
]


def stamp(minute: int, second: int = 0) -> str:
    """A fixed timestamp on the test day, so ordering never depends on the clock."""
    return f"{BASE_DAY}T{10 + minute // 60:02d}:{minute % 60:02d}:{second:02d}.000Z"


def make_message(text: str, minute: int = 1, second: int = 0, **fields: Any) -> Message:
    return Message(
        role=fields.pop("role", "user"), content=text, created_at=stamp(minute, second), **fields
    )


def make_session(
    po_name: str = "coordinator",
    name: str = "Debug task",
    *,
    minute: int = 0,
    messages: Iterable[Message] = (),
    **fields: Any,
) -> Session:
    history = list(messages)
    return Session(
        id=new_id(),
        name=name,
        po_name=po_name,
        created_at=stamp(minute),
        updated_at=history[-1].created_at if history else stamp(minute),
        history=history,
        **fields,
    )


def backend_factory_for(
    name: str, *, plugins: Iterable[object] = (), config: dict[str, Any] | None = None
) -> BackendFactory:
    """A factory that builds the backend registered as ``name``, as ``SessionManager.open`` does."""
    from ..config import check_config
    from ..plugins import PluginHost

    host = PluginHost.create(entry_points=False, plugins=plugins)
    factory = host.storage_factory(name)
    storage = check_config({"storage": {"backend": name, **(config or {})}}, host).storage
    return lambda root: factory(root, storage)
