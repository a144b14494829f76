"""The on-disk shape of one session file, laid out so appends touch only the tail.

A file we write looks like::

    {"format_version":1,"id":...,"metadata":{},"history":[
    {message 1},
    {message 2}
    ],"updated_at":"2025-01-03T14:30:00.000Z"}

Each message sits on its own line (JSON strings never hold a raw newline), and ``updated_at`` is
the last key, so appending is one positioned write over the tail: ``,\\n{message}\\n],"updated_at":...``.
Readers never depend on key order; a file in any other valid layout is rewritten into this one on
its first append.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec

from ..errors import CorruptSession
from ..models import FORMAT_VERSION, Message, Session, validation_message

_encoder = msgspec.json.Encoder()
_session_decoder = msgspec.json.Decoder(Session)
_message_decoder = msgspec.json.Decoder(Message)
_raw_decoder = msgspec.json.Decoder()

TAIL_PREFIX = b'\n],"updated_at":"'
TAIL_SUFFIX = b'"}\n'
TAIL_PROBE = 96
_TAIL_RE = re.compile(rb'(\[|\})\n\],"updated_at":"([0-9TZ:.\-]{20,30})"\}\n\Z')
_HISTORY_OPEN = b'"history":['


def encode_message(message: Message) -> bytes:
    return _encoder.encode(message)


# Written after the head: the history, then updated_at as the file's last key (see above).
_TAIL_FIELDS = frozenset({"history", "updated_at"})
# Written even when they hold their default, so every file states them.
_ALWAYS = frozenset({"format_version", "metadata"})


@functools.cache
def _head_layout(model: type[Session]) -> tuple[tuple[str, str, bool, Any], ...]:
    """(attribute, JSON key, always written, default) per head field of ``model``, in order.

    Derived from the model, so a field added to ``Session`` is stored by both backends.
    ``format_version`` comes first, so a reader sees it before anything else.
    """
    layout = []
    for field in msgspec.structs.fields(model):
        if field.name in _TAIL_FIELDS:
            continue
        if field.default is not msgspec.NODEFAULT:
            default = field.default
        elif field.default_factory is not msgspec.NODEFAULT:
            default = field.default_factory()
        else:
            default = msgspec.NODEFAULT
        always = field.required or field.name in _ALWAYS
        layout.append((field.name, field.encode_name, always, default))
    layout.sort(key=lambda entry: entry[0] != "format_version")
    return tuple(layout)


def head_fields(session: Session) -> dict[str, Any]:
    """Every field of the session but its history and ``updated_at``, as the file's head holds
    them: fields still at their default are left out (``format_version`` and ``metadata`` never)."""
    head: dict[str, Any] = {}
    for name, key, always, default in _head_layout(type(session)):
        value = getattr(session, name)
        if always or value != default:
            head[key] = value
    return head


def tail(updated_at: str) -> bytes:
    return TAIL_PREFIX + updated_at.encode() + TAIL_SUFFIX


def encode_session(session: Session) -> bytes:
    parts = [_encoder.encode(head_fields(session))[:-1], b",", _HISTORY_OPEN]
    for i, message in enumerate(session.history):
        parts.append(b"\n" if i == 0 else b",\n")
        parts.append(_encoder.encode(message))
    parts.append(tail(session.updated_at))
    return b"".join(parts)


def append_bytes(message: Message, *, first: bool, updated_at: str) -> bytes:
    return (b"\n" if first else b",\n") + _encoder.encode(message) + tail(updated_at)


class Tail(msgspec.Struct):
    length: int
    empty: bool


def find_tail(end: bytes) -> Tail | None:
    """Recognise our tail in the last bytes of a file; None if the layout is not ours."""
    m = _TAIL_RE.search(end)
    if m is None:
        return None
    return Tail(length=len(end) - m.start(1) - 1, empty=m.group(1) == b"[")


def decode_session(data: bytes, session_id: str, *, allow_torn: bool = True) -> Session:
    """Decode a session file; any problem is a CorruptSession naming what is wrong.

    A SIGKILL can cut a multi-page append short (the kernel checks for fatal signals between
    pages), leaving whole messages followed by part of one. With ``allow_torn`` such a file reads
    as it was before that append, which never returned; the store rewrites it whole on its next
    write. Any other damage is still an error.
    """
    try:
        return _decode_strict(data, session_id)
    except CorruptSession as exc:
        if not allow_torn or not isinstance(exc.__cause__, msgspec.DecodeError):
            raise
        recovered = repair_torn_tail(data, session_id)
        if recovered is None:
            raise
        return recovered


def _decode_strict(data: bytes, session_id: str) -> Session:
    if not data:
        raise CorruptSession(session_id, "the file is empty")
    try:
        session = _session_decoder.decode(data)
    except msgspec.ValidationError as exc:
        version = _peek_version(data)
        if version is not None and version > FORMAT_VERSION:
            raise CorruptSession(
                session_id, f"format_version {version} is newer than this program understands"
            ) from exc
        raise CorruptSession(session_id, validation_message(exc)) from exc
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # msgspec reports bad UTF-8 inside a string as UnicodeDecodeError, not DecodeError.
        raise CorruptSession(session_id, f"not valid JSON ({exc})") from exc
    if session.id != session_id:
        raise CorruptSession(session_id, f"the file says its id is {session.id}")
    return session


def _peek_version(data: bytes) -> int | None:
    try:
        doc = _raw_decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    version = doc.get("format_version") if isinstance(doc, dict) else None
    return version if isinstance(version, int) else None


def decode_message(data: bytes) -> Message:
    return _message_decoder.decode(data)


def _is_message(line: bytes) -> bool:
    body = line[:-1] if line.endswith(b",") else line
    try:
        decode_message(body)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        return False
    return True


def _message_before_cut(line: bytes) -> bytes | None:
    """The last whole message when a cut append overwrote its line's newline with a comma."""
    import json

    try:
        _, end = json.JSONDecoder().raw_decode(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    body = line.decode("utf-8")[:end].encode("utf-8")
    if not line[len(body) :].startswith(b",") or not _is_message(body):
        return None
    return body


def repair_torn_tail(data: bytes, session_id: str) -> Session | None:
    """Recover a file whose last write was cut short (power loss): keep every whole message.

    Returns None when the damage is anywhere but the tail of a file in our layout.
    """
    first_nl = data.find(b"\n")
    if first_nl < 0 or not data[:first_nl].endswith(_HISTORY_OPEN):
        return None
    if find_tail(data[-TAIL_PROBE:]) is not None:
        # A torn append never leaves a whole tail behind it: this damage is elsewhere, and
        # cutting the file back would throw away good messages. Report it instead.
        return None
    head = data[:first_nl]
    lines = data[first_nl + 1 :].split(b"\n")
    kept: list[bytes] = []
    for line in lines:
        if not _is_message(line):
            whole = _message_before_cut(line)
            if whole is not None:
                kept.append(whole)
            break
        kept.append(line[:-1] if line.endswith(b",") else line)
    if any(_is_message(line) for line in lines[len(kept) + 1 :]):
        return None  # a whole message after the damage: not a torn tail
    try:
        shell = _raw_decoder.decode(head + b"]}")  # ends in "}": if it decodes, it is an object
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    updated = shell.get("created_at", "")
    if kept:
        updated = decode_message(kept[-1]).created_at
    rebuilt = head + (b"\n" + b",\n".join(kept) if kept else b"") + tail(str(updated))
    try:
        return _decode_strict(rebuilt, session_id)
    except CorruptSession:
        return None
