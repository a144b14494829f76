"""Talking to the MCP server the way any MCP client does: the SDK's own stdio client spawning
``prompt-sessions serve --mcp``, or the SDK's in-process client on the same server object."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from prompt_sessions.context import AppContext
from prompt_sessions.frontends.mcp_server import build_server
from prompt_sessions.plugins import PluginHost

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))


@asynccontextmanager
async def mcp_client(
    store: Path, env: dict[str, str], errlog: TextIO | None = None
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=SCRIPT, args=["--dir", str(store), "serve", "--mcp"], env=env
    )
    kwargs = {"errlog": errlog} if errlog is not None else {}
    async with (
        stdio_client(params, **kwargs) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def connect(store: Path, env: dict[str, str], transport: str) -> AsyncIterator[Any]:
    """A connected client: ``stdio`` spawns the console script, ``memory`` serves in-process
    (built-in plugins only)."""
    if transport == "stdio":
        async with mcp_client(store, env) as session:
            yield session
        return
    ctx = AppContext.open(store, host=PluginHost.create(entry_points=False))
    try:
        async with Client(build_server(ctx)) as client:
            yield client
    finally:
        ctx.manager.close()


LIST_TOOLS = {"list_prompt_objects", "list_sessions", "search_sessions"}


async def call(client: Any, tool: str, /, **arguments: Any) -> Any:
    """Call a tool that must succeed; returns its structured result (a list tool's list)."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    data = result.structured_content
    assert data is not None
    # The SDK wraps a list result as {"result": [...]}; every text block is JSON as well.
    for block in result.content:
        json.loads(block.text)
    return data["result"] if tool in LIST_TOOLS else data


async def refusal(client: Any, tool: str, /, **arguments: Any) -> str:
    """Call a tool that must fail; returns its one-line error text."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert len(result.content) == 1
    text = result.content[0].text
    assert "\n" not in text
    return text
