"""Store benchmarks: every figure is a ratio to a floor measured in the same run.

Run: python bench/bench_store.py [--quick]
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).parent))
from _common import PAYLOAD, fill_session, median_ms, open_manager, report  # noqa: E402

from prompt_sessions import Message  # noqa: E402
from prompt_sessions.ids import new_id  # noqa: E402
from prompt_sessions.models import Session  # noqa: E402
from prompt_sessions.storage.session_codec import encode_session  # noqa: E402

QUICK = "--quick" in sys.argv
APPEND_TARGET = 1.5  # DESIGN section 10: at most 1.5x the O_APPEND+fsync floor


def interleaved(folder: Path, append: object, repeat: int) -> tuple[float, float]:
    """Median of the floor (O_APPEND write of 1 KiB + fsync) and of ``append``, sampled
    alternately so that a busy disk slows both alike."""
    path = folder / "floor.bin"
    data = b"y" * 1024
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    floors, values = [], []
    try:
        for _ in range(repeat):
            floors.append(median_ms(lambda: (os.write(fd, data), os.fsync(fd)), 1, warmup=0))
            values.append(median_ms(append, 1, warmup=0))  # type: ignore[arg-type]
    finally:
        os.close(fd)
    return statistics.median(floors), statistics.median(values)


def bench_append(tmp: Path) -> None:
    repeat = 100 if QUICK else 300
    for size in (10, 10_000):
        root = tmp / f"append-{size}"
        mgr = open_manager(root)
        sid = fill_session(mgr, "po", size)
        message = Message(role="user", content=PAYLOAD)
        floor, value = interleaved(tmp, lambda: mgr.append(sid, message), repeat)
        report(f"append one message, history {size:,}", value, floor, APPEND_TARGET)
        if size == 10:
            # Appends that alternate between two sessions never find the store as their last
            # append left it, so each looks every name up again (``storage.in_step``).
            other = fill_session(mgr, "po", size)
            turn = [sid, other]

            def alternate() -> None:
                turn.reverse()
                mgr.append(turn[0], message)

            floor, value = interleaved(tmp, alternate, repeat)
            report("append, alternating two sessions (all looked up)", value, floor, APPEND_TARGET)
        mgr.close()
    # A store of 10,000 sessions, built directly as files (the format is the public contract).
    root = tmp / "append-big-store"
    sessions = root / "sessions"
    sessions.mkdir(parents=True)
    stamp = "2025-01-03T10:00:00.000Z"
    for _ in range(10_000):
        sid = new_id()
        s = Session(
            id=sid,
            name="s",
            po_name="po",
            created_at=stamp,
            updated_at=stamp,
            history=[Message(role="user", content="hi", created_at=stamp)],
        )
        (sessions / f"{sid}.json").write_bytes(encode_session(s))
    mgr = open_manager(root)
    mgr.list()
    mgr.flush()
    sid = mgr.create("po", "target").id
    message = Message(role="user", content=PAYLOAD)
    floor, value = interleaved(tmp, lambda: mgr.append(sid, message), repeat)
    report("append one message, store of 10,000 sessions", value, floor, APPEND_TARGET)
    mgr.close()
    return root


def bench_list(root: Path) -> None:
    index = root / "sessions" / "index.json"
    data = index.read_bytes()
    floor = median_ms(lambda: json.loads(data), 15)
    floor_msgspec = median_ms(lambda: msgspec.json.decode(data), 15)
    import gc

    gc.collect()
    mgr = open_manager(root)
    value = median_ms(lambda: open_manager(root).list(), 15)
    report("list 10,000 summaries (fresh manager) vs json.loads(catalog)", value, floor, 2.0)
    report(
        "list 10,000 summaries (fresh manager) vs msgspec decode(catalog)",
        value,
        floor_msgspec,
        2.0,
    )
    # What `list`, `search` and `prune` add to see files edited in place: a stat per file, so
    # the floor is a bare os.stat of each session file.
    names = [str(root / "sessions" / f"{s.id}.json") for s in mgr.list()]
    floor = median_ms(lambda: [os.stat(n, follow_symlinks=False) for n in names], 15)
    value = median_ms(mgr.recheck, 15)
    report("recheck of 10,000 session files vs a bare stat of each", value, floor, 1.5)
    mgr.close()


def bench_get(tmp: Path) -> None:
    root = tmp / "get"
    mgr = open_manager(root)
    sid = fill_session(mgr, "po", 1000)
    mgr.flush()
    data = (root / "sessions" / f"{sid}.json").read_bytes()
    floor = median_ms(lambda: json.loads(data), 30)
    floor_msgspec = median_ms(lambda: msgspec.json.decode(data), 30)
    value = median_ms(lambda: mgr.get(sid), 30)
    report("get a 1,000-message session vs json.loads(file)", value, floor, 1.5)
    report("get a 1,000-message session vs msgspec decode(file)", value, floor_msgspec, 1.5)
    mgr.close()


def _appender(root: str, sid: str, count: int, start: multiprocessing.Event) -> None:
    mgr = open_manager(Path(root))
    message = Message(role="user", content=PAYLOAD)
    start.wait()
    for _ in range(count):
        mgr.append(sid, message)
    mgr.close()


def bench_contention(tmp: Path) -> None:
    total = 400 if QUICK else 2000
    results = {}
    for procs in (1, 4):
        root = tmp / f"contention-{procs}"
        mgr = open_manager(root)
        sid = mgr.create("po", "shared").id
        mgr.close()
        start = multiprocessing.Event()
        workers = [
            multiprocessing.Process(target=_appender, args=(str(root), sid, total // procs, start))
            for _ in range(procs)
        ]
        for w in workers:
            w.start()
        time.sleep(0.5)
        began = time.perf_counter()
        start.set()
        for w in workers:
            w.join()
        results[procs] = (time.perf_counter() - began) * 1000
        count = len(open_manager(root).get(sid).history)
        assert count == total, f"lost messages: {count} != {total}"
    report(
        f"4 processes x {total // 4} appends vs 1 process x {total}", results[4], results[1], 2.5
    )


def bench_cli_list(tmp: Path) -> None:
    root = tmp / "cli"
    mgr = open_manager(root)
    for i in range(1000):
        mgr.create("po", f"session {i}")
    mgr.close()
    script = Path(sys.executable).with_name("prompt-sessions")
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}

    def cli() -> None:
        subprocess.run(
            [str(script), "--dir", str(root), "list", "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )

    def bare() -> None:
        # DESIGN section 10's floor: importing the command's own dependencies, the four that
        # `list --json` uses (click parses it, pluggy loads the backend, filelock guards the
        # store, msgspec decodes the catalog and prints the JSON)
        subprocess.run(
            [sys.executable, "-c", "import click, pluggy, filelock, msgspec"], check=True
        )

    # Installed packages carry compiled bytecode; give our sources the same footing.
    import compileall

    import prompt_sessions

    compileall.compile_dir(str(Path(prompt_sessions.__file__).parent), quiet=1)
    repeat = 10 if QUICK else 25
    # Interleave the two so a noisy neighbour hits both alike.
    floors, values = [], []
    for _ in range(repeat):
        floors.append(median_ms(bare, 1, warmup=0))
        values.append(median_ms(cli, 1, warmup=0))
    floor, value = statistics.median(floors), statistics.median(values)
    report("`prompt-sessions list --json`, 1,000 sessions, whole process", value, floor, 1.2)


def main() -> None:
    print(
        f"python {sys.version.split()[0]} on {os.uname().sysname} {os.uname().machine}, {os.cpu_count()} cpus"
    )
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as name:
        tmp = Path(name)
        big = bench_append(tmp)
        bench_list(big)
        bench_get(tmp)
        bench_contention(tmp)
        bench_cli_list(tmp)


if __name__ == "__main__":
    main()
