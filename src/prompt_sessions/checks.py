"""The checks every value passes before the API writes it (DESIGN section 5).

A bad value is refused with one :class:`~.errors.UsageError` line before anything reaches a
file: a field the model refuses would otherwise produce a file that reads back as damaged, and
text that cannot be written as UTF-8 (lone surrogates) could not be written at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from .errors import UsageError
from .ids import new_id
from .models import (
    DEFAULT_SESSION_NAME,
    Message,
    Session,
    clean_name,
    clean_po_name,
    validation_message,
)
from .timeutil import now_iso

UPDATABLE = frozenset({"archived", "pinned", "tags", "metadata"})


def new_session(
    po_name: str,
    name: str | None,
    *,
    source: str | None,
    metadata: dict[str, Any] | None,
    history: Iterable[Message],
    fields: dict[str, Any],
) -> Session:
    """A new, checked session of ``po_name``, not yet stored (``SessionManager.create``).

    Args:
        po_name: the PO's name (checked by ``clean_po_name``).
        name: the session's name; None names it "New Session" and marks it ``auto_named``.
        source: where it came from (DESIGN section 3).
        metadata: a mapping, or None for ``{}``.
        history: messages, each checked by :func:`message`.
        fields: other session fields by name (``pinned``, ``tags``, ``parent_id`` ...).

    Raises:
        UsageError: an unknown field, a value the model refuses, or text that is not UTF-8.
        InvalidName: the name or PO name is empty or too long.
    """
    now = now_iso()
    if name is None:
        fields.setdefault("auto_named", True)
    if metadata is not None and not isinstance(metadata, dict):
        raise UsageError(f"metadata must be a mapping, not {type(metadata).__name__}")
    try:
        session = Session(
            id=new_id(),
            name=clean_name(name if name is not None else DEFAULT_SESSION_NAME),
            po_name=clean_po_name(po_name),
            created_at=now,
            updated_at=now,
            metadata=dict(metadata or {}),
            source=source,
            **fields,
        )
    except TypeError as exc:  # an unknown keyword
        raise UsageError(f"cannot create a session: {exc}") from exc
    encodable(session, "session")
    try:
        msgspec.convert(msgspec.to_builtins(session), Session)
    except msgspec.ValidationError as exc:
        raise UsageError(f"invalid session: {validation_message(exc)}") from exc
    session.history = [message(m) for m in history]
    if session.history:
        session.updated_at = max(now, session.history[-1].created_at)
    return session


def message(value: Message) -> Message:
    """``value`` as the model checks it (a fresh copy).

    Raises:
        UsageError: not a Message, a field the model refuses, or text that is not UTF-8.
    """
    if not isinstance(value, Message):
        raise UsageError(f"expected a Message, not {type(value).__name__}")
    try:
        checked = msgspec.convert(msgspec.to_builtins(value), Message)
    except msgspec.ValidationError as exc:
        raise UsageError(f"invalid message: {validation_message(exc)}") from exc
    encodable(checked, "message")
    return checked


def update(session: Session, fields: dict[str, Any]) -> None:
    """Check that ``session`` may take ``fields`` (only :data:`UPDATABLE` ones).

    Raises:
        UsageError: another field, or a value the model refuses; nothing is written.
    """
    bad = set(fields) - UPDATABLE
    if bad:
        raise UsageError(
            f"cannot update {', '.join(sorted(bad))}; allowed: {', '.join(sorted(UPDATABLE))}"
        )
    probe = msgspec.structs.replace(session, **fields)
    try:
        msgspec.convert(msgspec.to_builtins(probe), Session)
    except msgspec.ValidationError as exc:
        raise UsageError(validation_message(exc)) from exc
    encodable(probe, "session")


def encodable(value: object, what: str) -> None:
    """Raise UsageError when ``value`` holds text that cannot be written as UTF-8."""
    try:
        msgspec.json.encode(value)
    except (UnicodeEncodeError, msgspec.EncodeError, TypeError) as exc:
        raise UsageError(f"invalid {what}: {exc}") from exc
