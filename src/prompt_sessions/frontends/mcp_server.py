"""The ``mcp`` frontend: an MCP server over stdio, built on the official ``mcp`` SDK.

DESIGN section 15. stdout carries nothing but the protocol: while the environment is opened
(plugins load, prompt objects are read) Python's ``sys.stdout`` points at stderr, and while
serving the SDK keeps file descriptor 1 aimed at stderr for anything else that writes there.
"""

from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from ..context import AppContext
from ..errors import PromptSessionsError
from .mcp_tools import SessionTools
from .stdio import stdout_to_stderr

INSTRUCTIONS = (
    "Named, persistent conversation sessions with Prompt Objects (POs). List the POs, browse "
    "or search their sessions, and talk to a PO with send_message: it stores your message, runs "
    "the PO's responder and returns its reply."
)

# Argument types: the SDK turns these into each tool's JSON input schema.
PoName = Annotated[str, Field(description="The prompt object's name.", min_length=1)]
OptionalPo = Annotated[
    str | None, Field(description="Only this prompt object's sessions.", default=None)
]


def one_line(exc: PromptSessionsError) -> ToolError:
    """The tool error result for a refusal: its message on one line."""
    return ToolError(" ".join(str(exc).split()))


class SessionServer(MCPServer):
    """The SDK's server, with argument errors told on one line like every other refusal."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if not isinstance(cause, ValidationError):
                raise
            problems = "; ".join(
                f"{'.'.join(str(part) for part in err['loc']) or 'arguments'}: {err['msg']}"
                for err in cause.errors()
            )
            raise ToolError(
                f"Error executing tool {name}: invalid arguments: {problems}"
            ) from cause

    async def run_stdio_async(self) -> None:
        """Serve on stdin and stdout as the SDK does, answering the requests whose text the
        SDK cannot read (``mcp_lines``) instead of leaving their clients waiting."""
        from mcp.server.stdio import stdio_server

        from .mcp_lines import AnsweringReadStream

        lowlevel = self._lowlevel_server  # the SDK's own run_stdio_async uses it the same way
        async with stdio_server() as (read_stream, write_stream):
            await lowlevel.run(
                AnsweringReadStream(read_stream, write_stream),
                write_stream,
                lowlevel.create_initialization_options(),
            )


def build_server(ctx: AppContext) -> MCPServer:
    """The MCP server with the session tools, ready to run on any transport.

    :param ctx: the open environment the tools work on.
    """
    from .. import __version__

    tools = SessionTools(ctx)
    server = SessionServer(
        "prompt-sessions", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    @server.tool()
    async def list_prompt_objects() -> list[dict[str, Any]]:
        """List the prompt objects (POs) of the environment with their description, responder
        and number of sessions."""
        try:
            return tools.list_prompt_objects()
        except PromptSessionsError as exc:
            raise one_line(exc) from exc

    @server.tool()
    async def list_sessions(
        po: OptionalPo = None,
        query: Annotated[
            str | None,
            Field(description="Keep only sessions whose name or messages match.", default=None),
        ] = None,
        include_archived: Annotated[
            bool, Field(description="Include archived sessions.", default=False)
        ] = False,
        limit: Annotated[int, Field(description="At most this many sessions.", ge=1, le=1000)] = 50,
    ) -> list[dict[str, Any]]:
        """List session summaries (id, name, PO, message count, times, preview), most
        recently updated first, at most ``limit`` (50 unless given)."""
        try:
            return tools.list_sessions(po, query, include_archived, limit)
        except PromptSessionsError as exc:
            raise one_line(exc) from exc

    @server.tool()
    async def get_session(
        ref: Annotated[
            str,
            Field(description="A session id, a unique id prefix, or a session name.", min_length=1),
        ],
        po: OptionalPo = None,
    ) -> dict[str, Any]:
        """Get one session with its whole message history."""
        try:
            return tools.get_session(ref, po)
        except PromptSessionsError as exc:
            raise one_line(exc) from exc

    @server.tool()
    async def search_sessions(
        query: Annotated[str, Field(description="The text to look for.", min_length=1)],
        po: OptionalPo = None,
        limit: Annotated[int, Field(description="At most this many hits.", ge=1, le=1000)] = 50,
    ) -> list[dict[str, Any]]:
        """Search session names and messages; each hit is a session summary with a snippet
        and the index of the matching message (null for a name match)."""
        try:
            return tools.search_sessions(query, po, limit)
        except PromptSessionsError as exc:
            raise one_line(exc) from exc

    @server.tool()
    async def create_session(
        po: PoName,
        name: Annotated[
            str | None, Field(description='Session name (default "New Session").', default=None)
        ] = None,
    ) -> dict[str, Any]:
        """Create a session for a prompt object and make it that PO's current session."""
        try:
            return tools.create_session(po, name)
        except PromptSessionsError as exc:
            raise one_line(exc) from exc

    @server.tool()
    async def send_message(
        po: PoName,
        message: Annotated[str, Field(description="What to say to the PO.", min_length=1)],
        session: Annotated[
            str | None,
            Field(
                description="A session of the PO (id, id prefix or name); default: its current.",
                default=None,
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Send a message to a prompt object in one of its sessions, run its responder and
        return the reply. Both messages are stored in the session."""
        try:
            return await tools.send_message(po, message, session)
        except PromptSessionsError as exc:
            raise one_line(exc) from exc

    return server


def run(ctx: AppContext) -> None:
    """Serve MCP on stdin and stdout until the client disconnects (frontend ``mcp``)."""

    with stdout_to_stderr():
        server = build_server(ctx)
    try:
        anyio.run(server.run_stdio_async)
    except* (BrokenPipeError, ConnectionResetError):
        # The client went away before its answer was written: what it asked for is stored as
        # far as it got (a reply cut short is marked incomplete); nothing is left to tell.
        pass
