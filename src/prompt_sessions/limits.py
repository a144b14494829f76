"""Guards applied to untrusted input before it is parsed."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import ImportFormatError, UsageError

MAX_IMPORT_BYTES = 64 * 1024 * 1024
MAX_NESTING = 64
# Search hits returned when no limit is given (DESIGN section 12); here rather than in
# ``search`` so that the manager's signature does not load the search modules.
SEARCH_RESULTS = 200
# The most hits a search returns whatever limit is asked: more than any store holds, and within
# the integers SQLite can bind (a LIMIT past 2**63 - 1 cannot be passed to the index).
MAX_SEARCH_RESULTS = 2**31 - 1

# One JSON string, or an unterminated one running to the end of the input. The unrolled form
# and the \Z alternative keep the scan linear: a pattern that must find a closing quote retries
# from every quote of an unterminated string, which takes minutes on a few hundred kilobytes
# of ``"\\"\\"...``. The possessive loop and the optional lone backslash before \Z matter too:
# input ending in one backslash (``"\\`` repeated) otherwise backtracked through the whole
# string from every quote, quadratic again. An unterminated string is invalid JSON anyway; the
# parser reports it.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def search_limit(limit: object) -> int:
    """``limit`` checked as a search's most hits (DESIGN section 12, ``--limit N``): a whole
    number of at least 1, one past :data:`MAX_SEARCH_RESULTS` read as that (no store holds
    more hits, and the index cannot bind a larger number).

    :raises UsageError: it is not an int (a bool is not), or below 1.
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise UsageError(f"limit must be a positive whole number, not {limit!r}")
    return min(limit, MAX_SEARCH_RESULTS)


def read_input(path: Path) -> bytes:
    """The bytes of the file at ``path`` for an import, held to ``MAX_IMPORT_BYTES``.

    At most one byte past the limit is read, so a pipe, a device such as ``/dev/zero`` or a
    file still growing (none has a size to check beforehand) cannot fill memory.

    :raises ImportFormatError: it holds more than the limit (DESIGN section 16).
    :raises OSError: it cannot be opened or read.
    """
    limit = MAX_IMPORT_BYTES
    size = path.stat().st_size
    if size > limit:
        raise ImportFormatError(f"{size:,} bytes; the limit is {limit:,} bytes")
    with path.open("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ImportFormatError(f"more than {limit:,} bytes; the limit is {limit:,} bytes")
    return data


def check_size(data: bytes, limit: int | None = None) -> None:
    # The limits are read when called, so a deployment (or a test) can lower them.
    limit = MAX_IMPORT_BYTES if limit is None else limit
    if len(data) > limit:
        raise ImportFormatError(f"input is {len(data):,} bytes; the limit is {limit:,} bytes")


def check_nesting(data: bytes, limit: int | None = None) -> None:
    """Refuse JSON nested deeper than ``limit`` without parsing it (strings are skipped)."""
    limit = MAX_NESTING if limit is None else limit
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return
    depth = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                raise ImportFormatError(f"input is nested deeper than {limit} levels")
        else:
            depth -= 1
