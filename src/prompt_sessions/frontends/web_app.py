"""The process textual-serve starts for each browser tab: the ``tui`` frontend on one folder.

Run as ``python -m prompt_sessions.frontends.web_app ROOT``. It opens the TUI by name rather than
through ``[ui] frontend``, so a folder whose configured frontend is ``web`` cannot recurse.
"""

from __future__ import annotations

import sys

from ..context import AppContext
from ..errors import PromptSessionsError, UnknownFormat


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m prompt_sessions.frontends.web_app ROOT", file=sys.stderr)
        return 2
    try:
        ctx = AppContext.open(args[0])
        try:
            frontends = ctx.host.frontends()
            if "tui" not in frontends:
                raise UnknownFormat("tui", frontends, kind="frontend")
            frontends["tui"].value(ctx)
        finally:
            ctx.manager.close()
    except PromptSessionsError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
