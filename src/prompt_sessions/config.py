"""``config.toml``: read with tomllib, checked against ``config_schema``, written with tomli-w.

``load_config`` returns the file as TOML data; ``check_config`` turns that data into the typed
``Config`` tree or raises ``ConfigError`` with one line naming the key. ``set_value`` checks the
whole new file before writing anything (DESIGN section 3).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from .config_schema import FINITE, Config, StorageConfig
from .errors import PromptSessionsError, UsageError
from .text import visible

if TYPE_CHECKING:
    from .plugins import PluginHost

CONFIG_NAME = "config.toml"
BACKUP_NAME = "config.toml.bak"


class ConfigError(PromptSessionsError):
    title = "Bad configuration"


def load_config(root: Path) -> dict[str, Any]:
    """The TOML data of ``root/config.toml``; ``{}`` when there is none.

    Raises:
        ConfigError: the file cannot be read or is not valid TOML.
    """
    path = root / CONFIG_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    import tomllib

    try:
        # utf-8-sig: a file saved by an editor that starts UTF-8 with a byte-order mark
        return _shallow(tomllib.loads(data.decode("utf-8-sig")), str(path))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"{path} nests values deeper than {MAX_DEPTH} levels") from None


MAX_DEPTH = 32  # tables and lists in config.toml; no key needs more than a few


def _shallow(data: dict[str, Any], where: str) -> dict[str, Any]:
    """``data`` when it nests at most ``MAX_DEPTH`` levels: deeper values would exhaust the
    recursion of every step that reads them (checks, error messages, tomli-w)."""
    if _deeper_than(data, MAX_DEPTH):
        raise ConfigError(f"{where} nests values deeper than {MAX_DEPTH} levels")
    return data


def _deeper_than(value: object, levels: int) -> bool:
    if not isinstance(value, dict | list):
        return False
    if levels < 1:
        return True
    items = value.values() if isinstance(value, dict) else value
    return any(_deeper_than(item, levels - 1) for item in items)


def get_value(config: dict[str, Any], key: str) -> Any:
    node: Any = config
    for part in _split(key):
        if not isinstance(node, dict) or part not in node:
            raise UsageError(f"'{key}' is not set")
        node = node[part]
    return node


def parse_value(text: str) -> Any:
    """Read a command-line value as TOML (numbers, booleans, quoted strings), else as a string.
    Raises ConfigError when it nests lists or tables deeper than ``MAX_DEPTH``."""
    import tomllib

    try:
        return _shallow(tomllib.loads(f"v = {text}"), "the value")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except RecursionError:
        raise ConfigError(f"the value nests deeper than {MAX_DEPTH} levels") from None


def set_value(root: Path, key: str, value: Any, host: PluginHost | None = None) -> str | None:
    """Set one dotted key in ``root/config.toml`` after checking the whole new file.

    The file is edited in place (tomlkit), so its comments, order and spacing stay as they were.

    Args:
        root: the environment folder.
        key: a dotted key such as ``storage.backend``.
        value: the new value (TOML data).
        host: when given, plugin tables and backend names are checked too, and a key that
            neither the core nor an installed plugin knows is refused (``config_keys``).

    Returns:
        A one-line note when the file could not be edited in place and was written anew,
        its comments lost, the old one kept as ``config.toml.bak``; otherwise None.

    Raises:
        UsageError: the key is malformed, goes through a value or is unknown.
        ConfigError: the new file would not pass ``check_config``; nothing is written.
    """
    from .storage.files import atomic_write, ensure_dir

    path = root / CONFIG_NAME
    config = load_config(root)
    parts = _split(key)
    node = config
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"'{part}' in '{key}' is a value, not a table")
        node = child
    node[parts[-1]] = value
    try:
        check_config(config, host)
    except ConfigError as exc:
        if parts[0] == "prices" and len(parts) > 3:  # a model id split at its dots
            quoted = f'prices."{".".join(parts[1:-1])}".{parts[-1]}'
            raise ConfigError(f"{exc}; quote a model id that holds dots: {quoted}") from None
        raise
    if host is not None:  # e.g. a table of a responder that is not installed
        from .config_keys import check_key

        check_key(key, host)
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        old = b""
    new = _edited(old, parts, value, config)
    note = None
    if new is None:  # a layout tomlkit could not edit to the same data: write it anew
        import tomli_w

        new = tomli_w.dumps(config).encode("utf-8")
        if _loses_comments(old):
            atomic_write(root / BACKUP_NAME, old)
            note = f"{CONFIG_NAME} had comments, which are not kept; the old file is {BACKUP_NAME}"
    ensure_dir(root)
    atomic_write(path, new)
    return note


def _edited(old: bytes, parts: list[str], value: Any, expected: dict[str, Any]) -> bytes | None:
    """``old`` with the key ``parts`` set to ``value`` and everything else kept as written;
    None unless the result reads back exactly as ``expected``."""
    import tomllib

    import tomlkit

    try:
        doc = tomlkit.parse(old.decode("utf-8-sig"))
        node: Any = doc
        made = None  # the table this edit adds for the value, if any
        for depth, part in enumerate(parts[:-1]):
            if part not in node:
                holds_value = depth == len(parts) - 2
                # Tables on the way only name the path: no empty [prices] header of their own.
                node[part] = tomlkit.table(is_super_table=not holds_value)
                made = node[part] if holds_value else made
            node = node[part]
        node[parts[-1]] = value
        if made is not None:
            made.add(tomlkit.nl())  # a blank line before whatever table follows it
        new = (tomlkit.dumps(doc).rstrip("\n") + "\n").encode("utf-8")
        same = tomllib.loads(new.decode("utf-8")) == expected
    except Exception:  # any surprise of the editor: write the file anew
        return None
    return new if same else None


def _loses_comments(old: bytes) -> bool:
    """Whether rewriting ``old`` with tomli-w drops comments (it keeps every ``#`` in values)."""
    if b"#" not in old:
        return False
    import tomllib

    import tomli_w

    text = old.decode("utf-8-sig")
    return tomli_w.dumps(tomllib.loads(text)).count("#") < text.count("#")


def _split(key: str) -> list[str]:
    """The parts of a dotted key, read as TOML reads one: a part that holds dots is quoted
    (``prices."claude-3.5-sonnet".input``), and quotes are not part of the name."""
    import tomllib

    bad = UsageError(
        f"invalid config key '{visible(key, one_line=True)}': use dotted names like "
        'storage.backend, and quote a name that holds dots: prices."claude-3.5-sonnet".input'
    )
    if "\n" in key or "=" in key.replace('"', "").replace("'", ""):
        raise bad
    try:
        node: Any = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        raise bad from None
    parts: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        ((part, node),) = node.items()
        parts.append(part)
    if not parts or any(not p.strip() for p in parts):
        raise bad
    return parts


def section(config: dict[str, Any], *path: str) -> dict[str, Any]:
    node: Any = config
    for part in path:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


# ---------------------------------------------------------------- checking


def check_config(
    data: dict[str, Any], host: PluginHost | None = None, *, external: bool = True
) -> Config:
    """The typed ``Config`` for TOML data, checked key by key.

    Args:
        data: ``config.toml`` as TOML data (``load_config``).
        host: when given, ``storage.backend`` must name a backend it knows, ``[storage.<name>]``
            sub-tables must name one too, and plugin tables are checked against the
            ``config_schema`` their factory declares.
        external: whether the host may load entry-point plugins for that; with False only
            the built-ins answer unless a backend name needs more. With True, ``responder`` and
            ``ui.frontend`` must name an installed responder and frontend too.

    Raises:
        ConfigError: one line, ``config.toml: KEY: what is wrong``.
    """
    tables = _plugin_tables(data, host, external)
    if not isinstance(data, dict):
        raise _error("", f"expected a table, got {_describe(data)}")
    _check_keys(data, Config, "")
    prepared = dict(data)
    storage = data.get("storage", {})
    if isinstance(storage, dict):
        checked = _storage(storage, tables)  # the backend is checked even when not named
        if "storage" in data:
            prepared["storage"] = checked
    config = _convert(prepared, Config, "")
    for name, table in config.responders.items():
        schema = (tables or {}).get("responders", {}).get(name)
        if schema is not None:
            config.responders[name] = _convert(table, schema, f"responders.{name}")
    if host is not None and external:  # names of plugins that may not be loaded yet: look now
        _known("responder", config.responder, host.responders(), "responder")
        _known("ui.frontend", config.ui.frontend, host.frontends(), "frontend")
    return config


def _known(path: str, name: str, known: dict[str, Any], kind: str) -> None:
    if name not in known:
        raise _error(path, f"unknown {kind} '{name}'; known: {', '.join(sorted(known))}")


def storage_config(table: dict[str, Any]) -> StorageConfig:
    """The ``[storage]`` table as a ``StorageConfig`` (for tests and tools without a host)."""
    return check_config({"storage": table}).storage


def check_table(table: object, schema: type[Any], path: str) -> Any:
    """Convert one table (a plugin's, or the options of a responder) to its schema Struct.

    Raises:
        ConfigError: naming ``path`` and the key that is wrong.
    """
    return _convert(table, schema, path)


def _plugin_tables(
    data: object, host: PluginHost | None, external: bool
) -> dict[str, dict[str, Any]] | None:
    if host is None:
        return None
    tables = host.config_tables(external=external)
    storage = data.get("storage") if isinstance(data, dict) else None
    if not external and isinstance(storage, dict):
        names = {k for k, v in storage.items() if isinstance(v, dict)}
        names.add(str(storage.get("backend", "json")))
        if names - set(tables["storage"]):
            tables = host.config_tables(external=True)  # a plugin's backend: load plugins
    return tables


def _storage(table: dict[str, Any], tables: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """Move ``[storage.<backend>]`` sub-tables into ``sections``, each checked by its backend."""
    fields = set(_fields(StorageConfig)) if table else set()
    plain = {k: v for k, v in table.items() if k in fields or not isinstance(v, dict)}
    known = (tables or {}).get("storage")
    sections: dict[str, Any] = {}
    for name, value in table.items():
        if name in plain:
            continue
        if known is not None and name not in known:
            raise _error(f"storage.{name}", f"not a storage backend{_hint(name, known)}")
        schema = (known or {}).get(name)
        sections[name] = _convert(value, schema, f"storage.{name}") if schema else value
    backend = plain.get("backend", "json")
    if known is not None and isinstance(backend, str) and backend not in known:
        raise _error(
            "storage.backend",
            f"unknown storage backend '{backend}'; known: {', '.join(sorted(known))}",
        )
    return {**plain, "sections": sections}


def _check_keys(table: dict[str, Any], schema: type[Any], path: str) -> None:
    """Unknown keys name themselves, with the closest known key as a hint."""
    if not table:
        return  # nothing to check, nor to walk the schema for (no config.toml: every command)
    known = _fields(schema)
    for key, value in table.items():
        where = f"{path}.{key}" if path else key
        if key not in known:
            if schema is StorageConfig and isinstance(value, dict):
                continue  # a backend's own sub-table, checked in _storage
            raise _error(where, f"unknown key{_hint(key, known)}")
        inner = _unwrap(known[key].type)
        if isinstance(inner, msgspec.inspect.StructType) and isinstance(value, dict):
            _check_keys(value, inner.cls, where)
        elif isinstance(inner, msgspec.inspect.DictType) and isinstance(value, dict):
            item = _unwrap(inner.value_type)
            for name, sub in value.items():
                if isinstance(item, msgspec.inspect.StructType):
                    _convert(sub, item.cls, f"{where}.{name}")
                elif isinstance(item, msgspec.inspect.DictType) and not isinstance(sub, dict):
                    raise _error(f"{where}.{name}", f"expected a table, got {_describe(sub)}")


_FIELDS: dict[type[Any], dict[str, msgspec.inspect.Field]] = {}


def _fields(schema: type[Any]) -> dict[str, msgspec.inspect.Field]:
    """The keys of a table Struct by name (type_info walks the whole tree: once per type)."""
    if schema not in _FIELDS:
        info = msgspec.inspect.type_info(schema)
        assert isinstance(info, msgspec.inspect.StructType)
        _FIELDS[schema] = {f.encode_name: f for f in info.fields if f.name != "sections"}
    return _FIELDS[schema]


def _unwrap(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    return info.type if isinstance(info, msgspec.inspect.Metadata) else info


def _convert(table: object, schema: type[Any], path: str) -> Any:
    if not isinstance(table, dict):
        raise _error(path, f"expected a table, got {_describe(table)}")
    if hasattr(schema, "__struct_fields__"):
        _check_keys(table, schema, path)
    try:
        return msgspec.convert(table, schema)
    except msgspec.ValidationError as exc:
        raise _translate(exc, table, path) from None


_TYPES = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "object": "a table",
    "array": "a list",
    "null": "nothing",
}


def _translate(exc: msgspec.ValidationError, table: dict[str, Any], path: str) -> ConfigError:
    text, _, where = str(exc).rpartition(" - at `")
    if not text:
        text, where = str(exc), "$`"
    rel = where.rstrip("`").removeprefix("$").lstrip(".")
    if text.startswith("Object contains unknown field `"):
        key = text.split("`")[1]
        return _error(".".join(p for p in (path, rel, key) if p), "unknown key")
    for name, words in _TYPES.items():
        text = text.replace(f"`{name}`", words)
    text = text.replace(f"a number <= {FINITE!r}", "a finite number")
    text = text[:1].lower() + text[1:]
    value: Any = table
    for part in rel.split(".") if rel else ():
        value = value.get(part) if isinstance(value, dict) else None
    if value is not None and rel:
        if ", got " in text:
            text = f"{text.split(', got ')[0]}, got {_describe(value)}"
        else:
            text += f", not {_show(value)}"
    return _error(".".join(p for p in (path, rel) if p), text)


def _describe(value: object) -> str:
    if isinstance(value, bool | int | float):
        return _show(value)
    if isinstance(value, str):
        return f"text {_show(value)}"
    if isinstance(value, dict):
        return "a table"
    return "a list" if isinstance(value, list) else type(value).__name__


def _show(value: Any) -> str:
    import json  # error messages only: every command reads the config (DESIGN section 10)

    shown = json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _hint(key: str, known: Any) -> str:
    import difflib  # error messages only

    close = difflib.get_close_matches(key, list(known), n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; known: {', '.join(sorted(known)) or '(none)'}"


def _error(path: str, text: str) -> ConfigError:
    # Keys and values may hold line breaks or control characters (quoted TOML keys, values
    # given to `config set`): the error stays one printable line.
    said = f"{CONFIG_NAME}: {path}: {text}" if path else f"{CONFIG_NAME}: {text}"
    return ConfigError(visible(said, one_line=True))
