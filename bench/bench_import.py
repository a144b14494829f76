"""Importing Claude Code transcripts (DESIGN section 16).

Generates ``--sessions`` Claude Code transcripts (``--turns`` user/assistant exchanges each, with
streamed replies, a tool call and its result per exchange) in a temporary projects folder, then
times, each as the median of ``--repeat`` runs over all the files (the floor and the importer
in turn, in CPU time, which decides, and by the wall clock):

- the floor: reading every file and decoding every line with msgspec (what any reader must do);
- the importer: reading every file and turning it into checked sessions (``ClaudeCodeImporter``
  plus ``checked_session``, the validation every import applies, as ``ImportRun`` calls it),
  which the target is set against (at most 1.5x);
- the whole import into a fresh JSON store (``ImportRun``, one file after another), next to the
  store's own cost of creating the same sessions, so the import's share of it shows.

    python bench/bench_import.py [--sessions 10000] [--turns 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).parent))

from _common import open_manager, report  # noqa: E402

from prompt_sessions.importers.claude_code import ClaudeCodeImporter  # noqa: E402
from prompt_sessions.importing import ImportRun, checked_session  # noqa: E402

TEXT = "Some words about the garden and the watering schedule. " * 4


def transcript(turns: int, index: int) -> bytes:
    sid = str(uuid.UUID(int=index))
    base = {"cwd": "/home/ana/garden", "sessionId": sid, "version": "2.0.14", "gitBranch": "main"}
    lines: list[dict] = [{"type": "summary", "summary": f"Session {index}", "leafUuid": "x"}]
    second = 0

    def at() -> str:
        nonlocal second
        second += 1
        return f"2025-06-02T{9 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"

    for turn in range(turns):
        lines.append(
            {
                **base,
                "type": "user",
                "uuid": f"u{turn}",
                "timestamp": at(),
                "message": {"role": "user", "content": f"Question {turn}: {TEXT}"},
            }
        )
        msg = {"id": f"msg_{index}_{turn}", "role": "assistant", "model": "claude-sonnet-4-5"}
        usage = {"input_tokens": 100, "output_tokens": 50, "cache_read_input_tokens": 20}
        for block in (
            {"type": "thinking", "thinking": "Thinking it over."},
            {"type": "text", "text": f"Answer {turn}: {TEXT}"},
            {
                "type": "tool_use",
                "id": f"toolu_{turn}",
                "name": "Read",
                "input": {"file_path": "/home/ana/garden/plants.txt"},
            },
        ):
            lines.append(
                {
                    **base,
                    "type": "assistant",
                    "uuid": f"a{turn}",
                    "timestamp": at(),
                    "message": {**msg, "content": [block], "usage": usage},
                }
            )
        lines.append(
            {
                **base,
                "type": "user",
                "uuid": f"r{turn}",
                "timestamp": at(),
                "message": {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": f"toolu_{turn}", "content": TEXT}
                    ],
                },
            }
        )
    return b"".join(msgspec.json.encode(line) + b"\n" for line in lines)


def median_s(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def interleaved(fns, repeat: int) -> tuple[list[float], list[float]]:
    """Each of ``fns`` run ``repeat`` times in turn (so a busy spell on the shared machine hits
    them alike): the median seconds of each, by the wall clock and in CPU time (this process's
    user and system time, which other processes on the machine do not inflate)."""
    wall: list[list[float]] = [[] for _ in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu[i].append(time.process_time() - start_cpu)
            wall[i].append(time.perf_counter() - start)
    return [statistics.median(w) for w in wall], [statistics.median(c) for c in cpu]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "projects" / "-home-ana-garden"
        folder.mkdir(parents=True)
        for i in range(args.sessions):
            (folder / f"{uuid.UUID(int=i)}.jsonl").write_bytes(transcript(args.turns, i))
        files = ClaudeCodeImporter().locate(Path(tmp) / "projects")
        size = sum(p.stat().st_size for p in files)
        print(f"{len(files):,} transcripts, {size / 1e6:.1f} MB, {args.turns} exchanges each")
        decoder = msgspec.json.Decoder()

        def floor() -> None:
            for path in files:
                for line in path.read_bytes().split(b"\n"):
                    if line:
                        decoder.decode(line)

        importer = ClaudeCodeImporter()

        def parse() -> None:
            for path in files:
                for session in importer.load(path.read_bytes(), str(path)):
                    checked_session(session, "claude-code", importer.typed)

        (floor_s, parse_s), (floor_cpu, parse_cpu) = interleaved([floor, parse], args.repeat)
        ok = report(
            f"read + import {len(files):,} transcripts (CPU time)",
            parse_cpu * 1000,
            floor_cpu * 1000,
            1.5,
        )
        report(
            f"read + import {len(files):,} transcripts (wall clock)",
            parse_s * 1000,
            floor_s * 1000,
            1.5,
        )

        sessions = [s for p in files for s in importer.load(p.read_bytes(), str(p))]
        with open_manager(Path(tmp) / "store-a" / ".prompt_objects") as mgr:
            start = time.perf_counter()
            for session in sessions:
                mgr.backend.create(session)
            create_s = time.perf_counter() - start
        with open_manager(Path(tmp) / "store-b" / ".prompt_objects") as mgr:
            start = time.perf_counter()
            run = ImportRun(mgr)
            for path in files:
                run.add(path.read_bytes(), "claude-code", str(path))
            whole_s = time.perf_counter() - start
        report(
            "whole import into a JSON store (floor: decode + store creates)",
            whole_s * 1000,
            (floor_s + create_s) * 1000,
            1.5,
        )
        print(f"  of which the store's own creates: {create_s * 1000:,.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
