"""Frontends beyond the TUI (DESIGN section 15): the MCP server and the TUI in a browser.

Each is registered by a built-in plugin in ``default_plugins`` through ``register_frontends``,
and imports its heavy dependencies (the ``mcp`` SDK, ``textual-serve``) only when it runs.
"""
