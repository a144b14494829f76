"""``doctor`` on a store this process cannot write: a read-only mount, or a folder made
read-only with ``chmod -R a-w`` and checked by its (non-root) owner. The search index is still
checked, by reading only, and its damage reported; ``doctor --repair`` refuses in one line;
no file changes (DESIGN sections 4 and 12: reading never needs to write). The mount cases are
collected where the process may mount a tmpfs (root, with mount(8)), the chmod cases where it
may run a command as another user (root, with setpriv(1))."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from read_only_support import can_mount_tmpfs, files, make_store, remount_read_only, run, tmpfs

NOBODY = 65534


def _store(point: Path, backend: str) -> Path:
    """Two sessions, searched once so the index exists (the JSON store's cache file)."""
    root = make_store(point, backend)
    assert run(root, "search", "zebra").returncode == 0
    return root


def _index_file(root: Path, backend: str) -> Path:
    return root / ("sessions.sqlite3" if backend == "sqlite" else "cache/search.sqlite3")


def _lose_texts(root: Path, backend: str) -> None:
    """Delete the last text of the index and not its words: no error, the counts disagree."""
    conn = sqlite3.connect(_index_file(root, backend))
    conn.execute("DELETE FROM search_doc WHERE rowid = (SELECT max(rowid) FROM search_doc)")
    conn.commit()
    conn.close()


def _drop_table(root: Path, backend: str) -> None:
    conn = sqlite3.connect(_index_file(root, backend))
    conn.execute("DROP TABLE search_session")
    conn.commit()
    conn.close()


DAMAGE: dict[str, Callable[[Path, str], None]] = {
    "texts lost": _lose_texts,
    "a table dropped": _drop_table,
}


def _check_read_only_doctor(root: Path, damaged: bool, user: int | None = None) -> None:
    """doctor reports the index's damage (exit 1) or nothing (exit 0); doctor --repair refuses
    in one line; no file changes."""
    before = files(root)
    doctor = run(root, "doctor", user=user)
    assert "Traceback" not in doctor.stderr, doctor.stderr
    if damaged:
        assert doctor.returncode == 1, (doctor.stdout, doctor.stderr)
        (line,) = [x for x in doctor.stdout.splitlines() if x.startswith("DAMAGED")]
        assert line.startswith("DAMAGED search index: ")
        assert "cannot be written" in line
        assert "move damaged sessions aside" not in doctor.stdout
    else:
        assert doctor.returncode == 0, (doctor.stdout, doctor.stderr)
        assert "No problems found." in doctor.stdout and "DAMAGED" not in doctor.stdout
    repair = run(root, "doctor", "--repair", user=user)
    assert repair.returncode == 1 and repair.stdout == "", (repair.stdout, repair.stderr)
    assert len(repair.stderr.splitlines()) == 1 and repair.stderr.startswith("Error: ")
    assert "cannot be written" in repair.stderr and "--repair" in repair.stderr
    assert files(root) == before


if can_mount_tmpfs():

    @pytest.fixture
    def mount(tmp_path: Path) -> Iterator[Path]:
        """A tmpfs for the test, unmounted after it."""
        with tmpfs(tmp_path) as point:
            yield point

    @pytest.mark.parametrize("backend", ["json", "sqlite"])
    @pytest.mark.parametrize("damage", [None, *DAMAGE])
    def test_doctor_on_a_read_only_mount_checks_the_index(
        mount: Path, backend: str, damage: str | None
    ) -> None:
        """On a read-only mount doctor checks the search index by reading it: a sound one is
        sound (exit 0), a damaged one is reported (exit 1) with a note that the store cannot
        be written here, not skipped; doctor --repair refuses in one line; nothing changes."""
        root = _store(mount, backend)
        if damage is not None:
            DAMAGE[damage](root, backend)
        remount_read_only(mount)
        _check_read_only_doctor(root, damaged=damage is not None)


if can_mount_tmpfs():

    def test_repair_of_a_json_store_on_a_read_only_mount_is_refused_before_reading(
        mount: Path,
    ) -> None:
        """In-process: the folder on a read-only mount is unwritable whoever asks, and the JSON
        store's ``check(repair=True)`` refuses at once with the one-line error, while
        ``check()`` reads (DESIGN section 4: reading never needs to write)."""
        from prompt_sessions.errors import ReadOnlyStore
        from prompt_sessions.storage import files
        from prompt_sessions.storage.json_backend import JsonBackend

        root = make_store(mount, "json")
        remount_read_only(mount)
        assert files.folder_unwritable(root)
        backend = JsonBackend(root)
        try:
            with pytest.raises(ReadOnlyStore, match="cannot be written here"):
                backend.check(repair=True)
            assert not backend.check().damaged
        finally:
            backend.close()


if os.geteuid() == 0 and shutil.which("setpriv"):

    @pytest.fixture
    def owned(tmp_path: Path) -> Iterator[Path]:
        """A folder that user ``nobody`` can reach and owns."""
        folder = Path(tempfile.mkdtemp())
        try:
            folder.chmod(0o755)
            yield folder
        finally:
            subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)
            shutil.rmtree(folder)

    @pytest.mark.parametrize("backend", ["json", "sqlite"])
    @pytest.mark.parametrize("damage", [None, "texts lost"])
    def test_doctor_on_a_folder_made_read_only_checks_the_index(
        owned: Path, backend: str, damage: str | None
    ) -> None:
        """The same after ``chmod -R a-w`` on the store, run by its owner (not root, whom
        file modes do not stop)."""
        root = _store(owned, backend)
        if damage is not None:
            DAMAGE[damage](root, backend)
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(root)], check=True)
        subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)
        _check_read_only_doctor(root, damaged=damage is not None, user=NOBODY)
