"""What an import found: the sessions it takes and the entries it skipped, with the reasons.

An importer takes every conversation it can; one odd entry never sinks the rest (DESIGN
section 16). An importer's ``load`` yields a :class:`Skipped` for an entry it cannot read, and
the core turns a returned session that fails validation into one too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import msgspec

from . import limits
from .copies import numbered
from .errors import ImportFormatError, InvalidName, UnknownFormat
from .ids import new_id
from .import_changes import digest_of
from .import_checks import checked_session, text_bytes
from .import_lease import IMPORT_WAIT, import_lease
from .import_merge import Outcome, merge
from .models import (
    FORMAT_VERSION,
    Session,
    clean_po_name,
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


# ---------------------------------------------------------------- the shared rules of an import


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


def import_stamp(session: Session, format: str) -> dict[str, str]:
    """``metadata.import`` for a copy of ``session`` imported as ``format`` (DESIGN 16): the
    source id the importer named (else the session's own id) and the digest of its messages
    (without their times when the importer says ``timed: False``)."""
    given = session.metadata.get("import")
    given = given if isinstance(given, dict) else {}
    return {
        "format": format,
        "source_id": str(given.get("source_id") or session.id),
        "digest": digest_of(session.history, given.get("timed", True) is not False),
    }


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
    :param po_name: the PO every new copy goes to, instead of the one the input names (an
        earlier copy keeps its PO); InvalidName when it is not a PO name.
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
        # Checked before anything is read, so a bad --po is refused even when every
        # conversation only updates an earlier copy (which keeps its PO).
        self.po_name = None if po_name is None else clean_po_name(po_name)
        self.as_new = as_new
        self.dry_run = dry_run
        self._copies: dict[tuple[str, str], str] | None = None
        self._given_ids: dict[str, str] = {}  # ids an importer gave -> ids stored
        self._names: dict[str, set[str]] = {}  # per PO, the session names taken (read once)
        self._exclusive = False  # this run holds the import lease

    @contextlib.contextmanager
    def exclusive(self, wait: float = IMPORT_WAIT) -> Iterator[None]:
        """Hold the store's import lease for the block, so that imports run by other processes
        at the same time take turns: each finds the copies the one before made, and a
        conversation is never copied twice (DESIGN sections 4 and 16). :meth:`add` takes it
        for its own writes when no block holds it. A dry run or ``as_new`` run writes no copy
        another run could miss, and takes none (a dry run writes nothing at all).

        :param wait: seconds to wait for another import to finish.
        :raises ImportBusy: another import held it all that time.
        """
        if self._exclusive or self.dry_run or self.as_new:
            yield
            return
        with import_lease(self.manager.root, wait):
            self._exclusive = True
            self._copies = None  # read again under the lease: another run may have added some
            try:
                yield
            finally:
                self._exclusive = False

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
            with self.exclusive():
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
        if parent_id and at is not None:
            at = self._branch_point(parent_id, at)
        origin: dict[str, Any] = {"id": loaded.id, "format": format, "imported_at": now_iso()}
        if filename:
            origin["file"] = Path(filename).name
        copy = msgspec.structs.replace(
            loaded,
            id=new_id(),
            name=self._fresh_name(self.po_name or loaded.po_name, loaded.name),
            po_name=self.po_name or loaded.po_name,
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

    def _fresh_name(self, po_name: str, name: str) -> str:
        """``name`` marked " (imported)", numbered from 2 when the PO has a session of that
        name already (importing an export twice, or its JSON and its Markdown), so no two
        copies look alike; names taken in this run count, in a dry run too."""
        taken = self._names.get(po_name)
        if taken is None:
            taken = self._names[po_name] = {s.name for s in self.manager.list(po_name)}
        label = numbered(name, " (imported)", taken)
        taken.add(label)
        return label

    def _branch_point(self, parent_id: str, at: int) -> int | None:
        """``at`` when it is a place in the parent's copy (0 to its message count), else None:
        a file may say anything, and a branch point outside the parent means nothing."""
        if at < 0:
            return None
        with contextlib.suppress(Exception):  # not written (a dry run): only the sign is known
            if at > len(self.manager.get(parent_id).history):
                return None
        return at

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
        """Add the messages of ``loaded`` its earlier copy lacks (``import_merge.merge``)."""
        return merge(self.manager, copy_id, loaded, stamp, timed, dry_run=self.dry_run)

    def _index(self) -> dict[tuple[str, str], str]:
        """(format, source id) -> the id of the copy, read once per run from imported sessions;
        with ``as_new`` only this run's copies (no earlier copy is looked for, so none is read)."""
        if self._copies is None:
            self._copies = {}
            found: dict[tuple[str, str], tuple[str, str, str]] = {}
            for summary in [] if self.as_new else self.manager.list():
                if summary.source != "import":
                    continue
                with contextlib.suppress(Exception):
                    metadata = self.manager.get(summary.id).metadata
                    stamp = metadata.get("import")
                    if isinstance(stamp, dict) and "format" in stamp and "source_id" in stamp:
                        key = (str(stamp["format"]), str(stamp["source_id"]))
                        # The oldest copy wins, however recently the others were used (lists
                        # put those first): duplicates and the forks a rewind keeps carry the
                        # same stamp but are made later; later --as-new copies share the
                        # source's start but were imported later.
                        origin = metadata.get("imported_from")
                        when = origin.get("imported_at") if isinstance(origin, dict) else None
                        made = (summary.created_at, str(when or ""), summary.id)
                        if key not in found or made < found[key]:
                            found[key] = made
            self._copies = {key: made[2] for key, made in found.items()}
        return self._copies
