"""Helpers shared by the reliability tests: sizes, managers, and what a clean store looks like."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import msgspec

from prompt_sessions.ids import SESSION_FILE_RE
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import SessionSummary, summarize
from prompt_sessions.plugins import PluginHost
from prompt_sessions.storage import (
    catalog,
    json_backend,
    json_catalog_view,
    json_health,
    json_reading,
    json_replace,
    json_store_base,
    json_trash,
    session_codec,
)
from prompt_sessions.storage.files import TEMP_SUFFIX
from prompt_sessions.storage.json_backend import JsonBackend

LONG_ENV = "PROMPT_SESSIONS_LONG"
_HOST: PluginHost | None = None


def long_mode() -> bool:
    return os.environ.get(LONG_ENV, "") not in ("", "0")


def scaled(ci_size: int) -> int:
    """The CI size, or ten times it for a release run."""
    return ci_size * 10 if long_mode() else ci_size


def host() -> PluginHost:
    """Built-in plugins only, built once: loading plugins is not what these tests measure."""
    global _HOST
    if _HOST is None:
        _HOST = PluginHost.create(entry_points=False)
    return _HOST


def open_manager(root: Path, **backend_options: Any) -> SessionManager:
    """A manager as ``SessionManager.open`` builds it, with backend options the tests choose."""
    options: dict[str, Any] = {"lock_timeout": 5.0, "idle_fold_seconds": None}
    options.update(backend_options)
    backend = JsonBackend(root, **options)
    backend.open_store()
    return SessionManager(root, backend, host(), {})


def abandon(manager: SessionManager) -> None:
    """Drop a manager as a killed process would: no close, no fold at exit."""
    from prompt_sessions.storage import json_backend

    backend = manager.backend
    assert isinstance(backend, JsonBackend)
    backend._closed = True  # stops the idle fold thread, which a killed process would not run
    wake = getattr(backend, "_wake", None)
    if wake is not None:
        wake.set()
    json_backend._open_backends.discard(backend)
    cache = backend._search_cache
    if cache is not None:
        cache.close()  # the kernel closes a killed process's descriptors, the cache's too


def session_files(root: Path) -> dict[str, Path]:
    folder = root / "sessions"
    if not folder.is_dir():
        return {}
    found = {}
    for name in os.listdir(folder):
        m = SESSION_FILE_RE.match(name)
        if m:
            found[m.group(1)] = folder / name
    return found


def temp_files(root: Path) -> list[str]:
    folder = root / "sessions"
    if not folder.is_dir():
        return []
    return [n for n in os.listdir(folder) if n.endswith(TEMP_SUFFIX)]


def rebuilt_summaries(root: Path, damaged: set[str] | None = None) -> dict[str, SessionSummary]:
    """What the catalog must say, computed from the session files alone.

    Every file must parse, except those whose ids are in ``damaged`` (damage planted on purpose).
    """
    found = {}
    for sid, path in session_files(root).items():
        if damaged is not None and sid in damaged:
            continue
        session = session_codec.decode_session(path.read_bytes(), sid)
        found[sid] = summarize(session)
    return found


def catalog_on_disk(root: Path) -> catalog.CatalogFile:
    data = (root / "sessions" / "index.json").read_bytes()
    return msgspec.json.decode(data, type=catalog.CatalogFile)


def by_id(summaries: list[SessionSummary]) -> dict[str, SessionSummary]:
    return {s.id: s for s in summaries}


def assert_at_rest(root: Path, damaged: set[str] | None = None) -> None:
    """The folder at rest is the whole truth: no side files, and index.json equals a rebuild."""
    damaged = damaged or set()
    rebuilt = rebuilt_summaries(root, damaged)
    folder = root / "sessions"
    if not folder.is_dir():
        return
    assert temp_files(root) == []
    assert not (folder / "index.journal").exists(), "journal left after close"
    on_disk = catalog_on_disk(root)
    assert by_id(on_disk.sessions) == rebuilt
    assert set(on_disk.damaged) == damaged & set(session_files(root))
    for po, sid in on_disk.current.items():
        assert sid in rebuilt, f"current session of {po} points at a missing session"


def snapshot(root: Path) -> dict[str, bytes]:
    """Bytes of every session file, by id."""
    return {sid: path.read_bytes() for sid, path in session_files(root).items()}


def store_roots(base: Path) -> list[Path]:
    """Every environment folder under ``base``: a folder holding a ``sessions`` folder."""
    return [p.parent for p in base.rglob("sessions") if p.is_dir() and not p.is_symlink()]


def hygiene_problems(base: Path, check_modes: bool = True) -> list[str]:
    problems = []
    for root in store_roots(base):
        lock_files = [p for p in (root / "sessions").iterdir() if p.name.endswith(".lock")]
        if len(lock_files) > 1:
            problems.append(f"{len(lock_files)} lock files in {root}")
        if not check_modes:
            continue
        for path in [root, *root.rglob("*")]:
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                continue
            want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
            if stat.S_IMODE(st.st_mode) != want:
                problems.append(f"{path} has mode {oct(stat.S_IMODE(st.st_mode))}, not {oct(want)}")
    return problems


JSON_STORE_MODULES = (
    json_backend,
    json_trash,
    json_catalog_view,
    json_health,
    json_reading,
    json_replace,
    json_store_base,
)


def patch_store_os(monkeypatch: Any, fake: Any) -> None:
    """Replace ``os`` in every JSON-store module, so a fault hits whichever layer calls it."""
    for module in JSON_STORE_MODULES:
        monkeypatch.setattr(module, "os", fake)
