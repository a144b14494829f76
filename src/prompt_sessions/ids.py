"""Session ids are lowercase UUID4 strings, validated before they touch a path."""

from __future__ import annotations

import re
import uuid

from .errors import InvalidSessionId

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# All session file names in a newline-joined directory listing, found in one pass.
SESSION_NAMES_RE = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$", re.MULTILINE
)
SESSION_FILE_RE = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$"
)


def new_id() -> str:
    return str(uuid.uuid4())


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and _UUID_RE.fullmatch(value) is not None


def validate_id(value: object) -> str:
    if not is_valid_id(value):
        raise InvalidSessionId(value)
    return value  # type: ignore[return-value]
