"""A throwaway PostgreSQL cluster for tests and benchmarks: a real server on a Unix socket.

``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the ``postgres`` system
user (Debian's ``postgresql`` package creates it). The cluster lives in a temp folder, listens
only on a socket in that folder (no TCP port), trusts local connections, and is stopped and
removed on exit. Nothing here is used by the backend itself.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

SERVER_USER = "postgres"


class ClusterUnavailable(RuntimeError):
    """PostgreSQL's server programs are not installed (``scripts/test`` installs them)."""


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: ``$PG_BINDIR``, PATH, or Debian's layout.

    Raises ClusterUnavailable when none has them.
    """
    explicit = os.environ.get("PG_BINDIR")
    candidates = [explicit] if explicit else []
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise ClusterUnavailable(
        "PostgreSQL server programs (initdb, pg_ctl) not found: install Debian's postgresql"
    )


class ThrowawayCluster:
    """``with ThrowawayCluster() as cluster: cluster.dsn`` -- a running server, removed after."""

    def __init__(self, port: int = 5433) -> None:
        self.bindir = find_bindir()
        self.port = port
        self.base = Path(tempfile.mkdtemp(prefix="ps-pg-"))
        self.data = self.base / "data"
        self.socket_dir = self.base / "socket"
        self._as_root = os.geteuid() == 0

    @property
    def dsn(self) -> str:
        """A libpq connection string for the cluster's ``postgres`` database."""
        return f"host={self.socket_dir} port={self.port} user={SERVER_USER} dbname=postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        # Run in the cluster's own folder: the server user may not be able to enter (or even
        # find) the caller's working directory.
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.base)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip() or result.stdout}")

    def start(self) -> ThrowawayCluster:
        self.socket_dir.mkdir()
        if self._as_root:
            shutil.chown(self.base, SERVER_USER)
            shutil.chown(self.socket_dir, SERVER_USER)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SERVER_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        self.start_server()
        return self

    def start_server(self) -> None:
        """Start the server on the existing data folder (after :meth:`stop_server`)."""
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' "
            f"-c port={self.port} -c fsync=on -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.data / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop_server(self) -> None:
        """Stop the server as an administrator would (``-m fast``), keeping its data: an outage
        that :meth:`start_server` ends."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def wait_stopped(self, timeout: float = 10.0) -> None:
        """Block until the server's pid file is gone (after a stop from elsewhere)."""
        deadline = time.monotonic() + timeout
        while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self) -> ThrowawayCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
