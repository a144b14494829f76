"""First streamed chunk of a real-protocol reply: through prompt-sessions vs llm directly.

Starts the local OpenAI-compatible server of the llm plugin's tests (a real process on
127.0.0.1, streaming server-sent events), declares it as llm model ``local`` in a temporary
LLM_USER_PATH, then measures, alternating, N times each:

- direct: ``llm.get_async_model("local").prompt(...)``, from the call to the first chunk;
- prompt-sessions: ``Coordinator.send`` on an open session of a PO with ``responder: llm`` (what
  the TUI does when Enter is pressed), from the call to the first ``ChunkReceived``. This
  includes storing the user's message durably.

DESIGN section 10: the second at most 10 ms after the first.

Then, in the TUI, key presses typed in one session while 20 other sessions stream real-protocol
replies from the same server (each an SSE stream, a word every 5 ms): p95 from the key event to
the message box showing it, against DESIGN section 10's 50 ms, with the same run's p95 when
nothing streams for comparison.

Needs ``pip install ./plugins/prompt-sessions-llm``. Run: ``python bench/bench_llm.py [N]``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "plugins" / "prompt-sessions-llm" / "tests" / "fake_openai.py"
STORE_MS: list[float] = []  # of each measured send: storing the user's message durably


def start_server(*args: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, str(SERVER), *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline().split()[1])


async def direct(model_id: str) -> float:
    import llm

    model = llm.get_async_model(model_id)
    start = time.perf_counter()
    response = model.prompt("hello there", system="You are brief.")
    async for _chunk in response:
        first = time.perf_counter()
        break
    async for _ in response:  # drain, as a real caller would
        pass
    return (first - start) * 1000


async def through_runtime(coord, sid: str) -> float:  # type: ignore[no-untyped-def]
    from prompt_sessions.runtime.events import ChunkReceived

    got = asyncio.get_running_loop().create_future()

    def on_event(event) -> None:  # type: ignore[no-untyped-def]
        if isinstance(event, ChunkReceived) and not got.done():
            got.set_result(time.perf_counter())

    unsubscribe = coord.subscribe(on_event)
    start = time.perf_counter()
    await coord.send(sid, "hello there")
    stored = time.perf_counter()
    first = await got
    await coord.wait_idle(sid)
    unsubscribe()
    STORE_MS.append((stored - start) * 1000)
    return (first - start) * 1000


async def main(repeat: int) -> None:

    from prompt_sessions.runtime import Coordinator

    process, port = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            declare_local_model(Path(tmp) / "llm", port)
            ctx = open_llm_store(Path(tmp) / ".prompt_objects")
            coord = Coordinator(ctx, keep_workspace=False)
            sid = ctx.manager.create("po", "bench").id
            for _ in range(3):  # warm up: imports, plugin loading, connection setup
                await direct("local")
                await through_runtime(coord, sid)
            plain, ours = [], []
            for _ in range(repeat):
                plain.append(await direct("local"))
                ours.append(await through_runtime(coord, sid))
            await coord.shutdown()
            ctx.manager.close()
    finally:
        process.terminate()
        process.wait()
    a, b = statistics.median(plain), statistics.median(ours)
    print(f"first chunk, llm directly          median {a:7.2f} ms  (n={repeat})")
    print(f"first chunk, through prompt-sessions median {b:7.2f} ms  (n={repeat})")
    print(
        "  of which storing the user's message (append + fsync) median "
        f"{statistics.median(STORE_MS[3:]):7.2f} ms"
    )
    verdict = "MET" if b - a <= 10 else "MISSED"
    print(f"difference {b - a:+.2f} ms, ratio {b / a:.2f}x  target <= +10 ms  {verdict}")


def open_llm_store(store: Path):  # type: ignore[no-untyped-def]
    """An AppContext over a new store whose PO ``po`` answers through llm model ``local``."""
    import prompt_sessions_llm

    from prompt_sessions.context import AppContext
    from prompt_sessions.plugins import PluginHost

    (store / "objects").mkdir(parents=True)
    (store / "objects" / "po.md").write_text(
        "---\nname: po\nresponder: llm\nmodel: local\n---\nYou are brief.\n"
    )
    host = PluginHost.create(entry_points=False, plugins=[prompt_sessions_llm])
    return AppContext.open(store, host=host)


def declare_local_model(home: Path, port: int) -> None:
    home.mkdir()
    os.environ["LLM_USER_PATH"] = str(home)
    os.environ["NO_PROXY"] = "127.0.0.1"
    (home / "extra-openai-models.yaml").write_text(
        f"- model_id: local\n  model_name: local\n  api_base: http://127.0.0.1:{port}/v1\n"
    )


async def keys_while_streaming() -> None:
    """p95 of a key press while 20 llm replies stream over HTTP from the local server."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_tui import STREAMING, p95
    from bench_tui import keys_while_streaming as typing_while_streaming

    process, port = start_server("--delay-ms", "5")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            declare_local_model(Path(tmp) / "llm", port)
            ctx = open_llm_store(Path(tmp) / ".prompt_objects")
            ctx.config["runtime"] = {"max_generating": STREAMING, "max_loaded": STREAMING + 2}
            # The server streams the user's words back one by one: 4,000 words, 20 s each.
            long_text = " ".join(f"word{i}" for i in range(4_000))
            samples, idle, streamed = await typing_while_streaming(
                ctx,
                "po",
                long_text,
                settle_s=1.0,  # every stream connected and flowing
            )
            ctx.manager.close()
    finally:
        process.terminate()
        process.wait()
    value, baseline = p95(samples), p95(idle)
    verdict = "MET" if value <= 50 else "MISSED"
    print(
        f"TUI key press p95, {streamed} llm replies streaming  {value:7.2f} ms"
        f"  target <= 50 ms  {verdict}"
    )
    print(
        f"  (median while streaming {statistics.median(samples):.2f} ms;"
        f" p95 with nothing streaming, same run {baseline:.2f} ms)"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
    asyncio.run(keys_while_streaming())
