"""SessionManager: the public API over a storage backend and the plugin host."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from . import limits
from .config import check_config, load_config
from .config_schema import Config
from .envdir import find_env_dir
from .errors import ImportFormatError, StorageError, UnknownFormat, UsageError
from .ids import new_id, validate_id
from .models import (
    DEFAULT_SESSION_NAME,
    NAME_MAX,
    Message,
    Session,
    SessionSummary,
    clean_name,
    clean_po_name,
    validation_message,
)
from .plugins import PluginHost
from .resolve import resolve_ref
from .search import SearchHit, hits_in, raw_may_contain
from .storage.base import (
    HealthReport,
    StorageBackend,
    SupportsFork,
    SupportsOpen,
    SupportsPaths,
    SupportsRawRead,
    SupportsSearch,
)
from .timeutil import now_iso

IMPORTED_SUFFIX = " (imported)"


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
        self.backend.close()

    def flush(self) -> None:
        self.backend.flush()

    # ------------------------------------------------------------------ CRUD

    def create(
        self,
        po_name: str,
        name: str | None = None,
        *,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
        history: Iterable[Message] = (),
        **fields: Any,
    ) -> Session:
        now = now_iso()
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
        # Check the fields before anything is written: a bad value would otherwise produce a
        # file that reads back as damaged. Messages are checked one by one below.
        _check_encodable(session, "session")
        try:
            msgspec.convert(msgspec.to_builtins(session), Session)
        except msgspec.ValidationError as exc:
            raise UsageError(f"invalid session: {validation_message(exc)}") from exc
        session.history = [self._checked(m) for m in history]
        if session.history:
            session.updated_at = max(now, session.history[-1].created_at)
        self.backend.create(session)
        self.host.session_created(session=session, manager=self)
        return session

    def append(self, session_id: str, message: Message) -> Message:
        sid = validate_id(session_id)
        checked = self._checked(message)
        self.backend.append(sid, checked)
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

    def problems(self) -> dict[str, str]:
        """Damaged sessions the last ``list`` skipped: id -> reason."""
        return self.backend.problems()

    def get(self, session_id: str) -> Session:
        return self.backend.get(validate_id(session_id))

    def rename(self, session_id: str, new_name: str) -> Session:
        sid = validate_id(session_id)
        name = clean_name(new_name)
        old = self.backend.get(sid).name
        session = self.backend.update(sid, name=name)
        self.host.session_renamed(session=session, old_name=old, manager=self)
        return session

    def update(self, session_id: str, **fields: Any) -> Session:
        """Change archived, pinned, tags or metadata."""
        allowed = {"archived", "pinned", "tags", "metadata"}
        bad = set(fields) - allowed
        if bad:
            raise UsageError(
                f"cannot update {', '.join(sorted(bad))}; allowed: {', '.join(sorted(allowed))}"
            )
        probe = msgspec.structs.replace(self.backend.get(validate_id(session_id)), **fields)
        try:
            msgspec.convert(msgspec.to_builtins(probe), Session)
        except msgspec.ValidationError as exc:
            raise UsageError(validation_message(exc)) from exc
        _check_encodable(probe, "session")
        return self.backend.update(session_id, **fields)

    def archive(self, session_id: str, archived: bool = True) -> Session:
        return self.update(session_id, archived=archived)

    def delete(self, session_id: str) -> None:
        sid = validate_id(session_id)
        try:
            po_name: str | None = self.backend.get(sid).po_name
        except StorageError:
            po_name = None  # a damaged session can still be deleted; its PO is unknown
        self.backend.delete(sid)
        if po_name is not None and self.backend.get_current(po_name) == sid:
            self.backend.set_current(po_name, None)
        self.host.session_deleted(session_id=sid, po_name=po_name or "", manager=self)

    def duplicate(self, session_id: str, new_name: str | None = None) -> Session:
        source = self.get(session_id)
        name = new_name if new_name is not None else _suffixed(source.name, " (copy)")
        return self._derive(
            source, name, history=list(source.history), thread_type=source.thread_type
        )

    def fork(self, session_id: str, at: int | None = None, name: str | None = None) -> Session:
        """A new session with ``history[:at]`` (all of it by default), its parent recorded."""
        source = self.get(session_id)
        cut = len(source.history) if at is None else at
        if (
            not isinstance(cut, int)
            or isinstance(cut, bool)
            or cut < 0
            or cut > len(source.history)
        ):
            raise UsageError(f"fork point must be between 0 and {len(source.history)}, not {at!r}")
        label = name if name is not None else _suffixed(source.name, " (fork)")
        if isinstance(self.backend, SupportsFork):
            session = self.backend.fork(source.id, cut, clean_name(label))
            self.host.session_created(session=session, manager=self)
            return session
        return self._derive(
            source,
            label,
            history=list(source.history[:cut]),
            thread_type="fork",
            parent_id=source.id,
            parent_message_index=cut,
        )

    def _derive(
        self, source: Session, name: str, *, history: builtins.list[Message], **fields: Any
    ) -> Session:
        fields = {k: v for k, v in fields.items() if v is not None}
        return self.create(
            source.po_name,
            name,
            source=source.source,
            metadata=dict(source.metadata),
            history=history,
            tags=list(source.tags) if source.tags else None,
            **fields,
        )

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
        """Import every conversation in ``data``. Nothing is written unless all of it is valid."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if not isinstance(raw, bytes | bytearray):
            raise ImportFormatError("import data must be bytes or text")
        raw = bytes(raw)
        limits.check_size(raw)
        limits.check_nesting(raw)
        importer = self._pick_importer(raw, format, filename)
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
        if not loaded:
            raise ImportFormatError("the file holds no sessions")
        prepared = [self._imported_copy(s, importer.name, filename, po_name) for s in loaded]
        written: builtins.list[Session] = []
        try:
            for session in prepared:
                self.backend.create(session)
                written.append(session)
        except BaseException:
            # All or nothing: take back what this import already wrote before reporting the error.
            for session in written:
                try:
                    self.backend.delete(session.id)
                except Exception:
                    pass
            raise
        for session in written:
            self.host.session_created(session=session, manager=self)
        return written

    def _pick_importer(self, raw: bytes, format: str | None, filename: str | None) -> Any:
        importers = self.host.importers()
        if format is not None:
            if format not in importers:
                raise UnknownFormat(format, importers, kind="import format")
            return importers[format].value
        for contribution in importers.values():
            try:
                if contribution.value.sniff(raw, filename):
                    return contribution.value
            except Exception:
                continue
        raise ImportFormatError(
            f"no importer recognises this input; known formats: {', '.join(sorted(importers))} "
            "(choose one with --format)"
        )

    def _imported_copy(
        self, session: Any, format: str, filename: str | None, po_name: str | None
    ) -> Session:
        if not isinstance(session, Session):
            raise ImportFormatError(
                f"the {format} importer returned {type(session).__name__}, not a Session"
            )
        try:
            checked = msgspec.convert(msgspec.to_builtins(session), Session)
        except msgspec.ValidationError as exc:
            raise ImportFormatError(validation_message(exc)) from exc
        now = now_iso()
        origin: dict[str, Any] = {"id": checked.id, "format": format, "imported_at": now}
        if filename:
            origin["file"] = Path(filename).name
        return msgspec.structs.replace(
            checked,
            id=new_id(),
            name=_suffixed(checked.name, IMPORTED_SUFFIX),
            po_name=clean_po_name(po_name) if po_name else checked.po_name,
            metadata={**checked.metadata, "imported_from": origin},
            source="import",
            format_version=1,
        )

    # ------------------------------------------------------------------ search and resolve

    def search(
        self, query: str, po_name: str | None = None, *, limit: int = 200
    ) -> builtins.list[SearchHit]:
        if not isinstance(query, str) or not query.strip():
            raise UsageError("search needs some text to look for")
        if isinstance(self.backend, SupportsSearch):
            return builtins.list(self.backend.search(query, po_name=po_name, limit=limit))
        hits: builtins.list[SearchHit] = []
        raw = self.backend if isinstance(self.backend, SupportsRawRead) else None
        for summary in self.list(po_name):
            name_hit = query.lower() in summary.name.lower()
            if not name_hit and raw is not None:
                try:
                    if not raw_may_contain(raw.read_raw(summary.id), query):
                        continue
                except (OSError, StorageError):
                    continue
            try:
                session = self.backend.get(summary.id)
            except StorageError:
                continue
            hits.extend(hits_in(session, summary, query))
            if len(hits) >= limit:
                break
        return hits[:limit]

    def resolve(self, po_name: str | None, ref: str) -> SessionSummary:
        """Exact name, then unique id prefix, then unique name prefix, among the PO's sessions."""
        return resolve_ref(ref, self.list(po_name), po_name)

    # ------------------------------------------------------------------ current session per PO

    def peek_current(self, po_name: str) -> SessionSummary | None:
        """The PO's current session without creating one (most recent if none was chosen)."""
        sid = self.backend.get_current(po_name)
        sessions = self.list(po_name)
        for s in sessions:
            if s.id == sid:
                return s
        live = [s for s in sessions if not s.archived]
        return live[0] if live else None

    def current(self, po_name: str) -> Session:
        """The PO's current session; a "New Session" is created if it has none."""
        found = self.peek_current(po_name)
        if found is None:
            session = self.create(po_name)
            self.backend.set_current(po_name, session.id)
            return session
        return self.get(found.id)

    def switch(self, po_name: str, session_id: str) -> Session:
        session = self.get(session_id)
        if session.po_name != po_name:
            raise UsageError(
                f"session '{session.name}' belongs to {session.po_name}, not {po_name}"
            )
        self.backend.set_current(po_name, session.id)
        self.host.session_switched(po_name=po_name, session_id=session.id, manager=self)
        return session

    # ------------------------------------------------------------------ health

    def check(self, repair: bool = False) -> HealthReport:
        return self.backend.check(repair=repair)

    def session_path(self, session_id: str) -> Path | None:
        if isinstance(self.backend, SupportsPaths):
            return self.backend.path_for(session_id)
        return None

    # ------------------------------------------------------------------ helpers

    def _checked(self, message: Message) -> Message:
        if not isinstance(message, Message):
            raise UsageError(f"expected a Message, not {type(message).__name__}")
        try:
            checked = msgspec.convert(msgspec.to_builtins(message), Message)
        except msgspec.ValidationError as exc:
            raise UsageError(f"invalid message: {validation_message(exc)}") from exc
        _check_encodable(checked, "message")
        return checked


def _check_encodable(value: object, what: str) -> None:
    """Text that cannot be written as UTF-8 (lone surrogates) is refused before it reaches a file."""
    try:
        msgspec.json.encode(value)
    except (UnicodeEncodeError, msgspec.EncodeError, TypeError) as exc:
        raise UsageError(f"invalid {what}: {exc}") from exc


def _suffixed(name: str, suffix: str) -> str:
    room = NAME_MAX - len(suffix)
    return (name[:room].rstrip() or "Session") + suffix
