"""Shared helpers: medians, a store builder, and printing a figure against its floor."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from prompt_sessions import Message
from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost

PAYLOAD = "x" * 900  # about 1 KiB per stored message, like the floor's write


def median_ms(fn: Callable[[], object], repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def open_manager(root: Path) -> SessionManager:
    return SessionManager.open(root, host=PluginHost.create(entry_points=False), config={})


def fill_session(mgr: SessionManager, po: str, count: int) -> str:
    session = mgr.create(po, "bench")
    for i in range(count):
        mgr.append(
            session.id,
            Message(role="user" if i % 2 == 0 else "assistant", content=f"{i} {PAYLOAD}"),
        )
    return session.id


def report(label: str, value_ms: float, floor_ms: float, target: float) -> bool:
    ratio = value_ms / floor_ms if floor_ms else float("inf")
    ok = ratio <= target
    print(
        f"{label:58} {value_ms:9.3f} ms  floor {floor_ms:8.3f} ms  ratio {ratio:5.2f}x  target <= {target}x  {'MET' if ok else 'MISSED'}"
    )
    return ok
