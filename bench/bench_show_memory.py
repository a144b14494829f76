"""Memory of opening a 100,000-message session, against the size of its file (DESIGN section 10).

Target: at most 3x the file's size. A session of 100,000 messages (user and assistant turns of
a few hundred characters, some with usage) is written directly as its file, in the store's own
format. Three figures, each a ratio to the file's size measured in the same run:

- ``SessionManager.get`` in this process: the peak of Python's allocations (``tracemalloc``)
  while the session is read, and what stays allocated while it is held.
- ``prompt-sessions show REF`` and ``show REF --json`` as whole processes: their peak resident
  memory minus that of ``prompt-sessions show`` on a one-message session in the same store
  (the interpreter, the imports and the plugin host, which do not grow with the session).

    .venv/bin/python bench/bench_show_memory.py [--quick]
"""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import open_manager  # noqa: E402

from prompt_sessions.ids import new_id  # noqa: E402
from prompt_sessions.models import Message, Session  # noqa: E402
from prompt_sessions.storage.session_codec import encode_session  # noqa: E402

QUICK = "--quick" in sys.argv
COUNT = 20_000 if QUICK else 100_000
TARGET = 3.0
SCRIPT = Path(sys.executable).with_name("prompt-sessions")
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "you",
    "that",
    "it",
    "for",
    "session",
    "reply",
    "model",
    "store",
    "search",
    "index",
]


def write_session(folder: Path, count: int, name: str) -> tuple[str, int]:
    """Write a ``count``-message session file; returns its id and size in bytes."""
    rng = random.Random(count)
    stamp = "2025-01-03T10:00:00.000Z"
    history = []
    for i in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 80)))
        if i % 2 == 0:
            history.append(Message(role="user", content=text, created_at=stamp))
        else:
            history.append(
                Message(
                    role="assistant",
                    content=text,
                    created_at=stamp,
                    model="local",
                    usage={"input_tokens": 120 + i % 50, "output_tokens": 60 + i % 30},
                )
            )
    sid = new_id()
    session = Session(
        id=sid, name=name, po_name="po", created_at=stamp, updated_at=stamp, history=history
    )
    path = folder / f"{sid}.json"
    path.write_bytes(encode_session(session))
    return sid, path.stat().st_size


def peak_rss(args: list[str]) -> int:
    """Peak resident memory of one whole process, in bytes (Linux reports KiB)."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip()) * 1024


def line(label: str, used: int, size: int) -> None:
    ratio = used / size
    verdict = "MET" if ratio <= TARGET else "MISSED"
    print(
        f"{label:60} {used / 1e6:8.1f} MB  file {size / 1e6:6.1f} MB  "
        f"ratio {ratio:4.2f}x  target <= {TARGET}x  {verdict}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / ".prompt_objects"
        folder = root / "sessions"
        folder.mkdir(parents=True)
        sid, size = write_session(folder, COUNT, "big")
        small, _ = write_session(folder, 1, "small")
        mgr = open_manager(root)
        mgr.list()
        mgr.flush()
        print(f"a session of {COUNT:,} messages, {size / 1e6:.1f} MB on disk")

        gc.collect()
        tracemalloc.start()
        session = mgr.get(sid)
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(session.history) == COUNT
        line("SessionManager.get: peak while reading (tracemalloc)", peak, size)
        line("SessionManager.get: held afterwards (tracemalloc)", held, size)
        del session
        mgr.close()

        os.environ["PROMPT_OBJECTS_DIR"] = str(root)
        base = [str(SCRIPT), "show", small[:8]]
        for label, args in (
            ("`prompt-sessions show REF`, whole process (peak RSS)", ["show", sid[:8]]),
            (
                "`prompt-sessions show REF --json`, whole process (peak RSS)",
                ["show", sid[:8], "--json"],
            ),
        ):
            floors, values = [], []
            for _ in range(3):  # interleaved: a busy machine slows both alike
                floors.append(peak_rss(base + (["--json"] if "--json" in args else [])))
                values.append(peak_rss([str(SCRIPT), *args]))
            floors.sort()
            values.sort()
            line(label, max(values[1] - floors[1], 0), size)
        print(f"(the one-message `show` itself peaks at {floors[1] / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
