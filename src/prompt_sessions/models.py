"""Session, Message and SessionSummary: the shapes of DESIGN section 3, as msgspec Structs.

Decoding from disk or an import validates strictly (types, roles, timestamps, names); building
objects in code does not, so the manager validates what callers hand it before it is written.
"""

# No `from __future__ import annotations`: msgspec would compile and evaluate each field's
# annotation string the first time a command decodes or encodes these types.

from typing import Annotated, Any, Literal

import msgspec

from .errors import InvalidName
from .text import visible
from .timeutil import TIMESTAMP_PATTERN, now_iso

FORMAT_VERSION = 1
NAME_MAX = 80
DEFAULT_SESSION_NAME = "New Session"


def _whole(pattern: str) -> str:
    """Anchor a pattern at the very end: in Python's ``re`` a bare ``$`` also matches before a
    trailing newline, which would let "name\\n" or "...Z\\n" through."""
    return pattern.removesuffix("$") + r"\Z"


_TIMESTAMP_RE = _whole(TIMESTAMP_PATTERN)
_ID_RE = _whole(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# 1 to 80 characters, no control characters, not blank. The one required character excludes
# control characters explicitly: ``\S`` alone would accept them.
_NAME_RE = _whole(r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$")
_PO_NAME_RE = _whole(r"^[^\x00-\x1f\x7f/\\]+$")

Timestamp = Annotated[str, msgspec.Meta(pattern=_TIMESTAMP_RE)]
SessionId = Annotated[str, msgspec.Meta(pattern=_ID_RE)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_MAX, pattern=_NAME_RE)]
PoName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_PO_NAME_RE)]
Role = Literal["user", "assistant", "system", "tool"]
ThreadType = Literal["root", "fork", "delegation", "continuation"]


# Messages, usage and summaries are plain data decoded from JSON, so they cannot form reference
# cycles; keeping them out of the garbage collector makes loading 10,000 of them far cheaper.
class Usage(msgspec.Struct, omit_defaults=True, kw_only=True, gc=False):
    """Tokens one reply cost, as the provider reported them (DESIGN section 11); counts of
    tokens, 0 when unknown."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0  # input tokens served from the provider's cache, where reported


class Message(msgspec.Struct, omit_defaults=True, kw_only=True, gc=False):
    """One message of a session's history, exactly as stored (DESIGN section 3).

    ``role`` is ``user``, ``assistant``, ``system`` or ``tool``; ``created_at`` an ISO-8601 UTC
    timestamp; ``tool_calls`` / ``tool_results`` the shapes of DESIGN section 11; ``model``,
    ``usage`` and ``latency_ms`` (milliseconds) describe a reply; ``incomplete`` marks a reply
    cut short; ``source`` says which frontend wrote it; ``metadata`` is free for plugins.
    """

    role: Role
    content: str
    created_at: Timestamp = msgspec.field(default_factory=now_iso)
    from_po: str | None = None
    tool_calls: list[Any] | None = None
    tool_results: list[Any] | None = None
    usage: Usage | None = None
    model: str | None = None
    latency_ms: float | None = None
    source: str | None = None
    incomplete: bool | None = None
    metadata: dict[str, Any] | None = None


class Session(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A whole session: its own fields and its history (DESIGN section 3, the session file).

    ``id`` is a lowercase UUID4; ``thread_type``, ``parent_id`` and ``parent_message_index``
    record forks and delegations; ``format_version`` is the file format it was written in.
    Unknown fields in a stored file are kept by the backends when they rewrite it.
    """

    id: SessionId
    name: Name
    po_name: PoName
    created_at: Timestamp
    updated_at: Timestamp
    format_version: int = FORMAT_VERSION
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    history: list[Message] = msgspec.field(default_factory=list)
    source: str | None = None
    thread_type: ThreadType | None = None
    parent_id: SessionId | None = None
    parent_message_index: int | None = None
    archived: bool = False
    pinned: bool = False
    tags: list[str] | None = None
    # The name was chosen by the program, not a person (DESIGN section 14, "Auto-names"): the
    # first user message or the session_title hook may replace it; a person's rename clears it.
    # Absent in files written before it, whose names are kept as they are.
    auto_named: bool = False

    @property
    def message_count(self) -> int:
        """How many messages the history holds."""
        return len(self.history)

    def summary(self) -> "SessionSummary":
        """This session's catalog entry (:func:`summarize`)."""
        return summarize(self)


