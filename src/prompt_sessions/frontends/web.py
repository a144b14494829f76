"""The ``web`` frontend: the same Textual app in a browser, through textual-serve.

DESIGN section 15. Each browser tab gets its own TUI process on the environment folder. The server
listens on loopback unless told ``public``; then every request must carry a random access token
(``?token=`` once, then a cookie). On loopback, requests must name a loopback host (a page on
another site cannot reach the app through DNS rebinding), and a websocket opened by a page from
another origin is refused.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import shlex
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server

from ..errors import UsageError

COOKIE = "prompt_sessions_token"
# What a Host header may look like before it is written into the page (name or address, port).
# ASCII digits and \Z: \d takes other scripts' digits, and $ a trailing newline.
_HOST_HEADER = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The host part of a Host header value, without port or brackets."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def url_host(host: str) -> str:
    """``host`` as it goes in a URL (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class SessionsWebServer(Server):
    """textual-serve's server with the access rules above.

    :param root: the environment folder each tab's TUI opens.
    :param host: the address to listen on.
    :param port: the TCP port (1 to 65535).
    :param token: when given, every request must carry it.
    :param announce: prints the start-up lines (default: to stdout).
    """

    def __init__(
        self,
        root: Path,
        host: str,
        port: int,
        *,
        token: str | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        command = shlex.join([sys.executable, "-m", "prompt_sessions.frontends.web_app", str(root)])
        super().__init__(command, host=host, port=port, title=f"prompt-sessions: {root}")
        self.token = token
        self._announce = announce or (lambda text: print(text, flush=True))

    def initialize_logging(self) -> None:
        # Warnings and errors only, on stderr: stdout is for the address to open.
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    def address(self) -> str:
        """The address to open in a browser, with the token when one is required."""
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        url = f"http://{url_host(host)}:{self.port}/"
        return f"{url}?token={self.token}" if self.token else url

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: the address is announced once the socket listens (see :meth:`serve`)."""

    def _ready(self) -> None:
        self._announce(f"Serving the prompt-sessions TUI on {self.address()}")
        if self.token:
            self._announce(f"Access token: {self.token} (requests without it are refused)")
        self._announce("Press Ctrl+C to stop.")

    def serve(self, debug: bool = False) -> None:
        """Listen until interrupted (Ctrl+C or SIGTERM); announce the address once listening.

        :raises OSError: when the address cannot be listened on.
        """
        self.debug = debug
        self.initialize_logging()
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            print=lambda _text: self._ready(),
            handle_signals=True,
        )

    def _refuse(self, reason: str) -> web.Response:
        return web.Response(status=403, text=f"Forbidden: {reason}\n")

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        if not _HOST_HEADER.match(host):
            return self._refuse("bad Host header")
        if self.token is None and not is_loopback(host_name(host)):
            return self._refuse("this server answers only on loopback addresses")
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{host}":
            return self._refuse("a page from another site cannot use this server")
        from_query = request.query.get("token")
        if self.token is not None:
            given = from_query or request.cookies.get(COOKIE) or ""
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                return self._refuse("open the address with the access token printed at start")
        if request.path == "/ws" and request.headers.get("Upgrade", "").lower() != "websocket":
            # textual-serve would log a traceback and drop the connection without an answer.
            return web.Response(status=400, text="Bad Request: /ws takes a websocket\n")
        response = await handler(request)
        if self.token is not None and from_query and not response.prepared:
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
        return response

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        # The page's links follow the address the browser used (the host is checked by the
        # guard), so a server on 0.0.0.0 works from other machines too.
        base = f"{request.scheme}://{request.host}"
        socket_scheme = "wss" if request.scheme == "https" else "ws"
        try:
            font_size = int(request.query.get("fontsize", "16"))
        except ValueError:
            font_size = 16
        return {
            "font_size": font_size,
            "app_websocket_url": f"{socket_scheme}://{request.host}/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000, public: bool = False) -> None:
    """Serve the TUI of the folder ``root`` over HTTP until interrupted.

    :param host: address to listen on; one that is not loopback needs ``public``.
    :param port: TCP port, 1 to 65535.
    :param public: allow a non-loopback host; a random access token is then required.
    :raises UsageError: for a non-loopback host without ``public``, a bad port, or an address
        that cannot be listened on.
    """
    if not 1 <= port <= 65535:
        raise UsageError(f"port must be between 1 and 65535, not {port}")
    if not public and not is_loopback(host):
        raise UsageError(
            f"{host} is not a loopback address: add --public to serve other machines "
            "(an access token is then required)"
        )
    token = secrets.token_urlsafe(24) if public else None
    server = SessionsWebServer(root, host, port, token=token)
    try:
        server.serve()
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {url_host(host)}:{port}: {exc.strerror or exc}"
        ) from exc
