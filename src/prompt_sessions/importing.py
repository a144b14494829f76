"""What an import found: the sessions it takes and the entries it skipped, with the reasons.

An importer takes every conversation it can; one odd entry never sinks the rest (DESIGN
section 16). An importer's ``load`` yields a :class:`Skipped` for an entry it cannot read, and
the core turns a returned session that fails validation into one too.
"""

from __future__ import annotations

import codecs

import msgspec

from .models import Session


class Skipped(msgspec.Struct, frozen=True):
    """One entry of the input that was not imported.

    :param where: which entry, in words a person finds it by (``"conversation 3 ('Plans')"``).
    :param reason: why, as one line a person can act on.
    """

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason


class ImportReport(msgspec.Struct):
    """The result of one import: the sessions written (new ids) and the entries skipped."""

    sessions: list[Session]
    skipped: list[Skipped] = msgspec.field(default_factory=list)


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