class SessionSummary(msgspec.Struct, omit_defaults=True, kw_only=True, gc=False):
    """What lists show of a session without reading its history: one catalog entry (DESIGN
    section 3, ``index.json``). ``preview`` is the last words of the last message;
    ``input_tokens`` / ``output_tokens`` total the replies' usage."""

    id: str
    name: str
    po_name: str
    message_count: int
    created_at: str
    updated_at: str
    preview: str = ""
    source: str | None = None
    thread_type: str | None = None
    parent_id: str | None = None
    archived: bool = False
    pinned: bool = False
    tags: list[str] | None = None
    auto_named: bool = False
    input_tokens: int = 0
    output_tokens: int = 0


PREVIEW_CHARS = 80


def make_preview(content: str) -> str:
    """The last words of a message, on one line."""
    tail = content[-(PREVIEW_CHARS * 4) :]
    # str.split() splits on exactly the characters re's \s matches, ten times faster: this
    # runs on every append (DESIGN section 10).
    flat = " ".join(tail.split())
    if len(flat) <= PREVIEW_CHARS:
        return flat
    return "…" + flat[-(PREVIEW_CHARS - 1) :].lstrip()


def summarize(session: Session) -> SessionSummary:
    """The catalog entry of ``session``, computed from its fields and whole history."""
    history = session.history
    input_tokens = output_tokens = 0
    for m in history:
        if m.usage is not None:
            input_tokens += m.usage.input_tokens
            output_tokens += m.usage.output_tokens
    return SessionSummary(
        id=session.id,
        message_count=len(history),
        created_at=session.created_at,
        preview=make_preview(history[-1].content) if history else "",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        **_head_of(session),
    )


# The summary fields that copy the session's own fields, so a change of them is one replace.
SUMMARY_HEAD = (
    "name",
    "po_name",
    "updated_at",
    "source",
    "thread_type",
    "parent_id",
    "archived",
    "pinned",
    "tags",
    "auto_named",
)


def _head_of(session: Session) -> dict[str, Any]:
    return {name: getattr(session, name) for name in SUMMARY_HEAD}


def summary_after_append(summary: SessionSummary, message: Message) -> SessionSummary:
    """A session's summary once ``message`` is added at the end, without re-reading its history."""
    usage = message.usage
    return msgspec.structs.replace(
        summary,
        message_count=summary.message_count + 1,
        updated_at=message.created_at,
        preview=make_preview(message.content),
        input_tokens=summary.input_tokens + (usage.input_tokens if usage else 0),
        output_tokens=summary.output_tokens + (usage.output_tokens if usage else 0),
    )


def summary_after_replace(summary: SessionSummary, old: Message, new: Message) -> SessionSummary:
    """A session's summary once its last message ``old`` is replaced by ``new``, without
    re-reading its history (``SupportsReplaceLast``)."""
    before, after = old.usage, new.usage
    return msgspec.structs.replace(
        summary,
        updated_at=new.created_at,
        preview=make_preview(new.content),
        input_tokens=summary.input_tokens
        - (before.input_tokens if before else 0)
        + (after.input_tokens if after else 0),
        output_tokens=summary.output_tokens
        - (before.output_tokens if before else 0)
        + (after.output_tokens if after else 0),
    )


def _is_control(c: str) -> bool:
    # C0 (with DEL) and C1 controls: U+009B alone starts a terminal command, as ESC [ does.
    return ord(c) < 32 or 127 <= ord(c) <= 159


