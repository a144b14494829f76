"""The ``mcp`` frontend (DESIGN section 15), run by ``prompt-sessions serve --mcp``.

Registered through the same hook a third-party frontend uses. The ``mcp`` SDK is imported only
when the server runs, never at CLI start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..context import AppContext


def run(ctx: AppContext) -> None:
    """Serve the environment over MCP on stdin and stdout until the client disconnects.

    :raises PluginError: when the ``mcp`` SDK is not installed.
    """
    try:
        from ..frontends.mcp_server import run as serve_mcp
    except ImportError as exc:
        from ..errors import PluginError

        raise PluginError(
            f"the MCP server needs the mcp package ({exc}): pip install 'prompt-sessions[mcp]'"
        ) from exc
    serve_mcp(ctx)


@hookimpl
def register_frontends(register: Callable[[str, Any], None]) -> None:
    register("mcp", run)
