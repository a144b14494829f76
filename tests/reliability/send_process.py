"""``prompt-sessions send`` in its own process, for the tests that interrupt or kill it: a
private store whose echo reply is slowed to a few seconds, and the real console script run
against it with no entry-point plugins."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))
WORDS = " ".join(f"word{i}" for i in range(60))  # 21 chunks of the echo reply: about 4 s


def make_store(tmp_path: Path, backend: str) -> Path:
    """A store in ``tmp_path`` with PO ``helper`` (the echo reply, a chunk every 200 ms) on
    ``backend`` (json or sqlite); its folder."""
    root = tmp_path / ".prompt_objects"
    (root / "objects").mkdir(mode=0o700, parents=True)
    root.chmod(0o700)
    (root / "objects" / "helper.md").write_text("---\nname: helper\n---\nYou help.\n")
    (root / "config.toml").write_text(
        f'[storage]\nbackend = "{backend}"\n\n[responders.echo]\nchunk_delay_ms = 200\n'
    )
    for path in (root / "objects" / "helper.md", root / "config.toml"):
        path.chmod(0o600)  # the store is private (DESIGN section 4); the hygiene check says so
    return root


@contextmanager
def send_process(root: Path, **popen: Any) -> Iterator[subprocess.Popen[bytes]]:
    """``prompt-sessions --dir root send helper WORDS`` started, stdout and stderr piped unless
    ``popen`` (``subprocess.Popen`` arguments) says otherwise. On the way out a process still
    running is killed and waited for, and its pipes are closed."""
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    proc = subprocess.Popen(
        [SCRIPT, "--dir", str(root), "send", "helper", WORDS], env=env, **options
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