def summary_with_head(summary: SessionSummary, session: Session) -> SessionSummary:
    """The summary after a change of ``session``'s own fields; message counts unchanged."""
    return msgspec.structs.replace(summary, **_head_of(session))


def forked(source: Session, at: int, name: str) -> Session:
    """The head of a fork of ``source`` keeping its first ``at`` messages (DESIGN section 5,
    ``fork``): a new id, ``thread_type`` fork, the parent and branch point recorded; metadata,
    tags and source copied. A database backend copies the message rows itself.

    Raises:
        UsageError: ``at`` is not a whole number from 0 to ``len(source.history)``.
    """
    from .errors import UsageError  # imported here: errors and ids import nothing from models
    from .ids import new_id

    if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= len(source.history):
        raise UsageError(f"fork point must be between 0 and {len(source.history)}, not {at}")
    now = now_iso()
    history = source.history[:at]
    return Session(
        id=new_id(),
        name=name,
        po_name=source.po_name,
        created_at=now,
        updated_at=max(now, history[-1].created_at) if history else now,
        metadata=dict(source.metadata),
        history=history,
        source=source.source,
        thread_type="fork",
        parent_id=source.id,
        parent_message_index=at,
        tags=list(source.tags) if source.tags else None,
    )


def clean_name(name: object, field: str = "name") -> str:
    """Validate a user-given name: 1 to 80 characters after trimming, no control characters
    (C0, DEL or C1). Names read from files are not held to the C1 rule, so a store written
    before it still opens (DESIGN section 5)."""
    if not isinstance(name, str):
        raise InvalidName(f"{field} must be text, not {type(name).__name__}")
    trimmed = name.strip()
    if not trimmed:
        raise InvalidName(f"{field} must not be empty")
    if len(trimmed) > NAME_MAX:
        raise InvalidName(f"{field} is {len(trimmed)} characters; the limit is {NAME_MAX}")
    if trimmed.isascii() and trimmed.isprintable():  # the usual name, told in two quick calls
        return trimmed
    if any(_is_control(c) for c in trimmed):
        raise InvalidName(f"{field} must not contain control characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in trimmed):
        # Lone surrogates cannot be written as UTF-8; refuse them here, not mid-write.
        raise InvalidName(f"{field} is not valid Unicode text")
    return trimmed


def clean_po_name(name: object) -> str:
    """``name`` trimmed, as a PO name; raises :class:`InvalidName` when it is empty, longer
    than 200 characters, or holds a slash or a control character (a PO name names a file)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidName("PO name must not be empty")
    trimmed = name.strip()
    shown = visible(trimmed[:40], one_line=True)
    if len(trimmed) > 200:
        raise InvalidName(f"invalid PO name '{shown}…': at most 200 characters")
    if any(_is_control(c) or c in "/\\" for c in trimmed):
        raise InvalidName(f"invalid PO name '{shown}': no slashes or control characters")
    return trimmed


def validation_message(exc: msgspec.ValidationError | msgspec.DecodeError) -> str:
    """msgspec's message with its regexes replaced by words a person can act on."""
    text = str(exc)
    if "matching regex" in text:
        field = text.rsplit("- at ", 1)[-1] if "- at " in text else "a field"
        if _mentions(text, _TIMESTAMP_RE):
            return f"{field} is not an ISO-8601 UTC timestamp ending in Z"
        if _mentions(text, _NAME_RE):
            return f"{field} must be 1 to {NAME_MAX} characters without control characters"
        if _mentions(text, _ID_RE):
            return f"{field} is not a lowercase UUID"
        if _mentions(text, _PO_NAME_RE):
            return f"{field} must be a PO name without slashes or control characters"
        return f"{field} has a value of the wrong form"
    return text


def _mentions(text: str, pattern: str) -> bool:
    # msgspec quotes the pattern with repr(), which doubles its backslashes.
    return pattern in text or repr(pattern) in text
