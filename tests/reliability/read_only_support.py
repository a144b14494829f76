"""What the read-only store tests share: the CLI run as a subprocess (optionally as another
user), a digest of every file of a folder, a small store made through the CLI, and a tmpfs
mount that can be made read-only (root with mount(8) only)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))


def can_mount_tmpfs() -> bool:
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


@contextmanager
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs mounted under ``tmp_path`` for one test, unmounted after it."""
    point = tmp_path / "disk"
    point.mkdir(mode=0o700)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(point)], check=True)
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=True)


def remount_read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)


def run(root: Path, *args: str, user: int | None = None) -> subprocess.CompletedProcess[str]:
    """``prompt-sessions --dir root ARGS`` with no external plugins; as uid ``user`` (through
    setpriv(1)) when given."""
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


def files(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path) with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def make_store(point: Path, backend: str) -> Path:
    """A store of ``backend`` in ``point/.prompt_objects`` holding two echoed turns of PO
    ``po`` ("hello zebra 0" and "hello zebra 1")."""
    root = point / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text(
        f'[storage]\nbackend = "{backend}"\n\n[responders.echo]\nchunk_delay_ms = 0\n'
    )
    for n in range(2):
        sent = run(root, "send", "po", f"hello zebra {n}")
        assert sent.returncode == 0, sent.stderr
    return root
