"""What an import checks before it stores anything (DESIGN section 16): the input's encoding,
and each session an importer returns, as strictly as a session file is read."""

from __future__ import annotations

import codecs
from typing import Any

import msgspec

from .errors import ImportFormatError
from .models import FORMAT_VERSION, Session, clean_name, validation_message


def text_bytes(raw: bytes) -> bytes:
    """Input as importers expect it: UTF-8 without a byte order mark.

    Editors on Windows save JSON with a UTF-8 BOM, and PowerShell's ``Out-File`` writes UTF-16
    with one. A UTF-8 BOM is dropped; UTF-16 or UTF-32 text that starts with its BOM and decodes
    is re-encoded as UTF-8. Anything else, binary formats included, is returned as it is.
    """
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :]
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(encoding).encode("utf-8")
            except UnicodeError:
                return raw
    return raw


_ENCODER = msgspec.json.Encoder()
_SESSION = msgspec.json.Decoder(Session)


def checked_session(session: Any, format: str, typed: bool = False) -> Session:
    """``session`` as an importer returned it, checked as strictly as a session file is read.

    :param session: what the ``format`` importer yielded.
    :param typed: the importer builds sessions only from values its decoder checked as it read
        them (its ``typed`` attribute is True): every field already has its stored type, so
        the check through JSON and back is spared; the rest of the check still applies.
    :returns: a validated copy (``session`` itself when ``typed``).
    :raises ImportFormatError: not a Session, a field of the wrong shape, text that cannot be
        written as UTF-8, a newer ``format_version``, a name with control characters or a
        negative token count.
    """
    if not isinstance(session, Session):
        raise ImportFormatError(
            f"the {format} importer returned {type(session).__name__}, not a Session"
        )
    if typed:
        clean_name(session.name)
        return session
    try:
        # Through JSON and back: the strict check files get, and quicker than convert.
        checked = _SESSION.decode(_ENCODER.encode(session))
    except msgspec.ValidationError as exc:
        raise ImportFormatError(validation_message(exc)) from exc
    except (msgspec.EncodeError, UnicodeEncodeError, TypeError, ValueError) as exc:
        raise ImportFormatError(f"the session cannot be stored as JSON ({exc})") from exc
    if checked.format_version > FORMAT_VERSION:
        raise ImportFormatError(
            f"session '{checked.name}' has format_version {checked.format_version}, newer "
            f"than this program ({FORMAT_VERSION}); upgrade prompt-sessions to import it"
        )
    clean_name(checked.name)
    _check_counts(checked)
    return checked


def _check_counts(session: Session) -> None:
    """Refuse a negative token count: ``stats`` adds them up (DESIGN section 14, "Usage")."""
    for index, message in enumerate(session.history):
        usage = message.usage
        if usage is None:
            continue
        for field in ("input_tokens", "output_tokens", "cached_tokens"):
            if (count := getattr(usage, field)) < 0:
                raise ImportFormatError(
                    f"`$.history[{index}].usage.{field}` is {count}; a token count is zero or more"
                )
