"""What the importers share: JSON Lines read line by line, times, names, source ids.

Everything here reads untrusted input: a value of the wrong type is treated as absent, a line
that cannot be read is a :class:`Skipped` naming it, and nothing raises but
``ImportFormatError``.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, AnyStr

import msgspec

from .. import limits
from ..errors import ImportFormatError
from ..importing import Skipped
from ..models import NAME_MAX, Message
from ..timeutil import TIMESTAMP_PATTERN, now_iso

TITLE_CHARS = 50  # an auto-name's length (DESIGN section 14)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_OURS = re.compile(TIMESTAMP_PATTERN.removesuffix("$") + r"\Z")
_decoder = msgspec.json.Decoder()
# A JSON escape of a UTF-16 surrogate: a high one with its low one is one character and kept; a
# lone one is legal JSON but no character, and msgspec refuses the whole document over it. An
# escaped backslash is matched too, so that the text "\\ud800" is passed over.
_SURROGATE_ESCAPE = (
    r"\\(?:\\"  # an escaped backslash
    r"|u[dD][89abAB][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?"  # high, then low or not
    r"|u[dD][c-fC-F][0-9a-fA-F]{2})"  # a low one on its own
)
_ESCAPES = re.compile(_SURROGATE_ESCAPE.encode())
_ESCAPES_TEXT = re.compile(_SURROGATE_ESCAPE)


def source(source_id: object, **more: Any) -> dict[str, Any]:
    """The ``metadata["import"]`` an importer gives a session: its id at the source (the core
    adds the format and the digest) and, for a delegation, its parent's ``parent_source_id``."""
    stamp: dict[str, Any] = {"source_id": str(source_id)}
    stamp.update({k: str(v) for k, v in more.items() if v is not None})
    return stamp


def content_id(*parts: object) -> str:
    """A source id for a conversation its tool gave none (no id in the file, no file name):
    a fingerprint of what stays the same as the conversation grows (its start, its first
    message; not a title, which a tool may give later), so that importing it again finds the
    earlier copy (DESIGN section 16) where a random id would make a new one each time."""
    raw = msgspec.json.encode([str(p) if p is not None else None for p in parts])
    return "content-" + hashlib.sha256(raw).hexdigest()[:32]


