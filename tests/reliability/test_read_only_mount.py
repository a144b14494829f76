"""A store on a read-only mount (a backup disk, a container's read-only volume): reading never
needs to write (DESIGN section 12, "The index is a cache"). list and search work on both
backends, a damaged search index is searched in memory, writes fail in one line, and no file
changes. Collected where the process may mount a tmpfs (root, with mount(8))."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from read_only_support import can_mount_tmpfs, files, make_store, remount_read_only, run, tmpfs


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs for the test, unmounted after it."""
    with tmpfs(tmp_path) as point:
        yield point


def _damage_index(root: Path, backend: str) -> None:
    if backend == "sqlite":
        conn = sqlite3.connect(root / "sessions.sqlite3")
        conn.execute("DROP TABLE search_fts")
        conn.commit()
        conn.close()
    else:
        shutil.rmtree(root / "cache", ignore_errors=True)


if can_mount_tmpfs():

    @pytest.mark.parametrize("backend", ["json", "sqlite"])
    def test_a_store_on_a_read_only_mount_reads_and_searches(mount: Path, backend: str) -> None:
        """Its search index damaged (a table dropped, the cache gone), the store on a
        read-only mount lists its session and finds a word (searched in memory); send fails
        in one line; no file is changed or added. The sqlite store used not to open at all
        ("unable to open database file": SQLite could not make its -shm file)."""
        root = make_store(mount, backend)
        _damage_index(root, backend)
        before = files(root)
        remount_read_only(mount)
        listed = run(root, "list")
        assert listed.returncode == 0 and "hello zebra" in listed.stdout, listed.stderr
        found = run(root, "search", "zebra")
        assert found.returncode == 0 and "hello zebra 1" in found.stdout, found.stderr
        sent = run(root, "send", "po", "more")
        assert sent.returncode == 1 and len(sent.stderr.splitlines()) == 1
        assert sent.stderr.startswith("Error:")
        assert files(root) == before

    def test_an_edit_in_place_on_a_read_only_mount_is_listed_and_searched(mount: Path) -> None:
        """A session file rewritten in place (no folder time moves), then the mount made
        read-only: `list` counts the added message and `search` finds its words, correcting
        what they show in memory; no file is changed."""
        root = make_store(mount, "json")
        (path,) = (root / "sessions").glob("*-*.json")
        text = path.read_text()
        # Another program changes the last reply where it lies (the same file, same size).
        with open(path, "r+") as f:
            f.write(text.replace("hello zebra 1", "hello quokka 1"))
        before = files(root)
        remount_read_only(mount)
        listed = run(root, "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert "hello quokka 1" in listed.stdout and "zebra 1" not in listed.stdout
        found = run(root, "search", "--json", "quokka")
        assert found.returncode == 0 and "quokka" in found.stdout, found.stderr
        assert files(root) == before

    def test_damaged_index_pages_on_a_read_only_mount_are_searched_in_memory(
        mount: Path,
    ) -> None:
        """The sqlite store's index pages overwritten with junk, on a read-only mount: search
        answers from memory (it used to fail: building the index again could not open the
        file for writing, which was not taken for a read-only store); nothing is written."""
        root = make_store(mount, "sqlite")
        db = root / "sessions.sqlite3"
        conn = sqlite3.connect(db)
        (root_page,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'search_fts_data'"
        ).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
        conn.close()
        data = bytearray(db.read_bytes())
        data[(root_page - 1) * size : root_page * size] = b"\xee" * size
        db.write_bytes(bytes(data))
        before = files(root)
        remount_read_only(mount)
        found = run(root, "search", "zebra")
        assert found.returncode == 0 and "hello zebra 1" in found.stdout, found.stderr
        assert files(root) == before

    def test_a_write_ahead_log_on_a_read_only_mount_is_named(mount: Path) -> None:
        """A sqlite store whose -wal file holds changes not yet in the database, on a
        read-only mount: reading the file alone would miss them, so list fails in one line
        naming the -wal file and saying what to do; doctor does not call the file damaged (nor
        offer to move it aside); nothing is written."""
        root = make_store(mount, "sqlite")
        db = root / "sessions.sqlite3"
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("PRAGMA wal_autocheckpoint = 0")
        holder.execute("CREATE TABLE pending (x)")  # a change that stays in the -wal
        kept = {name: (root / name).read_bytes() for name in ("sessions.sqlite3",)}
        kept["sessions.sqlite3-wal"] = (root / "sessions.sqlite3-wal").read_bytes()
        holder.close()  # checkpoints: put the log back as it was before the close
        for name, data in kept.items():
            (root / name).write_bytes(data)
        (root / "sessions.sqlite3-shm").unlink(missing_ok=True)
        assert (root / "sessions.sqlite3-wal").stat().st_size > 0
        before = files(root)
        remount_read_only(mount)
        listed = run(root, "list")
        assert listed.returncode == 1 and len(listed.stderr.splitlines()) == 1
        assert "sessions.sqlite3-wal" in listed.stderr and "Traceback" not in listed.stderr
        doctor = run(root, "doctor")
        assert doctor.returncode == 1 and "DAMAGED" not in doctor.stdout
        assert "move damaged sessions aside" not in doctor.stdout
        assert files(root) == before
