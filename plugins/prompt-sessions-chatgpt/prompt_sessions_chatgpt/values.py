"""Typed reads from untrusted JSON, each failure an ImportFormatError that says where and what."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from prompt_sessions.errors import ImportFormatError

_TYPE_NAMES = {dict: "an object", list: "a list", str: "text", float: "a number"}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def kind(value: Any) -> str:
    """How a JSON value is named in messages: 'a list', 'text', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def get(obj: dict[str, Any], key: str, expected: type, where: str, *, required: bool) -> Any:
    """``obj[key]`` if it has the expected JSON type; None if absent or null and not required."""
    value = obj.get(key)
    if value is None:
        if required:
            raise ImportFormatError(f"{where}: '{key}' is missing")
        return None
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ImportFormatError(f"{where}: '{key}' must be a number, not {kind(value)}")
    elif not isinstance(value, expected):
        raise ImportFormatError(
            f"{where}: '{key}' must be {_TYPE_NAMES[expected]}, not {kind(value)}"
        )
    return value


def timestamp(seconds: float, where: str, key: str) -> str:
    """Epoch seconds as the store's ISO-8601 UTC form; milliseconds only when there are some."""
    if not math.isfinite(seconds):
        raise ImportFormatError(f"{where}: '{key}' is not a finite number")
    millis = round(seconds * 1000)
    try:
        moment = datetime.fromtimestamp(millis // 1000, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ImportFormatError(f"{where}: '{key}' ({seconds}) is not a usable time") from exc
    # Formatted by hand: strftime does not pad years below 1000 on every platform.
    stamp = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    fraction = millis % 1000
    return stamp + (f".{fraction:03d}Z" if fraction else "Z")


def clean_text(text: str) -> str:
    """Lone surrogates (legal in JSON escapes, not in UTF-8) would fail the write: replace them."""
    return _LONE_SURROGATE.sub("\ufffd", text)
