"""Many PO files and a long-running frontend: a lookup costs one listing of ``objects/`` and no
file reads while nothing changed, whatever the number of POs. Counted in listings and reads,
never timed (timings live in bench/)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from prompt_sessions import context as context_module
from prompt_sessions.context import AppContext
from prompt_sessions.delegation import toolset_for, unknown_capabilities
from prompt_sessions.frontends.mcp_tools import SessionTools
from prompt_sessions.plugins import PluginHost


def environment(tmp_path: Path, count: int) -> Path:
    """``count`` POs, each calling the next, their files edited a minute ago."""
    root = tmp_path / ".prompt_objects"
    (root / "objects").mkdir(parents=True)
    (root / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    for n in range(count):
        path = root / "objects" / f"po{n}.md"
        caps = ", ".join(f"po{(n + k) % count}" for k in range(1, 4))
        path.write_text(f"---\ndescription: number {n}\ncapabilities: [{caps}]\n---\nYou {n}.\n")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60_000_000_000))
    return root


class Counts:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.listings = 0
        self.reads = 0
        real_stamp, real_read = context_module.objects_stamp, context_module.read_po_file

        def stamp(root: Path):
            self.listings += 1
            return real_stamp(root)

        def read(path: Path):
            self.reads += 1
            return real_read(path)

        monkeypatch.setattr(context_module, "objects_stamp", stamp)
        monkeypatch.setattr(context_module, "read_po_file", read)


@pytest.mark.parametrize("count", [5, 60])
def test_mcp_calls_list_objects_once_and_read_no_unchanged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """list_prompt_objects lists objects/ a fixed number of times (not once per PO), and a
    second MCP call parses no file when none changed (a fresh context per call parsed them
    all again)."""
    ctx = AppContext.open(environment(tmp_path, count), host=PluginHost.create(entry_points=False))
    tools = SessionTools(ctx)
    counts = Counts(monkeypatch)
    assert len(tools.list_prompt_objects()) == count
    assert counts.listings <= 2
    counts.listings = counts.reads = 0
    assert len(tools.list_prompt_objects()) == count
    reply = asyncio.run(tools.send_message("po1", "hello"))
    assert reply["reply"]
    assert counts.reads == 0
    ctx.manager.close()


@pytest.mark.parametrize("count", [5, 60])
def test_capabilities_are_resolved_with_one_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """A reply's tools (toolset_for) list objects/ once for all its capabilities, and doctor's
    unknown-capability check once for every PO."""
    ctx = AppContext.open(environment(tmp_path, count), host=PluginHost.create(entry_points=False))
    po = ctx.objects["po0"]
    counts = Counts(monkeypatch)
    assert len(toolset_for(ctx, po).po_tools) == 3
    assert counts.listings == 1
    counts.listings = 0
    assert unknown_capabilities(ctx) == []
    assert counts.listings == 1 and counts.reads == 0
    ctx.manager.close()
