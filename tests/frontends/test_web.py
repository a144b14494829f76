"""The TUI in a browser (`prompt-sessions web`): what is served, to whom, and the websocket."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest
from mcp_client import SCRIPT
from web_server import free_port, web_server

from prompt_sessions.frontends.web import host_name, is_loopback
from prompt_sessions.manager import SessionManager


async def get(url: str, **kwargs) -> tuple[int, str, aiohttp.ClientResponse]:
    async with aiohttp.ClientSession() as http, http.get(url, **kwargs) as response:
        return response.status, await response.text(), response


async def app_answers(url: str, **kwargs) -> bytes:
    """Open the app's websocket as the page does; returns what the TUI drew once it shows a PO,
    after checking that the socket answers a ping."""
    drawn = b""
    async with aiohttp.ClientSession(**kwargs) as http, http.ws_connect(url) as ws:
        await ws.send_json(["ping", "42"])
        pong = False
        async with asyncio.timeout(60):
            while not (pong and b"coordinator" in drawn):
                message = await ws.receive()
                if message.type == aiohttp.WSMsgType.TEXT and message.json() == ["pong", "42"]:
                    pong = True
                elif message.type == aiohttp.WSMsgType.BINARY:
                    drawn += message.data
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    raise AssertionError(f"the socket closed; drawn so far: {drawn[-200:]!r}")
    return drawn


async def test_page_is_served_on_loopback(store: Path, child_env) -> None:
    """The page and its script are served, and the page points at the app's websocket."""
    with web_server(store, child_env) as server:
        status, page, _ = await get(server.base + "/")
        script_status, _, _ = await get(server.base + "/static/js/textual.js")
    assert status == 200 and script_status == 200
    assert f"ws://127.0.0.1:{server.port}/ws" in page
    assert server.lines[0] == f"Serving the prompt-sessions TUI on {server.base}/"
    assert not any("token" in line.lower() for line in server.lines)


async def test_the_apps_websocket_answers(store: Path, child_env) -> None:
    """The websocket starts the TUI on the environment: it answers a ping and draws the POs."""
    with web_server(store, child_env) as server:
        drawn = await app_answers(f"ws://127.0.0.1:{server.port}/ws?width=100&height=30")
    assert b"researcher" in drawn


async def test_pages_of_other_sites_and_other_host_names_are_refused(
    store: Path, child_env
) -> None:
    """A websocket opened by another site's page, and a request naming a foreign host (DNS
    rebinding), are refused with 403."""
    with web_server(store, child_env) as server:
        ws_url = f"ws://127.0.0.1:{server.port}/ws"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await app_answers(ws_url, headers={"Origin": "http://evil.example"})
        foreign, text, _ = await get(
            server.base + "/", headers={"Host": f"evil.example:{server.port}"}
        )
        localhost, _, _ = await get(server.base + "/", headers={"Host": f"localhost:{server.port}"})
    assert refused.value.status == 403
    assert foreign == 403 and "loopback" in text
    assert localhost == 200


async def test_public_requires_the_printed_token(store: Path, child_env) -> None:
    """With --public every request needs the random token printed at start: the page, the
    static files and the websocket are refused without it and work with it (then by cookie)."""
    with web_server(store, child_env, "--public") as server:
        token = server.token()
        ws_url = f"ws://127.0.0.1:{server.port}/ws"
        bare, bare_text, _ = await get(server.base + "/")
        wrong, _, _ = await get(server.base + "/?token=not-the-token")
        script, _, _ = await get(server.base + "/static/js/textual.js")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await app_answers(ws_url)
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address host
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(f"{server.base}/?token={token}") as page:
                assert page.status == 200
            async with http.get(server.base + "/static/js/textual.js") as by_cookie:
                assert by_cookie.status == 200
        drawn = await app_answers(ws_url, cookie_jar=jar)
    assert len(token) >= 32
    assert server.lines[0] == f"Serving the prompt-sessions TUI on {server.base}/?token={token}"
    assert bare == 403 and "access token" in bare_text
    assert wrong == 403 and script == 403 and refused.value.status == 403
    assert b"coordinator" in drawn


