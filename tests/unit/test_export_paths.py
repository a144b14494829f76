"""Output paths that are not plain files: ``-`` is stdout, devices and FIFOs are written to and
never replaced, regular files are replaced atomically with the umask's mode, a missing folder is
refused, a folder gets a new file named after the session; the CLI's ``export -o`` and the TUI's
``/session export`` follow the same rule."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.commands import CommandContext, CommandRouter
from prompt_sessions.commands.base import PlainFrontend
from prompt_sessions.context import AppContext
from prompt_sessions.errors import UsageError
from prompt_sessions.outputs import write_output
from prompt_sessions.plugins import PluginHost

SCRIPT = Path(sys.executable).with_name("prompt-sessions")


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def session(run: Run) -> str:
    run("send", "po", "hello there")
    return "hello there"  # auto-named from the first message


def test_dash_writes_to_stdout_and_creates_no_file(
    run: Run, session: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`export -o -` prints the export on stdout, like no -o at all; no file named '-'."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run("export", session, "-o", "-")
    assert code == 0 and err == ""
    assert out == run("export", session)[1] and "hello there" in out
    assert not (tmp_path / "-").exists()


def test_dev_stdout_works_through_a_pipe_and_a_redirect(
    run: Run, session: str, tmp_path: Path
) -> None:
    """`-o /dev/stdout` writes the export to whatever stdout is: a pipe, or a file the shell
    opened (which keeps its inode: it is written to, not replaced)."""
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    args = [str(SCRIPT), "--dir", str(run.store), "export", session, "-o", "/dev/stdout"]
    piped = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
    assert piped.returncode == 0, piped.stderr
    assert "hello there" in piped.stdout
    target = tmp_path / "redirected.md"
    target.write_text("")
    inode = target.stat().st_ino
    with open(target, "w") as handle:
        done = subprocess.run(args, stdout=handle, stderr=subprocess.PIPE, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "hello there" in target.read_text() and target.stat().st_ino == inode


def test_dev_null_stays_a_device(run: Run, session: str) -> None:
    """`-o /dev/null` succeeds and /dev/null is still a character device afterwards (as root a
    rename would have replaced the device with a regular file)."""
    code, _, err = run("export", session, "-o", "/dev/null")
    assert code == 0, err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def _unblock_reader(fifo: Path) -> None:
    """Open the FIFO's writing end once if a reader still waits for one (the export never opened
    it). Non-blocking, so a reader that has just finished makes this a no-op instead of a wait
    for a partner that never comes."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # ENXIO: no reader has the FIFO open
        pass


def test_a_fifo_is_written_to_not_replaced(run: Run, session: str, tmp_path: Path) -> None:
    """A FIFO given as the output receives the export through the pipe and stays a FIFO."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    try:
        code, _, err = run("export", session, "--format", "json", "-o", str(fifo))
    finally:
        _unblock_reader(fifo)
        reader.join(timeout=30)
    assert not reader.is_alive()
    assert code == 0, err
    assert b"hello there" in received[0]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_export_follows_the_umask(
    run: Run, session: str, tmp_path: Path, mask: int, mode: int
) -> None:
    """A new exported file gets 0666 less the umask, like any file the user's tools write."""
    target = tmp_path / "out.md"
    with umask(mask):
        assert run("export", session, "-o", str(target))[0] == 0
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_an_existing_file_is_replaced_atomically_keeping_its_mode_and_links(
    run: Run, session: str, tmp_path: Path
) -> None:
    """Overwriting a regular file replaces it whole (a new inode, no temp file left), keeps its
    mode, and writes through a symbolic link, which stays a link."""
    target = tmp_path / "out.md"
    target.write_text("old")
    target.chmod(0o640)
    inode = target.stat().st_ino
    link = tmp_path / "link.md"
    link.symlink_to(target)
    assert run("export", session, "-o", str(link))[0] == 0
    assert link.is_symlink() and "hello there" in target.read_text()
    assert target.stat().st_ino != inode and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_a_missing_folder_is_refused_and_a_folder_gets_a_new_file(
    run: Run, session: str, tmp_path: Path
) -> None:
    """A path in a folder that does not exist is one error line, exit 1, and creates nothing;
    a folder gets a new file named after the session (as the TUI's export does), never an
    existing one overwritten."""
    code, out, err = run("export", session, "-o", str(tmp_path / "no" / "such" / "out.md"))
    assert (code, out) == (1, "")
    folder = tmp_path / "no" / "such"
    assert err == f"Error: cannot write {folder}/out.md: the folder {folder} does not exist\n"
    assert not (tmp_path / "no").exists()
    sid = run.json("list", "--json")[0]["id"]
    first, second = tmp_path / f"hello-there-{sid[:8]}.md", tmp_path / f"hello-there-{sid[:8]}-2.md"
    for made in (first, second):
        code, _, err = run("export", session, "-o", str(tmp_path))
        assert code == 0 and err.startswith(f"Wrote {made} ("), err
    assert first.read_text() == second.read_text() and "hello there" in first.read_text()


def test_the_tui_export_follows_the_same_rule(tmp_path: Path) -> None:
    """/session export refuses a missing folder with the CLI's message, refuses '-' (there is
    no stdout in the TUI), writes a device directly, and still names a file in a folder."""
    app = AppContext.open(tmp_path / ".po", host=PluginHost.create(entry_points=False))
    try:
        s = app.manager.create("po", "Notes")
        ctx = CommandContext(app, "po", s.id, PlainFrontend())
        router = CommandRouter.from_host(app.host)
        missing = tmp_path / "a" / "b.md"
        with pytest.raises(UsageError, match=f"the folder {tmp_path}/a does not exist"):
            router.run(ctx, f"/session export markdown {missing}")
        assert not (tmp_path / "a").exists()
        with pytest.raises(UsageError, match="standard output"):
            router.run(ctx, "/session export markdown -")
        assert router.run(ctx, "/session export markdown /dev/null") == "Exported to /dev/null"
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
        out = router.run(ctx, f"/session export json {tmp_path}")
        assert Path(out.removeprefix("Exported to ")).parent == tmp_path
    finally:
        app.manager.close()


def test_write_output_reports_what_it_cannot_write(tmp_path: Path) -> None:
    """A folder without write permission is a UsageError naming the path, not an OSError."""
    if os.geteuid() == 0:
        target = Path("/proc/self/fd/999")  # root may write anywhere: use a descriptor not open
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "x.md"
    with pytest.raises(UsageError, match=f"cannot write {target}"):
        write_output(target, b"data")
