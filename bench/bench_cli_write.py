"""CLI writes cost the same in a big store as in a small one (issue: search and scale, part 3).

Two JSON stores, 100 and 20,000 sessions, built by writing the session files directly and
folding the catalog once. Each command (`new`, `rename`, `send` with echo, `delete`) runs as a
whole process against both stores, interleaved, so a noisy neighbour hits both alike; the figure
is the ratio of the medians. Target: at most 1.2x.

    .venv/bin/python bench/bench_cli_write.py [--quick]
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import open_manager  # noqa: E402

from prompt_sessions.models import Message, Session  # noqa: E402
from prompt_sessions.storage.session_codec import encode_session  # noqa: E402

QUICK = "--quick" in sys.argv
SMALL, BIG = 100, 20_000
SCRIPT = Path(sys.executable).with_name("prompt-sessions")


def build(root: Path, count: int) -> list[str]:
    """A store of ``count`` four-message sessions; returns their ids."""
    folder = root / "sessions"
    folder.mkdir(parents=True)
    rng = random.Random(count)
    ids = []
    for s in range(count):
        history = [
            Message(
                role="user" if m % 2 == 0 else "assistant",
                content=f"message {m} of session {s}",
                created_at="2025-01-01T10:00:00.000Z",
            )
            for m in range(4)
        ]
        session = Session(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            name=f"session {s}",
            po_name=f"po{s % 5}",
            created_at="2025-01-01T09:00:00.000Z",
            updated_at="2025-01-01T10:00:00.000Z",
            history=history,
        )
        (folder / f"{session.id}.json").write_bytes(encode_session(session))
        ids.append(session.id)
    mgr = open_manager(root)
    mgr.check(repair=False)  # folds the catalog, as doctor does
    mgr.close()
    return ids


def run(root: Path, *args: str) -> float:
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    start = time.perf_counter()
    subprocess.run(
        [str(SCRIPT), "--dir", str(root), *args],
        check=True,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    return (time.perf_counter() - start) * 1000


def compare(label: str, small: Callable[[], float], big: Callable[[], float], repeat: int) -> bool:
    smalls, bigs = [], []
    for _ in range(repeat):
        smalls.append(small())
        bigs.append(big())
    a, b = statistics.median(smalls), statistics.median(bigs)
    ratio = b / a
    ok = ratio <= 1.2
    print(
        f"{label:40} {SMALL:>6}: {a:7.1f} ms  {BIG:>6}: {b:7.1f} ms  ratio {ratio:4.2f}x"
        f"  target <= 1.2x  {'MET' if ok else 'MISSED'}"
    )
    return ok


def main() -> None:
    import compileall

    import prompt_sessions

    compileall.compile_dir(str(Path(prompt_sessions.__file__).parent), quiet=1)
    repeat = 5 if QUICK else 15
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as name:
        tmp = Path(name)
        small, big = tmp / "small", tmp / "big"
        print(f"building stores of {SMALL} and {BIG} sessions ...", file=sys.stderr)
        small_ids, big_ids = build(small, SMALL), build(big, BIG)
        counter = iter(range(10**6))

        def renamer(root: Path, ids: list[str]) -> Callable[[], float]:
            return lambda: run(root, "rename", ids[0], f"renamed {next(counter)}")

        def sender(root: Path, ids: list[str]) -> Callable[[], float]:
            return lambda: run(root, "send", "po1", "hello", "--session", ids[1])

        made: dict[Path, list[str]] = {small: [], big: []}

        def creator(root: Path) -> Callable[[], float]:
            def create() -> float:
                took = run(root, "new", "po2", "--name", f"n{next(counter)}")
                mgr = open_manager(root)
                made[root] = [s.id for s in mgr.list() if s.name.startswith("n")]
                mgr.close()
                return took

            return create

        def deleter(root: Path) -> Callable[[], float]:
            return lambda: run(root, "delete", made[root].pop(), "--yes")

        results = [
            compare("`new PO --name N`", creator(small), creator(big), repeat),
            compare("`rename REF NAME`", renamer(small, small_ids), renamer(big, big_ids), repeat),
            compare("`send PO MSG` (echo)", sender(small, small_ids), sender(big, big_ids), repeat),
            compare("`delete REF --yes`", deleter(small), deleter(big), min(repeat, 5)),
        ]
        print("all met" if all(results) else "some missed")


if __name__ == "__main__":
    main()