def test_tokens_differ_between_runs(store: Path, child_env) -> None:
    """Each start makes a new random token."""
    tokens = set()
    for _ in range(2):
        with web_server(store, child_env, "--public") as server:
            tokens.add(server.token())
    assert len(tokens) == 2


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "::"])
def test_a_non_loopback_host_needs_public(store: Path, child_env, host: str) -> None:
    """Without --public, a host that is not loopback is refused before anything listens."""
    result = subprocess.run(
        [SCRIPT, "--dir", str(store), "web", "--host", host, "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {host} is not a loopback address: add --public to serve other machines "
        "(an access token is then required)\n"
    )
    assert result.stdout == ""


def test_a_busy_port_is_a_one_line_error(store: Path, child_env) -> None:
    """A port another program holds is one error line and exit status 1."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [SCRIPT, "--dir", str(store), "web", "--port", str(port)],
            capture_output=True,
            text=True,
            env=child_env,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("app.localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    """Which hosts count as this machine."""
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("header", "name"),
    [("127.0.0.1:8000", "127.0.0.1"), ("localhost", "localhost"), ("[::1]:80", "::1")],
)
def test_host_name(header: str, name: str) -> None:
    """The host part of a Host header, without port or brackets."""
    assert host_name(header) == name


class Screen:
    """What the app has drawn, read from the websocket's frames with terminal escapes removed."""

    ESCAPES = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")

    def __init__(self, page) -> None:
        self.page = page
        self.drawn = b""
        self.rows = 0
        page.on("websocket", self._opened)

    def _opened(self, ws) -> None:
        # The page asks for the terminal's size in the socket's address (?width=&height=).
        self.rows = int(re.search(r"height=(\d+)", ws.url).group(1))
        ws.on("framereceived", self._frame)

    def _frame(self, payload: bytes | str) -> None:
        if isinstance(payload, bytes):
            self.drawn += payload

    def click_row(self, page, *, middle: bool = False, from_bottom: int = 0) -> None:
        """Click the middle of the terminal, or the middle of row ``from_bottom`` (1 is the
        last row), as a person clicks a widget."""
        box = page.locator(".xterm-screen").bounding_box()
        assert box is not None and self.rows
        row_height = box["height"] / self.rows
        y = box["height"] / 2 if middle else box["height"] - (from_bottom - 0.5) * row_height
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + y)

    def clear(self) -> None:
        self.drawn = b""

    def text(self) -> str:
        return self.ESCAPES.sub(b"", self.drawn).decode("utf-8", "replace")

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while text not in self.text():
            if time.monotonic() > end:
                raise AssertionError(f"the app never drew {text!r}: {self.text()[-2000:]!r}")
            self.page.wait_for_timeout(100)


def wait_until(check, what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"the store never showed {what}")
        time.sleep(0.2)


def test_in_a_browser_pick_a_session_and_send(store: Path, child_env) -> None:
    """Headless Chromium opens the page, presses S, picks the other session in the picker and
    sends a message there; the message and its reply land in that session in the store."""
    from playwright.sync_api import sync_playwright

    with SessionManager.open(store) as mgr:
        first = mgr.create("coordinator", "First thread")
        second = mgr.create("coordinator", "Second thread")
        mgr.switch("coordinator", second.id)

    def current() -> str | None:
        with SessionManager.open(store) as mgr:
            found = mgr.peek_current("coordinator")
        return found.id if found else None

    def history() -> list:
        with SessionManager.open(store) as mgr:
            return mgr.get(first.id).history

    with web_server(store, child_env) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            # The page asks a web font service for a font: nothing may leave this machine.
            local = (server.base, f"ws://127.0.0.1:{server.port}")
            page.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith(local) else route.abort()
                ),
            )
            screen = Screen(page)
            page.goto(server.base + "/")
            page.wait_for_selector("body.-first-byte", timeout=60_000)
            page.locator("textarea.xterm-helper-textarea").focus()
            screen.wait_for("Second thread")
            # Focus moves with clicks, which the app applies before the keys that follow (a key
            # binding moves focus only later); each step waits for the app to draw its effect.
            screen.click_row(page, middle=True)  # the conversation: keys now go to the screen
            page.keyboard.press("S")
            screen.wait_for("Sessions of coordinator")
            screen.wait_for("First thread")  # the rows are in
            screen.clear()
            page.keyboard.press("ArrowDown")
            screen.wait_for("2 of 2")  # the picker's title follows the cursor
            page.keyboard.press("Enter")
            wait_until(lambda: current() == first.id, "the picked session as current")
            screen.click_row(page, from_bottom=3)  # the message box
            page.keyboard.type("sent from a browser")
            page.keyboard.press("Enter")
            wait_until(lambda: len(history()) == 2, "the message and its reply")
        except AssertionError:
            page.screenshot(path=str(store.parent / "failed.png"))
            raise
        finally:
            browser.close()
    assert [(m.role, m.content) for m in history()] == [
        ("user", "sent from a browser"),
        ("assistant", "You said: sent from a browser"),
    ]
    with SessionManager.open(store) as mgr:
        assert mgr.get(second.id).history == []
