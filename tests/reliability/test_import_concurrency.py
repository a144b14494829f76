"""Imports run at the same time by several processes (DESIGN sections 4 and 16): they take
turns on the store's import lease, so each finds the copies the others made and a
conversation is copied once, in both backends; a dry run writes nothing, not even a lease."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import assert_at_rest

from prompt_sessions.import_lease import ImportBusy
from prompt_sessions.importing import ImportRun
from prompt_sessions.manager import SessionManager
from prompt_sessions.reply_lease import reply_lease

TRANSCRIPT = next(
    (Path(__file__).parents[1] / "unit" / "data" / "import").glob("claude-code/*/5b1f*.jsonl")
)
IMPORT = """
import sys
from pathlib import Path
from prompt_sessions.importing import ImportRun
from prompt_sessions.manager import SessionManager
with SessionManager.open(Path(sys.argv[1]), backend=sys.argv[2]) as manager:
    ImportRun(manager).add(Path(sys.argv[3]).read_bytes(), "claude-code", sys.argv[3])
"""


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_imports_at_the_same_time_copy_each_conversation_once(tmp_path: Path, backend: str) -> None:
    """Three processes import the same transcript at once, three times over: the store holds
    one copy of each of its conversations, each with all its messages."""
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    args = [sys.executable, "-c", IMPORT, str(root), backend, str(TRANSCRIPT)]
    for _ in range(3):
        workers = [subprocess.Popen(args, stderr=subprocess.PIPE) for _ in range(3)]
        for worker in workers:
            _, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err.decode()
    with SessionManager.open(tmp_path / "empty", backend=backend) as empty:
        fresh = ImportRun(empty, dry_run=True).add(
            TRANSCRIPT.read_bytes(), "claude-code", TRANSCRIPT.name
        )
        wanted = sorted((o.session.name, len(o.session.history)) for o in fresh.outcomes)
    with SessionManager.open(root, backend=backend) as manager:
        stored = sorted((s.name, s.message_count) for s in manager.list())
        assert stored == wanted
    if backend == "json":
        assert_at_rest(root)


def test_an_import_waits_its_turn_and_says_so_when_it_gives_up(tmp_path: Path) -> None:
    """While another process holds the import lease, an import that cannot wait any longer
    is refused in one line and writes nothing; a dry run does not wait at all."""
    root = tmp_path / ".prompt_objects"
    with SessionManager.open(root) as manager:
        manager.create("po", "first")  # the store exists
        path = root / "leases" / "import.lock"
        with reply_lease(root, "", "another import", path=path, wait=0):
            run = ImportRun(manager)
            with (
                pytest.raises(ImportBusy, match="another import into this store is running"),
                run.exclusive(wait=0),
            ):
                pass
            dry = ImportRun(manager, dry_run=True).add(TRANSCRIPT.read_bytes(), "claude-code")
            assert [o.action for o in dry.outcomes] == ["new", "new"]
        assert [s.name for s in manager.list()] == ["first"]
    assert_at_rest(root)


def test_a_dry_run_writes_nothing_at_all(tmp_path: Path) -> None:
    """A dry run of an import into an existing store leaves every file as it was and adds
    none (no lease file either): reading never needs to write."""
    root = tmp_path / ".prompt_objects"
    with SessionManager.open(root) as manager:
        manager.create("po", "first")
    before = {p: (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}
    with SessionManager.open(root) as manager:
        ImportRun(manager, dry_run=True).add(TRANSCRIPT.read_bytes(), "claude-code")
    after = {p: (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}
    assert after == before