def json_lines(data: bytes, decoder: Any = None, fallback: Any = None) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line of JSON Lines, decoded by ``decoder``
    (a ``msgspec.json.Decoder``; plain JSON values by default). A line that is not JSON, not
    UTF-8, not of the decoder's shape or nested deeper than ``limits.MAX_NESTING`` gives a
    :class:`Skipped` as its value instead, so one odd line never sinks the rest.

    ``fallback`` (a more lenient decoder) reads a line ``decoder`` refuses for its shape; its
    value is yielded as it is, for the importer to tell apart. A file whose lines all pass, one
    value a line, is decoded in one call (:func:`all_lines`), several times quicker than line by
    line.
    """
    decoder = decoder or _decoder
    data = mended_json(data)  # a lone surrogate escape reads as U+FFFD, not a skipped line
    limit = limits.MAX_NESTING  # read per call, so a deployment (or a test) can lower it
    # Each line's opening brackets, counted in one pass over the file: only a line with more
    # than the limit can be nested too deep, and only those get the exact check.
    openers = _openers(data)
    if max(map(len, openers)) <= limit:
        values = all_lines(data, decoder)
        if values is not None and _one_object_a_line(data.rstrip(), len(values)):
            return enumerate(values, start=1)
    return _line_by_line(data, openers, decoder, fallback, limit)


def _one_object_a_line(body: bytes, count: int) -> bool:
    """Whether ``count`` values read from ``body`` are one object on each line, with no blank
    line between, so that their numbers are the lines': every line starts with ``{`` and ends
    with ``}`` (then no value runs over two lines, since ``}`` then ``{`` is never valid inside
    one), and there are as many values as lines."""
    if not body:
        return count == 0
    seams = body.count(b"\n")
    return (
        count == seams + 1
        and body[:1] == b"{"
        and body[-1:] == b"}"
        and body.count(b"\n{") == seams
        and body.count(b"}\n") == seams
    )


def all_lines(data: bytes, decoder: Any) -> list[Any] | None:
    """Every value of JSON Lines decoded in one call, or None when any line does not pass
    ``decoder``. Nesting is not checked here: a caller that takes this path checks what it
    keeps against ``limits.MAX_NESTING`` (see :func:`deeper_than`), which spares a pass over
    the bytes. Values are told apart by the JSON itself, so a value broken over two lines
    reads as one."""
    try:
        return decoder.decode_lines(data)
    except (msgspec.DecodeError, RecursionError):  # a ValidationError is a DecodeError
        return None


def _openers(data: bytes) -> list[bytes]:
    return data.translate(None, _NOT_OPENERS).split(b"\n")


def _line_by_line(
    data: bytes, openers: list[bytes], decoder: Any, fallback: Any, limit: int
) -> Iterator[tuple[int, Any]]:
    lines = data.split(b"\n")
    for number, (line, opened) in enumerate(zip(lines, openers, strict=True), start=1):
        if not line or line.isspace():
            continue
        try:
            if len(opened) > limit:
                limits.check_nesting(line, limit)
            try:
                yield number, decoder.decode(line)
            except msgspec.ValidationError:
                if fallback is None:
                    raise
                yield number, fallback.decode(line)
        except ImportFormatError as exc:
            yield number, Skipped(f"line {number}", str(exc))
        except msgspec.ValidationError as exc:
            yield number, Skipped(f"line {number}", f"unexpected shape ({_first_line(exc)})")
        except (msgspec.DecodeError, RecursionError) as exc:
            yield number, Skipped(f"line {number}", f"not valid JSON ({_first_line(exc)})")


_NOT_OPENERS = bytes(c for c in range(256) if c not in b"[{\n")


def deeper_than(value: Any, levels: int) -> bool:
    """Whether ``value`` (decoded JSON) nests lists and objects more than ``levels`` deep:
    ``{}`` is 1 deep, ``[[]]`` 2, a plain value 0. The walk stops at ``levels``."""
    if not isinstance(value, dict | list):
        return False
    if levels < 1:
        return True
    for item in value.values() if isinstance(value, dict) else value:
        if isinstance(item, dict | list) and deeper_than(item, levels - 1):
            return True
    return False


def mended_json(data: AnyStr) -> AnyStr:
    """JSON text (bytes or str) with each lone surrogate escape (``\\ud800`` not paired with a
    low surrogate, or a low one alone) replaced by ``\\ufffd``, so that it decodes: the text
    around it is kept, as :func:`text` keeps text holding one (DESIGN section 16: one odd
    character never sinks a conversation). Valid pairs and everything else are left as they
    are, byte for byte; the length does not change. Every importer reading JSON decodes
    through this (:func:`load_json`, :func:`json_lines`, :func:`decode_json`)."""
    if isinstance(data, bytes):
        if b"\\ud" not in data and b"\\uD" not in data:  # the usual case, and a quick one
            return data
        return _ESCAPES.sub(_mend_bytes, data)
    if "\\ud" not in data and "\\uD" not in data:
        return data
    return _ESCAPES_TEXT.sub(_mend_text, data)


def _mend_bytes(match: re.Match[bytes]) -> bytes:
    found = match.group()
    # Kept: an escaped backslash (2 bytes) or a pair (12); a lone one is replaced.
    return found if len(found) in (2, 12) else b"\\ufffd"


def _mend_text(match: re.Match[str]) -> str:
    found = match.group()
    return found if len(found) in (2, 12) else "\\ufffd"


def load_json(data: bytes) -> Any:
    """One JSON document; ImportFormatError when it is not JSON (bad UTF-8 included). A lone
    surrogate escape reads as U+FFFD (:func:`mended_json`)."""
    try:
        return _decoder.decode(mended_json(data))
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ImportFormatError(f"not valid JSON ({_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def text(value: object) -> str:
    """Text fit to store: lone surrogates (legal in JSON escapes, not in UTF-8) replaced."""
    if not isinstance(value, str):
        return ""
    if value.isascii():  # the usual case, and a quick one
        return value
    return _LONE_SURROGATE.sub("\ufffd", value)


is_stored_time = _OURS.match  # whether a text is a time already as the store writes it


def when(value: object) -> str | None:
    """A time as the store writes it (ISO-8601 UTC ending in Z), from an ISO-8601 text with any
    offset, or epoch seconds (milliseconds when the number is that large); None if unusable."""
    if isinstance(value, str):
        if _OURS.match(value):
            return value
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return _iso(moment.astimezone(UTC))
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds
        try:
            return _iso(datetime.fromtimestamp(seconds, UTC))
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _iso(moment: datetime) -> str:
    # Formatted by hand: strftime does not pad years below 1000 on every platform.
    millis = moment.microsecond // 1000
    stamp = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    return stamp + (f".{millis:03d}Z" if millis else "Z")


def fill_times(
    messages: list[Message], start: str | None, stamp: dict[str, Any] | None = None
) -> str:
    """Give each message without a time the one before it (``start`` for the first); returns
    the session's start: ``start``, else the earliest message time, else now.

    :param stamp: the session's ``metadata["import"]`` (see :func:`source`). When the source
        gives no time at all, the messages take now, which the next import of the same file
        would not give again: the stamp is then marked ``timed: False``, so that a re-import
        matches messages by role and text (DESIGN section 16).
    """
    known = [m.created_at for m in messages if m.created_at]
    if stamp is not None and not known and not start:
        stamp["timed"] = False
    begin = start or (min(known) if known else now_iso())
    previous = begin
    for message in messages:
        if message.created_at:
            previous = message.created_at
        else:
            message.created_at = previous
    return begin


def name_of(*candidates: object, fallback: str) -> str:
    """The first usable candidate as a session name: one line, control characters dropped,
    cut at a word to 50 characters (an auto-name, DESIGN section 14); else ``fallback``."""
    for candidate in candidates:
        flat = " ".join(_CONTROLS.sub(" ", text(candidate)).split())
        if not flat:
            continue
        if len(flat) > TITLE_CHARS:
            cut = flat[: TITLE_CHARS + 1].rsplit(" ", 1)[0]
            flat = (cut if len(cut) > TITLE_CHARS // 2 else flat[:TITLE_CHARS]).rstrip()
        return flat[:NAME_MAX]
    return fallback


def tool_home(env_var: str, default: str, base: Path | None) -> Path:
    """A tool's folder: ``base`` when given, else ``$env_var``, else ``~/default``."""
    if base is not None:
        return base
    named = os.environ.get(env_var)
    return Path(named).expanduser() if named else Path.home() / default


