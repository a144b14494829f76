"""The on-disk shape of one session file, laid out so appends touch only the tail.

A file we write looks like::

    {"format_version":1,"id":...,"metadata":{},"history":[
    {message 1},
    {message 2}
    ],"updated_at":"2025-01-03T14:30:00.000Z"}

Each message sits on its own line (JSON strings never hold a raw newline), and ``updated_at`` is
the last key, so appending is one positioned write over the tail:
``,\\n{message}\\n],"updated_at":...``.
Readers never depend on key order; a file in any other valid layout is rewritten into this one on
its first append.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from ..errors import CorruptSession, NewerSession, ReadOnlyStore, StorageError
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


FIXED_FIELDS = ("id", "history", "format_version", "created_at")


def check_update(fields: Iterable[str]) -> None:
    """Refuse an ``update`` that names a field a session keeps for life (``FIXED_FIELDS``) or
    one sessions do not have, before anything is written (DESIGN section 5: ``update``
    changes a session's own fields). Raises :class:`StorageError` naming the field."""
    for key in fields:
        if key in FIXED_FIELDS:
            raise StorageError(f"field {key!r} cannot be changed")
        if key not in Session.__struct_fields__:
            raise StorageError(f"sessions have no field {key!r}")


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


class Unknown(msgspec.Struct):
    """Fields of a stored session this version does not know: top-level ones, and per message
    (by index). A rewrite puts them back, so an update never drops what another version (or a
    person) added."""

    head: dict[str, Any]
    messages: list[dict[str, Any]]


_SESSION_FIELDS = frozenset(Session.__struct_fields__)
_MESSAGE_FIELDS = frozenset(Message.__struct_fields__)


def unknown_fields(data: bytes) -> Unknown | None:
    """The unknown fields of a session file (or of a stored head: an object without history);
    None when there are none or the bytes are not a JSON object."""
    try:
        doc = _raw_decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    if not isinstance(doc, dict):
        return None
    head = {k: v for k, v in doc.items() if k not in _SESSION_FIELDS}
    history = doc.get("history")
    messages = [
        {k: v for k, v in m.items() if k not in _MESSAGE_FIELDS} if isinstance(m, dict) else {}
        for m in (history if isinstance(history, list) else ())
    ]
    if not head and not any(messages):
        return None
    return Unknown(head=head, messages=messages)


def encode_head(session: Session, unknown: Unknown | None = None) -> bytes:
    """The session's own fields as one JSON object, ``format_version`` first, then any unknown
    top-level fields kept from the stored copy."""
    fields = head_fields(session)
    if unknown is not None:
        fields.update(unknown.head)
    return _encoder.encode(fields)


def _with_unknown(encoded: bytes, extra: dict[str, Any] | None) -> bytes:
    if not extra:
        return encoded
    return encoded[:-1] + b"," + _encoder.encode(extra)[1:]


def encode_session(session: Session, unknown: Unknown | None = None) -> bytes:
    """The session file's bytes (DESIGN section 3): the head, one message per line, the tail.

    ``unknown`` carries fields this version does not know, kept as they were read.
    """
    return b"".join(session_chunks(session, unknown))


def session_chunks(session: Session, unknown: Unknown | None = None) -> Iterator[bytes]:
    """:func:`encode_session`'s bytes in pieces, so a long session can be written out without
    holding its whole encoding (``show --json``)."""
    yield encode_head(session, unknown)[:-1]
    yield b","
    yield _HISTORY_OPEN
    extras = unknown.messages if unknown is not None else []
    for i, message in enumerate(session.history):
        yield b"\n" if i == 0 else b",\n"
        yield _with_unknown(_encoder.encode(message), extras[i] if i < len(extras) else None)
    yield tail(session.updated_at)


_HEAD_VERSION_RE = re.compile(rb'\{"format_version":([0-9]{1,9}),')
HEAD_PROBE = 32


def head_version(prefix: bytes) -> int | None:
    """The ``format_version`` at the start of a file in our layout (its first bytes); None when
    the file does not start the way this program writes it (then decode it to know)."""
    m = _HEAD_VERSION_RE.match(prefix)
    return int(m.group(1)) if m else None


def refuse_newer(what: object, version: int) -> ReadOnlyStore:
    """The one-line refusal to change data a newer version wrote (DESIGN section 4, "Versioned")."""
    return ReadOnlyStore(
        f"{what} has format_version {version}, newer than this program ({FORMAT_VERSION}); "
        "it is read-only here. Upgrade prompt-sessions to change it."
    )


def check_writable(what: object, session: Session) -> None:
    """Raise :func:`refuse_newer`'s error when ``session`` (read from ``what``) was written by
    a newer version; a rewrite would drop what this one does not know."""
    if session.format_version > FORMAT_VERSION:
        raise refuse_newer(what, session.format_version)


def updated_bytes(
    what: object, session: Session, data: bytes | None, fields: dict[str, Any]
) -> bytes:
    """The file bytes of ``session`` (decoded from ``data``, read from ``what``) with ``fields``
    set on it, the fields this version does not know kept as they were read (``update``,
    DESIGN section 5). ``session`` is changed in place. Raises :class:`ReadOnlyStore` when a
    newer version wrote it."""
    check_writable(what, session)
    for key, value in fields.items():
        setattr(session, key, value)
    return encode_session(session, unknown_fields(data) if data else None)


def append_bytes(body: bytes, *, first: bool, updated_at: str) -> bytes:
    """What an append writes over the file's tail: the encoded message ``body`` after a
    separator, then the tail with the new ``updated_at``."""
    return (b"\n" if first else b",\n") + body + tail(updated_at)


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
    write. Any other damage is still an error, whatever its shape: a file nested too deeply for
    the decoder or too large for memory is damage of that one session (DESIGN section 4,
    "Damage stays local"), never an error of the command reading it.
    """
    try:
        return _decode_guarded(data, session_id, allow_torn)
    except RecursionError as exc:
        raise CorruptSession(session_id, "it is nested too deeply to read") from exc
    except MemoryError as exc:
        raise CorruptSession(session_id, "it is too large to read into memory") from exc


def _decode_guarded(data: bytes, session_id: str, allow_torn: bool) -> Session:
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
            raise NewerSession(session_id, version) from exc
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
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    version = doc.get("format_version") if isinstance(doc, dict) else None
    return version if isinstance(version, int) else None


def stored_version(data: bytes) -> int | None:
    """The ``format_version`` a session file claims, even when it cannot be decoded."""
    version = head_version(data[:HEAD_PROBE])
    return version if version is not None else _peek_version(data)


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


def _tail_follows(lines: list[bytes], i: int) -> bool:
    return i + 1 < len(lines) and lines[i + 1].startswith(b"]")


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
    for i, line in enumerate(lines):
        if not _is_message(line):
            whole = _message_before_cut(line)
            if whole is not None:
                kept.append(whole)
            break
        if not line.endswith(b",") and not _tail_follows(lines, i):
            # The last message of a file is followed by the tail's "]". A line that decodes
            # without it may be made of a cut append's first bytes and the old tail's last
            # ones ('{"role":"user","content":"x' + '0.000Z"}'): a message nobody wrote.
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


def decode_rows(sid: str, head: object, updated_at: object, bodies: list[Any]) -> Session:
    """A session stored as rows (a database backend): its own fields as one JSON object
    (``head``, without history and updated_at), ``updated_at``, and one JSON body per message.

    The rows are assembled into the session file's bytes and decoded with the same strict
    decoder, so damage is reported as for a file. Raises CorruptSession.
    """
    if not isinstance(head, bytes) or not head.startswith(b"{") or not head.endswith(b"}"):
        raise CorruptSession(sid, "its stored fields are not a JSON object")
    if isinstance(updated_at, bytes):
        try:
            updated_at = updated_at.decode("utf-8")
        except UnicodeDecodeError:
            raise CorruptSession(sid, "its updated_at is not UTF-8 text") from None
    if not isinstance(updated_at, str) or any(not isinstance(b, bytes) for b in bodies):
        raise CorruptSession(sid, "a stored value has the wrong type")
    data = b"".join(
        [
            head[:-1],
            b',"updated_at":',
            _encoder.encode(updated_at),
            b',"history":[',
            b",".join(bodies),
            b"]}",
        ]
    )
    return decode_session(data, sid)
