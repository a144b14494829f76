"""SessionManager: the public API over a storage backend and the plugin host."""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import checks, copies, current_session, limits
from .config import check_config, load_config
from .config_schema import Config
from .envdir import find_env_dir
from .errors import ImportFormatError, SessionNotFound, StorageError, UsageError
from .ids import validate_id
from .models import Message, Session, SessionSummary, clean_name
from .organise import between_pos, labels, names, trash
from .plugins import PluginHost
from .resolve import by_id_lookup, by_name_lookup, damaged_match, other_po_hint, resolve_ref
from .storage.base import (
    HealthReport,
    StorageBackend,
    SupportsKnownList,
    SupportsOpen,
    SupportsPaths,
    SupportsRecheck,
    SupportsReplaceLast,
    SupportsSearch,
    SupportsTrash,
    TrashedSession,
)
from .text import unencodable

if TYPE_CHECKING:
    from .importing import ImportReport
    from .rewind import Rewound
    from .search import SearchHit
    from .search_query import Query

IMPORTED_SUFFIX = " (imported)"
API_SOURCE = "api"  # the source of sessions made through this class by Python code


class SessionManager:
    """CRUD on sessions. Build one per environment folder with :meth:`open`."""

    def __init__(
        self,
        root: Path,
        backend: StorageBackend,
        host: PluginHost,
        config: dict[str, Any] | None = None,
        settings: Config | None = None,
    ) -> None:
        self.root = root
        self.backend = backend
        self.host = host
        self.config = config or {}  # config.toml as TOML data
        self.settings = settings or check_config(self.config)  # the same, checked and typed
        self._search_memory: Any = None  # a storage.search_cache.SearchCache, made on demand

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        host: PluginHost | None = None,
        backend: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> SessionManager:
        """Open the environment folder ``path`` (default: the nearest ``.prompt_objects``).

        Args:
            path: the folder, or a folder inside which to look for it.
            host: the plugin host (default: built-ins and installed plugins).
            backend: a storage backend name overriding ``[storage] backend``.
            config: ``config.toml`` data to use instead of reading the file.

        Raises:
            ConfigError: config.toml is unreadable or says something the schema refuses
                (``config_schema``, DESIGN section 3), named by key in one line.
            UnknownFormat: ``backend`` names no installed backend.
        """
        root = find_env_dir(path)
        config = load_config(root) if config is None else config
        host = host or PluginHost.create()
        settings = check_config(config, host, external=False)
        name = backend or settings.storage.backend
        store = host.storage_factory(name)(root, settings.storage)
        if isinstance(store, SupportsOpen):
            store.open_store()
        return cls(root, store, host, config, settings)

    def __enter__(self) -> SessionManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._search_memory is not None:
            self._search_memory.close()
        self.backend.close()

    def flush(self) -> None:
        self.backend.flush()

    # ------------------------------------------------------------------ CRUD

    def create(
        self,
        po_name: str,
        name: str | None = None,
        *,
        source: str | None = API_SOURCE,
        metadata: dict[str, Any] | None = None,
        history: Iterable[Message] = (),
        **fields: Any,
    ) -> Session:
        """A new session of ``po_name``. ``source`` says where it came from (DESIGN section 3):
        ``"api"`` for Python code unless a frontend names itself (``"cli"``, ``"tui"``, ...).
        Without ``name`` it is auto-named: its first user message names it (section 14)."""
        session = checks.new_session(
            po_name, name, source=source, metadata=metadata, history=history, fields=fields
        )
        self.backend.create(session)
        self.host.session_created(session=session, manager=self)
        return session

    def append(self, session_id: str, message: Message) -> Message:
        sid = validate_id(session_id)
        checked = checks.message(message)
        summary = self.backend.append(sid, checked)
        names.after_append(self, sid, checked, summary)
        self.host.message_appended(session_id=sid, message=checked, manager=self)
        return checked

    def replace_last(self, session_id: str, message: Message, *, index: int) -> Message:
        """Put ``message`` in place of the session's last message, number ``index``: how the
        runtime stores a reply over the provisional copy it checkpointed while the reply
        streamed (DESIGN section 8). Plugins hear of it through ``message_appended``: the copy
        it replaces was written with the backend's own calls, which no plugin hears of.

        Raises:
            UsageError: the message is invalid, or the backend lacks ``SupportsReplaceLast``.
            NotLastMessage: the session does not end with message ``index``.
            SessionNotFound, StorageError: as for ``append``.
        """
        sid = validate_id(session_id)
        checked = checks.message(message)
        if not isinstance(self.backend, SupportsReplaceLast):
            raise UsageError(f"the {self.backend.name} store cannot replace a message in place")
        self.backend.replace_last(sid, checked, index=index)
        self.host.message_appended(session_id=sid, message=checked, manager=self)
        return checked

    def list(
        self, po_name: str | None = None, *, include_archived: bool = True
    ) -> builtins.list[SessionSummary]:
        found = self.backend.list()
        if po_name is not None:
            found = [s for s in found if s.po_name == po_name]
        if not include_archived:
            found = [s for s in found if not s.archived]
        return found

    def recheck(self) -> None:
        """Look again at every session's file for edits another program made in place, which
        the JSON store's catalog does not notice by itself (DESIGN section 3, "Stale"): a stat
        per session, and a read of each file that changed, whose catalog entry is corrected.

        For programs about to show or act on summaries without a file watcher (the CLI's
        ``list``, ``search`` and ``prune``, the MCP server); a running TUI's watcher names the
        files that changed instead. Backends without files to edit do nothing. A file
        damaged or mended in place is listed as such (``problems``).
        """
        if isinstance(self.backend, SupportsRecheck):
            self.backend.recheck(None)

    def problems(self) -> dict[str, str]:
        """Damaged sessions the last ``list`` skipped: id -> reason."""
        return self.backend.problems()

    def get(self, session_id: str) -> Session:
        return self.backend.get(validate_id(session_id))

    def rename(self, session_id: str, new_name: str) -> Session:
        sid = validate_id(session_id)
        name = clean_name(new_name)
        old = self.backend.get(sid).name
        session = self.backend.update(sid, name=name, auto_named=False)  # a person's name
        self.host.session_renamed(session=session, old_name=old, manager=self)
        return session

    def update(self, session_id: str, **fields: Any) -> Session:
        """Change archived, pinned, tags or metadata."""
        checks.update(self.backend.get(validate_id(session_id)), fields)
        return self.backend.update(session_id, **fields)

    def archive(self, session_id: str, archived: bool = True) -> Session:
        return self.update(session_id, archived=archived)

    def pin(self, session_id: str, pinned: bool = True) -> Session:
        """Pin a session (pinned ones come first in lists) or unpin it (DESIGN section 14)."""
        return self.update(session_id, pinned=pinned)

    def tag(self, session_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Session:
        """Add and remove tags (one word each, compared without regard to case).

        :raises UsageError: a tag is empty, too long or holds spaces; nothing is written.
        """
        return labels.tag(self, session_id, add, remove)

    def delete(self, session_id: str) -> None:
        """Move a session to the trash (DESIGN section 4, promise 5); a backend without
        :class:`~.storage.base.SupportsTrash` deletes it for good."""
        sid = validate_id(session_id)
        try:
            po_name: str | None = self.backend.get(sid).po_name
        except StorageError:
            po_name = None  # a damaged session can still be deleted; its PO is unknown
        if isinstance(self.backend, SupportsTrash):
            self.backend.trash(sid)
        else:
            self.backend.delete(sid)
        if po_name is not None and self.backend.get_current(po_name) == sid:
            self.backend.set_current(po_name, None)
        self.host.session_deleted(session_id=sid, po_name=po_name or "", manager=self)

    # ------------------------------------------------------------------ trash (organise.trash)

    def trashed(self) -> builtins.list[TrashedSession]:
        """Trashed sessions, most recently deleted first (DESIGN section 14)."""
        return trash.trashed(self)

    def restore(self, ref: str) -> TrashedSession:
        """Bring back the trashed session ``ref`` (name or id prefix) unchanged."""
        return trash.restore(self, ref)

    def empty_trash(self, older_than_days: float | None = None) -> builtins.list[TrashedSession]:
        """Delete for good what was trashed more than ``older_than_days`` days ago (all: None)."""
        return trash.empty(self, older_than_days)

    def copy_to_po(self, session_id: str, po_name: str) -> Session:
        """A copy of the session under another PO (DESIGN section 14); the source is kept."""
        return between_pos.copy_to_po(self, session_id, po_name)

    def rename_po(self, old: str, new: str) -> between_pos.PoRename:
        """Move every session of PO ``old`` (and its PO file) to the name ``new``."""
        return between_pos.rename_po(self, old, new)

    def duplicate(self, session_id: str, new_name: str | None = None) -> Session:
        """A new session with the whole history, named ``new_name`` or "<name> (copy)"
        (``copies.duplicate``)."""
        return copies.duplicate(self, session_id, new_name)

    def fork(self, session_id: str, at: int | None = None, name: str | None = None) -> Session:
        """A new session with ``history[:at]`` (all of it by default), its parent recorded
        (``copies.fork``). Raises UsageError for ``at`` out of range, ReadOnlyStore for a session
        a newer version wrote."""
        return copies.fork(self, session_id, at, name)

    def rewind(self, session_id: str, to: int) -> Rewound:
        """End the session at message ``to``; the rest is kept in a fork (``rewind.rewind``)."""
        from .rewind import rewind

        return rewind(self, session_id, to)

    def undo_rewind(self, session_id: str) -> Rewound:
        """Take back the session's last rewind, edit or regenerate (``rewind.undo``)."""
        from .rewind import undo

        return undo(self, session_id)

    # ------------------------------------------------------------------ export and import

    def formats(self) -> dict[str, builtins.list[str]]:
        return {"export": sorted(self.host.exporters()), "import": sorted(self.host.importers())}

    def export(self, session_id: str, format: str = "markdown") -> str | bytes:
        exporter = self.host.exporter(format)
        return exporter.export(self.get(session_id))

    def import_session(
        self, data: bytes | str, format: str | None = None, **kwargs: Any
    ) -> Session:
        """Import one file; returns the first session it held (see :meth:`import_sessions`)."""
        return self.import_sessions(data, format, **kwargs)[0]

    def import_sessions(
        self,
        data: bytes | str,
        format: str | None = None,
        *,
        filename: str | None = None,
        po_name: str | None = None,
    ) -> builtins.list[Session]:
        """Import every conversation in ``data`` that can be read; see :meth:`import_report`."""
        return self.import_report(data, format, filename=filename, po_name=po_name).sessions

    def import_report(
        self,
        data: bytes | str,
        format: str | None = None,
        *,
        filename: str | None = None,
        po_name: str | None = None,
    ) -> ImportReport:
        """Import every conversation in ``data`` that can be read, and say what was skipped.

        :param data: the file's bytes (a UTF-8, UTF-16 or UTF-32 byte order mark is allowed),
            or its text (a lone surrogate in it reads as U+FFFD).
        :param format: an import format name; None picks the importer whose ``sniff`` accepts it.
        :param filename: recorded in each session's ``metadata.imported_from``.
        :param po_name: the PO the sessions go to, instead of the one the input names.
        :returns: the sessions written, each with a new id, and the entries skipped with reasons.
        :raises ImportFormatError: the input as a whole cannot be read, or no entry could; then
            nothing is written. A write that fails takes back the sessions this import wrote.
        :raises UnknownFormat: ``format`` is not a known import format.

        One odd entry never sinks the rest (DESIGN section 16).
        """
        from .importing import ImportReport, ImportRun  # only imports need it (DESIGN section 10)

        if isinstance(data, str):
            from .importers.common import text

            data = text(data)  # a lone surrogate reads as U+FFFD, as it does in a file's JSON
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if not isinstance(raw, bytes | bytearray):
            raise ImportFormatError("import data must be bytes or text")
        run = ImportRun(self, po_name=po_name, as_new=True)
        report = run.add(bytes(raw), format, filename)
        return ImportReport(sessions=[o.session for o in report.outcomes], skipped=report.skipped)

    # ------------------------------------------------------------------ search and resolve

    def search(
        self,
        query: str | Query,
        po_name: str | None = None,
        *,
        limit: int = limits.SEARCH_RESULTS,
        progress: Callable[[int, int], None] | None = None,
    ) -> builtins.list[SearchHit]:
        """Hits for ``query`` in the search language (DESIGN section 12), best first.

        :param query: the query text (or one already parsed by ``search_query.parse``).
        :param po_name: only this PO's sessions (as the filter ``po:NAME``).
        :param limit: at most this many hits (a positive int).
        :param progress: called as ``progress(done, total)`` while an index catches up.
        :raises QueryError: (a UsageError) a malformed query, with one line saying why.
        """
        from .search_query import Query, parse  # loaded by the commands that search

        if isinstance(query, str) and unencodable(query):
            raise UsageError("the search text is not valid UTF-8 text")
        parsed = query if isinstance(query, Query) else parse(query)
        limit = limits.search_limit(limit)
        parsed = parsed.with_po(po_name)
        if isinstance(self.backend, SupportsSearch):
            return self.backend.search(parsed, limit=limit, progress=progress)
        if self._search_memory is None:  # a backend without an index: build one in memory
            from .storage.search_cache import SearchCache

            self._search_memory = SearchCache(None, self.backend.list, self.backend.get)
        return self._search_memory.search(parsed, limit, progress)

    def resolve(self, po_name: str | None, ref: str) -> SessionSummary:
        """Exact name, then unique id prefix, then unique name prefix, among the PO's sessions.

        An id or name lookup, then what the store knows (``list_known``), then a list, which
        finds files changed behind the program's back (DESIGN 10). Raises SessionNotFound,
        AmbiguousSession, or CorruptSession for the id of a damaged session
        (``resolve.damaged_match``).
        """
        if (found := by_id_lookup(self.backend, ref, po_name)) is not None:
            return found
        if (found := by_name_lookup(self.backend, ref, po_name)) is not None:
            return found
        backend = self.backend
        if isinstance(backend, SupportsKnownList):
            known = [s for s in backend.list_known() if po_name is None or s.po_name == po_name]
            with contextlib.suppress(SessionNotFound):
                return resolve_ref(ref, known, po_name)
        try:
            return resolve_ref(ref, self.list(po_name), po_name)
        except SessionNotFound as exc:
            if (damaged := damaged_match(ref, self.problems())) is not None:
                raise damaged from exc
            hint = trash.in_trash_hint(self, ref, po_name)
            hint = hint or (po_name and other_po_hint(ref, self.list(), po_name))
            if not hint:
                raise
            raise SessionNotFound(ref, po_name, hint) from exc

    # ------------------------------------------------------------------ current session per PO

    def peek_current(self, po_name: str) -> SessionSummary | None:
        """The PO's current session without creating one (most recent if none was chosen)."""
        return current_session.peek(self, po_name)

    def current(self, po_name: str, *, source: str | None = API_SOURCE) -> Session:
        """The PO's current session; a "New Session" is created (from ``source``, as in
        :meth:`create`) if it has none (``current_session.current``)."""
        return current_session.current(self, po_name, source=source)

    def switch(self, po_name: str, session_id: str) -> Session:
        """Make ``session_id`` the PO's current session. Raises SessionNotFound, or UsageError
        when the session belongs to another PO (DESIGN section 5)."""
        return current_session.switch(self, po_name, session_id)

    # ------------------------------------------------------------------ health

    def check(self, repair: bool = False) -> HealthReport:
        return self.backend.check(repair=repair)

    def session_path(self, session_id: str) -> Path | None:
        if isinstance(self.backend, SupportsPaths):
            return self.backend.path_for(session_id)
        return None