def nothing_found(format: str, folder: Path, env_var: str | None) -> str:
    """The one line ``import --from FORMAT`` gives when ``folder`` (where the tool keeps its
    files, moved by ``$env_var``) holds none of them (DESIGN section 16)."""
    state = "" if folder.is_dir() else " (no such folder)"
    hint = f"set {env_var} to read another folder, or " if env_var else ""
    return f"no {format} files found in {folder}{state}; {hint}name the files or folders to read"


def files_under(folder: Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` (a glob, ``**`` allowed) under ``folder``, by path; a missing
    folder is none. A symbolic link that matches but leads to no file (a loop, a link to
    nothing) is kept, so that the import names it with the reason instead of passing over it
    (DESIGN section 16: what cannot be read is named)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file() or _leads_nowhere(p))


def _leads_nowhere(path: Path) -> bool:
    """Whether ``path`` is a symbolic link that resolves to nothing (a loop, a missing target)."""
    try:
        return path.is_symlink() and not path.exists()
    except OSError:  # a loop, on Pythons whose exists() raises for one
        return True


def dict_of(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def list_of(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def str_of(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def int_of(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def decode_json(value: object) -> Any:
    """A JSON column's value, None when it is empty or not JSON."""
    if not isinstance(value, str | bytes) or not value:
        return None
    try:
        return _decoder.decode(mended_json(value.encode() if isinstance(value, str) else value))
    except (msgspec.DecodeError, RecursionError, UnicodeEncodeError):
        return None
