"""The ``web`` frontend (DESIGN section 15), run by ``prompt-sessions web``: the TUI in a browser.

Registered through the same hook a third-party frontend uses. textual-serve is imported only
when the server runs, never at CLI start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..context import AppContext


def run(ctx: AppContext, host: str = "127.0.0.1", port: int = 8000, public: bool = False) -> None:
    """Serve the TUI of the environment over HTTP until interrupted.

    :param host: address to listen on; a non-loopback one needs ``public``.
    :param port: TCP port.
    :param public: allow a non-loopback host, then require a random access token.
    :raises PluginError: when textual-serve is not installed.
    :raises UsageError: for a non-loopback host without ``public`` or an unusable address.
    """
    try:
        from ..frontends.web import serve
    except ImportError as exc:
        from ..errors import PluginError

        raise PluginError(
            f"the web UI needs textual-serve ({exc}): pip install 'prompt-sessions[web]'"
        ) from exc
    serve(ctx.root, host=host, port=port, public=public)


@hookimpl
def register_frontends(register: Callable[[str, Any], None]) -> None:
    register("web", run)
