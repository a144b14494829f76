"""What an import found: the sessions it takes and the entries it skipped, with the reasons.

An importer takes every conversation it can; one odd entry never sinks the rest (DESIGN
section 16). An importer's ``load`` yields a :class:`Skipped` for an entry it cannot read, and
the core turns a returned session that fails validation into one too.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
from collections import Counter
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import msgspec

from . import limits
from .copies import suffixed
from .errors import ImportFormatError, InvalidName, UnknownFormat
from .ids import new_id
from .models import (
    FORMAT_VERSION,
    Message,
    Session,
    clean_name,
    clean_po_name,
    validation_message,
)
from .timeutil import now_iso


class Skipped(msgspec.Struct, frozen=True):
    """One entry of the input that was not imported.

    :param where: which entry, in words a person finds it by (``"conversation 3 ('Plans')"``).
    :param reason: why, as one line a person can act on.
    """

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason


class NothingToImport(ImportFormatError):
    """The input is of the format but holds no conversation (a transcript with no messages yet,
    an empty saved chat): not damage, so ``import --from`` passes over such files."""


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


# ---------------------------------------------------------------- the shared rules of an import


class Outcome(msgspec.Struct):
    """What one import did (or, in a dry run, would do) with one conversation.

    :param session: the stored copy (for ``new``, what would be written in a dry run).
    :param action: ``"new"`` (a fresh copy), ``"updated"`` (messages added to the earlier copy)
        or ``"unchanged"`` (the earlier copy already holds everything).
    :param added: messages added (all of them for ``new``).
    """

    session: Session
    action: str
    added: int


class RunReport(msgspec.Struct):
    """The result of :meth:`ImportRun.add`: one outcome per conversation, the entries skipped."""

    outcomes: list[Outcome] = msgspec.field(default_factory=list)
    skipped: list[Skipped] = msgspec.field(default_factory=list)


@runtime_checkable
class LocatesFiles(Protocol):
    """An importer that knows where its tool keeps its files (``import --from FORMAT``)."""

    def locate(self, base: Path | None = None) -> list[Path]:
        """The files to import, oldest first; ``base`` replaces the tool's default folder.

        The default folder is under the home directory (``Path.home()``) unless the tool's own
        environment variable names another; a missing folder is an empty list. An importer
        may also have ``default_folder() -> (Path, variable name)``, the folder read without
        ``base`` and the environment variable that moves it, so that finding nothing names
        where it looked.
        """
        ...


def digest_of(history: list[Any]) -> str:
    """A short fingerprint of the imported messages: equal when nothing changed at the source."""
    raw = msgspec.json.encode([(m.role, m.content, m.created_at) for m in history])
    return hashlib.sha256(raw).hexdigest()[:32]


def import_stamp(session: Session, format: str) -> dict[str, str]:
    """``metadata.import`` for a copy of ``session`` imported as ``format`` (DESIGN 16): the
    source id the importer named (else the session's own id) and the digest of its messages."""
    given = session.metadata.get("import")
    source_id = given.get("source_id") if isinstance(given, dict) else None
    return {
        "format": format,
        "source_id": str(source_id or session.id),
        "digest": digest_of(session.history),
    }


def _key(message: Message, timed: bool = True) -> tuple[str, str, str]:
    return (message.role, message.content, message.created_at if timed else "")


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
        written as UTF-8, a newer ``format_version`` or a name with control characters.
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
    return checked


class ImportRun:
    """One ``import``: any number of files, the same copies found across them (DESIGN 16).

    Every imported session records ``metadata.import = {"format", "source_id", "digest"}``. An
    importer names the conversation's id at the source in ``metadata.import.source_id`` (the
    session's own id otherwise); the core fills in the format and the digest. Importing a source
    again finds the earlier copy by format and source id and adds only the messages it lacks;
    ``as_new`` makes a fresh copy instead. A session an importer gives a ``parent_id`` equal to
    the id of another session it returned, or a ``metadata.import.parent_source_id`` naming an
    imported conversation of the same format, is stored under that session's copy. An importer
    whose source keeps no message times sets ``metadata.import.timed`` to False.

    :param manager: the open ``SessionManager``.
    :param po_name: the PO every session goes to, instead of the one the input names.
    :param as_new: always make a fresh copy.
    :param dry_run: write nothing; the report says what would be done.
    """

    def __init__(
        self,
        manager: Any,
        *,
        po_name: str | None = None,
        as_new: bool = False,
        dry_run: bool = False,
    ) -> None:
        self.manager = manager
        self.po_name = po_name
        self.as_new = as_new
        self.dry_run = dry_run
        self._copies: dict[tuple[str, str], str] | None = None
        self._given_ids: dict[str, str] = {}  # ids an importer gave -> ids stored

    def importer(self, raw: bytes, format: str | None, filename: str | None) -> Any:
        """The importer named ``format``, else the first whose ``sniff`` accepts ``raw``.

        :raises UnknownFormat: no importer is named ``format``.
        :raises ImportFormatError: none recognises ``raw``; the known formats are listed.
        """
        importers = self.manager.host.importers()
        if format is not None:
            if format not in importers:
                raise UnknownFormat(format, importers, kind="import format")
            return importers[format].value
        for contribution in importers.values():
            with contextlib.suppress(Exception):
                if contribution.value.sniff(raw, filename):
                    return contribution.value
        if raw.startswith(b"PK\x03\x04"):  # a zip: most likely a backup, which import never reads
            raise ImportFormatError(
                "no importer recognises this zip file; a backup made by `prompt-sessions "
                "backup` is brought back with `prompt-sessions restore-backup FILE`"
            )
        raise ImportFormatError(
            f"no importer recognises this input; known formats: {', '.join(sorted(importers))} "
            "(choose one with --format)"
        )

    def add(self, data: bytes, format: str | None = None, filename: str | None = None) -> RunReport:
        """Import one file's conversations (see the class).

        :raises ImportFormatError: the input as a whole cannot be read, or no entry could; then
            nothing of this file is written.
        :raises NothingToImport: (an ImportFormatError) it holds no conversation at all.
        :raises UnknownFormat: ``format`` is not a known import format.
        """
        limits.check_size(data)
        raw = text_bytes(data)
        importer = self.importer(raw, format, filename)
        if not getattr(importer, "binary", False) and not getattr(importer, "line_based", False):
            limits.check_nesting(raw)
        try:
            loaded = list(importer.load(raw, filename))
        except ImportFormatError:
            raise
        except (RecursionError, MemoryError) as exc:
            raise ImportFormatError(
                f"input is too deeply nested or too large ({type(exc).__name__})"
            ) from exc
        except Exception as exc:
            raise ImportFormatError(
                f"the {importer.name} importer could not read it: {exc}"
            ) from exc
        report = RunReport()
        prepared: list[Session] = []
        for number, item in enumerate(loaded):
            if isinstance(item, Skipped):
                report.skipped.append(item)
                continue
            try:
                prepared.append(self._checked(item, importer))
            except (ImportFormatError, InvalidName) as exc:
                where = f"session {number}" if len(loaded) > 1 else ""
                report.skipped.append(Skipped(where, str(exc)))
        if not prepared:
            if not report.skipped:
                raise NothingToImport("the file holds no conversation")
            more = f" ({len(report.skipped) - 1} more skipped)" if len(report.skipped) > 1 else ""
            raise ImportFormatError(f"{report.skipped[0]}{more}")
        written: list[str] = []
        try:
            for session in prepared:
                report.outcomes.append(self._store(session, importer.name, filename, written))
        except BaseException:
            # A failed write takes back the copies this file made before it is reported.
            for session_id in written:
                with contextlib.suppress(Exception):
                    self.manager.backend.delete(session_id)
            raise
        return report

    # ------------------------------------------------------------ one session

    def _checked(self, session: Any, importer: Any) -> Session:
        return checked_session(session, importer.name, getattr(importer, "typed", False) is True)

    def _store(
        self, loaded: Session, format: str, filename: str | None, written: list[str]
    ) -> Outcome:
        given = loaded.metadata.get("import")
        given = dict(given) if isinstance(given, dict) else {}
        parent_source = given.get("parent_source_id")
        timed = given.get("timed", True) is not False
        stamp = import_stamp(loaded, format)
        source_id = stamp["source_id"]
        copies = self._index()
        earlier = None if self.as_new else copies.get((format, source_id))
        if earlier is not None:
            outcome = self._merge(earlier, loaded, stamp, timed)
            if outcome is not None:
                self._given_ids[loaded.id] = outcome.session.id
                return outcome
        parent_id = loaded.parent_id and self._given_ids.get(loaded.parent_id)
        at = loaded.parent_message_index
        if parent_source is not None:
            parent_id = copies.get((format, str(parent_source)), parent_id)
            if parent_id and at is None and loaded.thread_type == "delegation":
                at = self._calling_message(parent_id, loaded)
        origin: dict[str, Any] = {"id": loaded.id, "format": format, "imported_at": now_iso()}
        if filename:
            origin["file"] = Path(filename).name
        copy = msgspec.structs.replace(
            loaded,
            id=new_id(),
            name=suffixed(loaded.name, " (imported)"),
            po_name=clean_po_name(self.po_name) if self.po_name else loaded.po_name,
            metadata={**loaded.metadata, "imported_from": origin, "import": stamp},
            source="import",
            format_version=FORMAT_VERSION,
            parent_id=parent_id or None,
            parent_message_index=at if parent_id else None,
        )
        self._given_ids[loaded.id] = copy.id
        if not self.dry_run:
            self.manager.backend.create(copy)
            written.append(copy.id)
            self.manager.host.session_created(session=copy, manager=self.manager)
            copies[(format, source_id)] = copy.id
        return Outcome(copy, "new", len(copy.history))

    def _calling_message(self, parent_id: str, child: Session) -> int | None:
        """The index in the parent's copy of the assistant message whose tool call handed
        ``child`` its first message (a delegation found through its parent's source id)."""
        first = next((m.content for m in child.history if m.role == "user"), None)
        try:
            history = self.manager.get(parent_id).history
        except Exception:
            return None
        for index, message in enumerate(history):
            for call in message.tool_calls or []:
                arguments = call.get("arguments") if isinstance(call, dict) else None
                if isinstance(arguments, dict) and first in arguments.values():
                    return index
        return None

    def _merge(
        self, copy_id: str, loaded: Session, stamp: dict[str, str], timed: bool
    ) -> Outcome | None:
        """Add the messages of ``loaded`` its earlier copy lacks; None if the copy is gone.

        A message is the same when its role, text and time are; for a source without times
        (the importer says ``timed: False``), when its role and text are, counted, so a "yes"
        said twice is two messages."""
        try:
            copy = self.manager.get(copy_id)
        except Exception:
            return None
        if copy.metadata.get("import", {}).get("digest") == stamp["digest"]:
            return Outcome(copy, "unchanged", 0)
        have = Counter(_key(m, timed) for m in copy.history)
        new = []
        for message in loaded.history:
            key = _key(message, timed)
            if have[key]:
                have[key] -= 1
            else:
                new.append(message)
        if self.dry_run:
            return Outcome(copy, "updated" if new else "unchanged", len(new))
        for message in new:
            self.manager.append(copy.id, message)
        updated = self.manager.update(copy.id, metadata={**copy.metadata, "import": stamp})
        return Outcome(updated, "updated" if new else "unchanged", len(new))

    def _index(self) -> dict[tuple[str, str], str]:
        """(format, source id) -> the id of the copy, read once per run from imported sessions;
        with ``as_new`` only this run's copies (no earlier copy is looked for, so none is read)."""
        if self._copies is None:
            self._copies = {}
            for summary in [] if self.as_new else self.manager.list():
                if summary.source != "import":
                    continue
                with contextlib.suppress(Exception):
                    stamp = self.manager.get(summary.id).metadata.get("import")
                    if isinstance(stamp, dict) and "format" in stamp and "source_id" in stamp:
                        key = (str(stamp["format"]), str(stamp["source_id"]))
                        # The oldest copy wins, so later --as-new copies do not take over.
                        if key not in self._copies:
                            self._copies[key] = summary.id
        return self._copies
