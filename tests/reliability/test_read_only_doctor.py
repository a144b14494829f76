"""``doctor`` on a store this process cannot write: a read-only mount, or a folder made
read-only with ``chmod -R a-w`` and checked by its (non-root) owner. The search index is still
checked, by reading only, and its damage reported; ``doctor --repair`` refuses in one line;
no file changes (DESIGN sections 4 and 12: reading never needs to write). Collected where the
process may mount a tmpfs and run a command as another user (root, with mount(8) and
setpriv(1))."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))
NOBODY = 65534


def _can_mount_tmpfs() -> bool:
    """Whether this process may mount a tmpfs and make it read-only."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = tempfile.mkdtemp()
    try:
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", probe], capture_output=True).returncode:
            return False
        subprocess.run(["umount", probe], check=True)
        return True
    finally:
        os.rmdir(probe)


def _run(root: Path, *args: str, user: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    prefix = (
        [] if user is None else ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    )
    return subprocess.run(
        [*prefix, SCRIPT, "--dir", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _store(point: Path, backend: str) -> Path:
    """Two sessions, searched once so the index exists (the JSON store's cache file)."""
    root = point / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text(
        f'[storage]\nbackend = "{backend}"\n\n[responders.echo]\nchunk_delay_ms = 0\n'
    )
    for n in range(2):
        sent = _run(root, "send", "po", f"hello zebra {n}")
        assert sent.returncode == 0, sent.stderr
    assert _run(root, "search", "zebra").returncode == 0
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
    before = _files(root)
    doctor = _run(root, "doctor", user=user)
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
    repair = _run(root, "doctor", "--repair", user=user)
    assert repair.returncode == 1 and repair.stdout == "", (repair.stdout, repair.stderr)
    assert len(repair.stderr.splitlines()) == 1 and repair.stderr.startswith("Error: ")
    assert "cannot be written" in repair.stderr and "--repair" in repair.stderr
    assert _files(root) == before


if _can_mount_tmpfs():

    @pytest.fixture
    def mount(tmp_path: Path) -> Iterator[Path]:
        """A tmpfs for the test, unmounted after it."""
        point = tmp_path / "disk"
        point.mkdir(mode=0o700)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(point)], check=True)
        try:
            yield point
        finally:
            subprocess.run(["umount", "-l", str(point)], check=True)

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
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        _check_read_only_doctor(root, damaged=damage is not None)


if _can_mount_tmpfs() and shutil.which("setpriv"):

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
