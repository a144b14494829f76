"""PO files read again while a frontend runs (``AppContext.objects``), with many of them.

Writes ``--files`` PO files (each calling three others, edited a minute ago) in a temporary
environment, then times, each as the median of ``--repeat`` runs:

- the first reading of every file (a frontend starting);
- a lookup while nothing changed: one listing of ``objects/`` and a stat per file, no file read
  (what every reply pays);
- a lookup after one file was edited: that file alone is read again;
- what one reply asks of the POs: its PO (``po_for_reply``) and its tools (``toolset_for``);
- the MCP server's ``list_prompt_objects``, which must not read ``objects/`` once per PO.

    python bench/bench_po_files.py [--files 2000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import median_ms, open_manager  # noqa: E402

from prompt_sessions.context import AppContext  # noqa: E402
from prompt_sessions.delegation import toolset_for  # noqa: E402
from prompt_sessions.frontends.mcp_tools import SessionTools  # noqa: E402


def write_files(root: Path, count: int) -> None:
    folder = root / "objects"
    folder.mkdir(parents=True)
    for n in range(count):
        path = folder / f"po{n}.md"
        caps = ", ".join(f"po{(n + k) % count}" for k in range(1, 4))
        path.write_text(f"---\ndescription: number {n}\ncapabilities: [{caps}]\n---\nYou {n}.\n")
        age(path)


def age(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60_000_000_000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / ".prompt_objects"
        write_files(root, args.files)
        manager = open_manager(root)
        try:

            def first() -> None:
                AppContext(manager=manager, host=manager.host, root=root).objects  # noqa: B018

            ctx = AppContext(manager=manager, host=manager.host, root=root)
            edited = root / "objects" / "po1.md"

            def after_edit() -> None:
                edited.write_text(edited.read_text())
                age(edited)  # a different time each run: the stamp changes
                ctx.objects  # noqa: B018

            def reply() -> None:
                toolset_for(ctx, ctx.po_for_reply("po0"))

            tools = SessionTools(ctx)
            figures = [
                ("first reading of every file", median_ms(first, max(3, args.repeat // 5), 1)),
                ("lookup, nothing changed", median_ms(lambda: ctx.objects, args.repeat)),
                ("lookup after one file was edited", median_ms(after_edit, args.repeat)),
                ("one reply's PO and tools", median_ms(reply, args.repeat)),
                ("MCP list_prompt_objects", median_ms(tools.list_prompt_objects, args.repeat)),
            ]
        finally:
            manager.close()
    print(f"{args.files} PO files, median of {args.repeat} runs")
    for label, ms in figures:
        print(f"  {label:<36} {ms:9.2f} ms")


if __name__ == "__main__":
    main()
