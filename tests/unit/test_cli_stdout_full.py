"""Standard output that cannot be written (``> file`` on a full disk, here ``/dev/full``): every
command says so in one line and exits 1, instead of "unexpected OSError"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["list", "--json"],
        ["show", "Notes"],
        ["export", "Notes"],
        ["search", "alpha"],
        ["formats"],
        ["--help"],
    ],
    ids=" ".join,
)
def test_a_full_standard_output_is_one_line(tmp_path: Path, args: list[str]) -> None:
    """The command's output fails to reach the disk: one error line naming standard output."""
    if not os.path.exists("/dev/full"):  # Linux's always-full device
        pytest.fail("this test needs /dev/full")
    store = tmp_path / ".prompt_objects"
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    for step in (["new", "coordinator", "--name", "Notes"], ["send", "coordinator", "alpha"]):
        made = subprocess.run(
            [SCRIPT, "--dir", str(store), *step], capture_output=True, env=env, text=True
        )
        assert made.returncode == 0, made.stderr
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [SCRIPT, "--dir", str(store), *args], stdout=full, stderr=subprocess.PIPE, env=env
        )
    err = done.stderr.decode()
    assert done.returncode == 1
    assert err == "Error: cannot write to standard output: No space left on device\n"
