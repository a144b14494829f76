"""docs/configuration.md documents every key of the config schema with its type, default and
description, taken from the Structs themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from prompt_sessions import config_schema as cs

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"

TABLES: list[tuple[str, type[Any]]] = [
    ("(top level)", cs.Config),
    ("[storage]", cs.StorageConfig),
    ("[runtime]", cs.RuntimeConfig),
    ("[ui]", cs.UiConfig),
    ("[responders.echo]", cs.EchoOptions),
    ("[prices.<model>]", cs.PriceConfig),
]

KINDS = {
    msgspec.inspect.IntType: "integer",
    msgspec.inspect.FloatType: "number",
    msgspec.inspect.StrType: "text",
    msgspec.inspect.BoolType: "true/false",
}


def rows(schema: type[Any]) -> list[str]:
    """One Markdown table row per key: name, type, default, description."""
    info = msgspec.inspect.type_info(schema)
    assert isinstance(info, msgspec.inspect.StructType)
    out = []
    for field in info.fields:
        if not isinstance(field.type, msgspec.inspect.Metadata):
            continue  # filled by the loader, not a key (StorageConfig.sections)
        kind = field.type.type
        description = (field.type.extra_json_schema or {})["description"]
        if type(kind) in KINDS:
            default = field.default
            shown = json.dumps(default)
            out.append(
                f"| `{field.encode_name}` | {KINDS[type(kind)]} | `{shown}` | {description} |"
            )
        else:
            out.append(f"| `{field.encode_name}` | table | | {description} |")
    return out


def test_every_key_is_documented_with_its_type_default_and_description() -> None:
    """Each row generated from the schema appears in docs/configuration.md, under its table."""
    text = DOC.read_text()
    missing = []
    for heading, schema in TABLES:
        assert f"### {heading}" in text, heading
        section = text.split(f"### {heading}", 1)[1].split("\n### ", 1)[0]
        missing += [row for row in rows(schema) if row not in section]
    assert not missing, "docs/configuration.md lacks these rows:\n" + "\n".join(missing)


def test_every_table_is_listed() -> None:
    """The list of tables above covers every Struct the schema module declares."""
    declared = {
        value
        for value in vars(cs).values()
        if isinstance(value, type) and issubclass(value, cs.Table) and value is not cs.Table
    }
    assert declared == {schema for _, schema in TABLES}
