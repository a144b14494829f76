"""Which dotted keys of ``config.toml`` the program knows, and the nearest known key to a typo.

A key is known when ``config_schema`` declares it, or when it lies in the table of an installed
plugin: ``[responders.<name>]`` and ``[storage.<backend>]`` are checked against the
``config_schema`` Struct the plugin's factory declares, and a plugin that declares none takes
any key in its table. ``[prices.<model>]`` takes any model id. DESIGN sections 3, 7 and 14.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from .config import _fields, _split, _unwrap
from .config_schema import Config, StorageConfig
from .errors import UsageError
from .text import visible

if TYPE_CHECKING:
    from .plugins import PluginHost

FREE = object()  # a plugin table without a schema: any key below it is the plugin's to read


@dataclass(frozen=True)
class Known:
    """A key the program knows: ``default`` is its schema default when it is a single value
    (text, number, boolean) with one, else None."""

    default: str | int | float | bool | None = None


class _Unknown(Exception):
    def __init__(self, depth: int, names: list[str], why: str = "") -> None:
        self.depth, self.names, self.why = depth, names, why


def check_key(key: str, host: PluginHost | None) -> Known:
    """What the program knows of the dotted ``key``.

    Args:
        key: a dotted key such as ``responders.echo.chunk_delay_ms``.
        host: the plugin host whose responders and storage backends own their tables; None
            judges the core's keys only and takes any plugin table.

    Raises:
        UsageError: one line naming the unknown key and the nearest known key(s), or the known
            keys of the table where it went wrong; or the key is malformed.
    """
    parts = _split(key)
    tables = host.config_tables() if host is not None else None
    try:
        return _walk(parts, tables)
    except _Unknown as exc:
        raise UsageError(_message(key, parts, exc, tables)) from None


def _walk(parts: list[str], tables: dict[str, dict[str, Any]] | None) -> Known:
    """Follow ``parts`` down the schema; raise ``_Unknown`` at the first part nothing knows."""
    node: Any = Config
    field: msgspec.inspect.Field | None = None
    for depth, part in enumerate(parts):
        if node is FREE:
            return Known()
        names = _names(node, parts[:depth], tables)
        if names is None:  # a table of any names (prices.<model>)
            node, field = _below(node, part, parts[:depth], tables), None
            continue
        if part not in names:
            if not isinstance(node, type | msgspec.inspect.DictType):  # past a single value
                raise _Unknown(depth, [], f"'{_join(parts[:depth])}' is a value, not a table")
            raise _Unknown(depth, names)
        field = _fields(node).get(part) if isinstance(node, type) else None
        node = _below(node, part, parts[:depth], tables)
    default = field.default if field is not None else None
    return Known(default if isinstance(default, str | int | float | bool) else None)


def _names(
    node: Any, path: list[str], tables: dict[str, dict[str, Any]] | None
) -> list[str] | None:
    """The names a table may hold; None when it takes any name."""
    if isinstance(node, type):  # a Struct
        names = list(_fields(node))
        if node is StorageConfig:
            names += [n for n in (tables or {}).get("storage", {}) if n not in names]
        return names
    if path == ["responders"]:
        return None if tables is None else sorted(tables["responders"])
    if isinstance(node, msgspec.inspect.DictType):
        return None
    return []  # a single value holds no names


def _below(node: Any, part: str, path: list[str], tables: dict[str, dict[str, Any]] | None) -> Any:
    """What ``part`` of the table ``node`` holds: a Struct, a dict type, FREE or a value type."""
    if path == ["responders"] or (node is StorageConfig and part not in _fields(node)):
        kind = "responders" if path == ["responders"] else "storage"
        schema = (tables or {}).get(kind, {}).get(part)
        return schema if schema is not None else FREE
    if isinstance(node, type):
        inner = _unwrap(_fields(node)[part].type)
    else:
        inner = _unwrap(node.value_type)
    if isinstance(inner, msgspec.inspect.StructType):
        return inner.cls
    if isinstance(inner, msgspec.inspect.DictType):
        return inner
    return FREE if isinstance(inner, msgspec.inspect.AnyType) else inner


def _message(
    key: str, parts: list[str], exc: _Unknown, tables: dict[str, dict[str, Any]] | None
) -> str:
    shown = visible(key, one_line=True)
    if exc.why:
        return f"unknown config key '{shown}': {visible(exc.why, one_line=True)}"
    near = _nearest(parts, exc.depth, tables)
    if near:
        said = " or ".join(f"'{visible(k, one_line=True)}'" for k in near)
        return f"unknown config key '{shown}'; did you mean {said}?"
    where = parts[: exc.depth]
    if where == ["responders"]:  # a table named after a responder that is not installed
        name = visible(parts[exc.depth], one_line=True)
        installed = ", ".join(sorted(exc.names)) or "(none)"
        return f"unknown config key '{shown}': no responder '{name}'; installed: {installed}"
    known = ", ".join(visible(_join([*where, n]), one_line=True) for n in sorted(exc.names))
    table = f" in [{visible(_join(where), one_line=True)}]" if where else ""
    return f"unknown config key '{shown}'; known{table}: {known or '(none)'}"


def _nearest(parts: list[str], depth: int, tables: dict[str, dict[str, Any]] | None) -> list[str]:
    """Up to three known keys close to ``parts``: each wrong part mended by its closest
    sibling names, else, when the first part is wrong, the closest of every known key to the
    whole of it (``backend`` for ``storage.backend``)."""
    import difflib  # error messages only

    mended = [_join(p) for p in _mend(parts, tables)][:3]
    if mended or depth:
        return mended
    return difflib.get_close_matches(_join(parts), _every_key(tables), n=3)


def _mend(parts: list[str], tables: dict[str, dict[str, Any]] | None) -> list[list[str]]:
    import difflib

    try:
        _walk(parts, tables)
    except _Unknown as exc:
        if not exc.names:
            return []
        head, wrong, rest = parts[: exc.depth], parts[exc.depth], parts[exc.depth + 1 :]
        found: list[list[str]] = []
        for name in difflib.get_close_matches(wrong, exc.names, n=3):
            found += _mend([*head, name, *rest], tables)
        return found
    return [parts]


def _every_key(tables: dict[str, dict[str, Any]] | None) -> list[str]:
    """Every key a schema declares, down to single values (plugin tables included)."""
    keys: list[str] = []

    def walk(node: Any, path: list[str]) -> None:
        names = _names(node, path, tables)
        for name in names or ():
            below = _below(node, name, path, tables)
            if isinstance(below, type | msgspec.inspect.DictType):
                walk(below, [*path, name])
            elif below is not FREE:
                keys.append(_join([*path, name]))

    walk(Config, [])
    return keys


def _join(parts: list[str]) -> str:
    """A dotted key as TOML writes it: a part that is not a bare key is quoted."""
    import re

    return ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else f'"{p}"' for p in parts)


def unknown_keys(data: dict[str, Any], host: PluginHost | None) -> list[str]:
    """One line per key of ``config.toml``'s data that nothing knows, as :func:`check_key`
    words it: a hand-written table of a responder that is not installed is taken as it is by
    every command (``check_config``), so ``doctor`` reports it."""
    lines: list[str] = []

    def walk(node: dict[str, Any], path: list[str]) -> None:
        for name, value in node.items():
            parts = [*path, str(name)]
            try:
                known = check_key(_join(parts), host)
            except UsageError as exc:
                lines.append(str(exc))
                continue
            if isinstance(value, dict) and known.default is None:
                walk(value, parts)

    walk(data, [])
    return lines
