"""The web server's access rules and page, checked in-process on aiohttp's test server; the
process that runs each tab's TUI; the command line's refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from prompt_sessions.cli import main
from prompt_sessions.frontends import web_app
from prompt_sessions.frontends.web import COOKIE, SessionsWebServer, serve


@asynccontextmanager
async def served(store: Path, token: str | None = None) -> AsyncIterator[TestClient]:
    server = SessionsWebServer(store, "127.0.0.1", 8000, token=token, announce=lambda _: None)
    client = TestClient(TestServer(await server._make_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def test_the_page_links_follow_the_address_used(store: Path) -> None:
    """The page's websocket and static addresses are built from the Host the browser used."""
    async with served(store) as client:
        response = await client.get("/", headers={"Host": "localhost:9999"})
        page = await response.text()
    assert response.status == 200
    assert 'src="http://localhost:9999/static/js/textual.js"' in page
    assert "ws://localhost:9999/ws" in page


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Host": "evil.example"}, "only on loopback"),
        ({"Host": "evil.example:80"}, "only on loopback"),
        ({"Host": "bad host<script>"}, "bad Host header"),
        ({"Host": "localhost:\u0669\u0669"}, "bad Host header"),  # another script's digits
        ({"Host": "[::1]:80:80"}, "bad Host header"),
        ({"Origin": "http://evil.example"}, "another site"),
    ],
)
async def test_foreign_hosts_and_origins_are_refused(
    store: Path, headers: dict[str, str], reason: str
) -> None:
    """On loopback, a request naming a foreign host, or from another site's page, is a 403."""
    async with served(store) as client:
        response = await client.get("/", headers=headers)
        text = await response.text()
    assert response.status == 403
    assert reason in text


async def test_the_websocket_address_without_a_websocket_is_a_400(
    store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A plain GET of /ws (no websocket upgrade) is answered 400 in one line; it used to drop
    the connection unanswered and log two tracebacks. The server goes on serving."""
    async with served(store) as client:
        response = await client.get("/ws")
        text = await response.text()
        after = await client.get("/")
    assert (response.status, text) == (400, "Bad Request: /ws takes a websocket\n")
    assert after.status == 200
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]


async def test_the_same_origin_is_welcome(store: Path) -> None:
    """A request from the server's own page (Origin equals the address) is served."""
    async with served(store) as client:
        host = f"127.0.0.1:{client.port}"
        response = await client.get("/", headers={"Origin": f"http://{host}"})
    assert response.status == 200


async def test_a_token_is_required_then_kept_in_a_cookie(store: Path) -> None:
    """With a token, a request without it is refused; the token in the query opens the page and
    sets an HttpOnly, SameSite=Strict cookie that then lets the static files through."""
    async with served(store, token="s3cret-token") as client:
        refused = await client.get("/static/js/textual.js")
        refused_text = await refused.text()
        wrong = await client.get("/?token=nope")
        opened = await client.get("/?token=s3cret-token", headers={"Host": "myhost:8000"})
        cookie = opened.cookies[COOKIE]
        by_cookie = await client.get(
            "/static/js/textual.js", headers={"Cookie": f"{COOKIE}=s3cret-token"}
        )
    assert refused.status == 403 and wrong.status == 403
    assert "access token" in refused_text
    assert opened.status == 200
    assert cookie.value == "s3cret-token"
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert by_cookie.status == 200


def test_the_announced_address(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up lines name the address to open, with the token when one is needed; a
    wildcard host is announced by this machine's name, an IPv6 one in brackets."""
    lines: list[str] = []
    monkeypatch.setattr("socket.gethostname", lambda: "myhost")
    SessionsWebServer(store, "0.0.0.0", 8080, token="tok", announce=lines.append)._ready()
    SessionsWebServer(store, "::1", 8000, announce=lines.append)._ready()
    assert lines == [
        "Serving the prompt-sessions TUI on http://myhost:8080/?token=tok",
        "Access token: tok (requests without it are refused)",
        "Press Ctrl+C to stop.",
        "Serving the prompt-sessions TUI on http://[::1]:8000/",
        "Press Ctrl+C to stop.",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"host": "0.0.0.0"}, "0.0.0.0 is not a loopback address: add --public"),
        ({"port": 0}, "port must be between 1 and 65535, not 0"),
    ],
)
def test_serve_refuses_before_listening(store: Path, args: dict, message: str) -> None:
    """A non-loopback host without public, or a port out of range, is refused at once."""
    from prompt_sessions.errors import UsageError

    with pytest.raises(UsageError, match=message):
        serve(store, **args)


def test_the_tab_process_needs_one_folder(capsys: pytest.CaptureFixture[str]) -> None:
    """The per-tab process takes exactly one argument, the folder."""
    assert web_app.main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_the_tab_process_without_a_tui(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the TUI disabled, the per-tab process says so in one line and exits 1."""
    monkeypatch.setenv("PROMPT_SESSIONS_DISABLE_PLUGINS", "tui")
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "")
    assert web_app.main([str(store)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: unknown frontend 'tui'; known: mcp, web")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_cli_refusals(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`serve` without a protocol is a usage error; `web` on a non-loopback host without
    --public and on a port out of range are refused; none prints on stdout."""
    code, out, err = run_cli(capsys, "--dir", str(store), "serve")
    assert (code, out) == (2, "") and "say what to serve: --mcp" in err
    code, out, err = run_cli(capsys, "--dir", str(store), "web", "--host", "10.1.2.3")
    assert (code, out) == (1, "")
    assert err.startswith("Error: 10.1.2.3 is not a loopback address")
    code, out, err = run_cli(capsys, "--dir", str(store), "web", "--port", "70000")
    assert (code, out) == (2, "") and "70000" in err


def test_a_missing_frontend_is_named(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the mcp and web plugins disabled, their commands say the frontend is unknown."""
    monkeypatch.setenv("PROMPT_SESSIONS_DISABLE_PLUGINS", "mcp,web")
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "")
    code, _, err = run_cli(capsys, "--dir", str(store), "serve", "--mcp")
    assert code == 1 and err == "Error: unknown frontend 'mcp'; known: tui\n"
    code, _, err = run_cli(capsys, "--dir", str(store), "web")
    assert code == 1 and err == "Error: unknown frontend 'web'; known: tui\n"
