"""Tools and delegation: what a PO may call, and the delegation sessions calls run in.

DESIGN section 11. A PO's ``capabilities`` name what it may call: another PO of the environment
becomes a tool named after it with one string parameter ``message`` (described by that PO's
``description``); any other name must be a tool a plugin registered through
``register_tools(register)``. Unknown names are skipped at reply time with a warning and
reported by ``doctor``.

A call to a PO tool runs in the called PO's delegation session under the caller's session
(made on the first call), at most :data:`MAX_DEPTH` calls deep; a call back to a PO already on
the call path is refused as a tool error. This module holds the rules and the store side; the
runtime (``prompt_sessions.runtime.tool_step``) runs the calls.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .responders import ToolSpec

if TYPE_CHECKING:
    from .context import AppContext
    from .manager import SessionManager
    from .objects import PromptObject

MAX_DEPTH = 5  # delegations nested below a reply the person asked for
MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"message": {"type": "string", "description": "What to ask or tell it."}},
    "required": ["message"],
}
_JSON_TYPES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}


@dataclass
class Toolset:
    """The tools one PO may call: specs for its responder, and what each name runs."""

    specs: list[ToolSpec] = field(default_factory=list)
    po_tools: dict[str, str] = field(default_factory=dict)  # tool name -> PO name
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def toolset_for(
    ctx: AppContext, po: PromptObject, objects: dict[str, PromptObject] | None = None
) -> Toolset:
    """Resolve ``po.capabilities`` into tools (DESIGN section 11). Never raises for bad names.
    ``objects``: the POs by name when the caller has read them already (else ``ctx.objects``,
    read once for the whole list)."""
    found = Toolset()
    if not po.capabilities:
        return found  # most POs call nothing: do not load plugins for them
    registered = ctx.host.tools()
    objects = ctx.objects if objects is None else objects
    for name in dict.fromkeys(po.capabilities):
        if name in objects and name != po.name:
            target = objects[name]
            description = target.description or f"Ask the {name} prompt object."
            found.specs.append(ToolSpec(name, description, MESSAGE_SCHEMA))
            found.po_tools[name] = name
        elif name in registered:
            function = registered[name].value
            found.specs.append(function_spec(name, function))
            found.functions[name] = function
        else:
            found.unknown.append(name)
    return found


def unknown_capabilities(ctx: AppContext) -> list[tuple[str, str]]:
    """Every ``(po, why)`` of the environment: a capability of ``po`` that gives no tool, and
    why (:func:`skipped_because`), as ``doctor`` reports them."""
    objects = ctx.objects
    return [
        (po.name, skipped_because(ctx, po, name))
        for po in objects.values()
        for name in toolset_for(ctx, po, objects).unknown
    ]


def skipped_because(ctx: AppContext, po: PromptObject, name: str) -> str:
    """Why capability ``name`` of ``po`` gives no tool, in words that say what to fix: the PO
    itself (a PO does not call itself), a PO whose file cannot be read, or neither a PO nor a
    tool."""
    if name == po.name:
        return f"capability '{name}' is {po.name} itself (a PO cannot call itself)"
    problem = ctx.po_file_problems(read_again=False).get(name)
    if problem:
        return f"capability '{name}' names a PO whose file cannot be read: {problem}"
    return f"capability '{name}' is neither a PO nor a tool"


def function_spec(name: str, function: Callable[..., Any]) -> ToolSpec:
    """A tool spec from a plain typed function: its docstring and its parameters' annotations."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # unresolvable annotations: treat every parameter as text
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in inspect.signature(function).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        properties[param.name] = {"type": _json_type(hints.get(param.name, str))}
        if param.default is param.empty:
            required.append(param.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    description = inspect.getdoc(function) or f"The {name} tool."
    return ToolSpec(name, description, schema)


def _json_type(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = options[0] if options else str
        origin = typing.get_origin(annotation)
    return _JSON_TYPES.get(origin or annotation, "string")


async def call_function(function: Callable[..., Any], arguments: dict[str, Any]) -> str:
    """Run a registered tool (a coroutine function awaited, a plain one in a thread) as text."""
    if inspect.iscoroutinefunction(function):
        result = await function(**arguments)
    else:
        result = await asyncio.to_thread(function, **arguments)
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False, default=str)


def refusal(path: tuple[str, ...], target: str) -> str | None:
    """Why a call from the end of ``path`` (the POs replying, outermost first) to ``target`` is
    refused, or None when it may run."""
    if target in path:
        return f"refused: {' -> '.join((*path, target))} is a cycle"
    if len(path) > MAX_DEPTH:
        return f"refused: delegations may nest at most {MAX_DEPTH} deep"
    return None


def delegation_session(
    manager: SessionManager, parent_id: str, parent_index: int, po_name: str, caller: str
) -> str:
    """The id of ``po_name``'s delegation session under ``parent_id``, made on first use."""
    for summary in manager.list(po_name):
        if summary.thread_type == "delegation" and summary.parent_id == parent_id:
            return summary.id
    session = manager.create(
        po_name,
        f"Delegated by {caller}"[:80],
        source="delegation",
        thread_type="delegation",
        parent_id=parent_id,
        parent_message_index=parent_index,
    )
    return session.id
