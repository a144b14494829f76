"""Session ids are lowercase UUID4 strings, validated before they touch a path."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection

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


_ID_LINES_RE = re.compile(r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n)*")


def all_valid_ids(values: Collection[str]) -> bool:
    """Whether every one of ``values`` is a session id, checked in one pass of the regex
    engine (a catalog of 20,000 sessions holds 40,000 ids; one call each costs more)."""
    if not all(type(v) is str for v in values):
        return False
    joined = "\n".join(values) + "\n" if values else ""
    # A value holding a newline of its own would pass as two ids: the count catches it.
    return joined.count("\n") == len(values) and _ID_LINES_RE.fullmatch(joined) is not None


def validate_id(value: object) -> str:
    if not is_valid_id(value):
        raise InvalidSessionId(value)
    return value  # type: ignore[return-value]
