"""One family of errors. Each carries a message a user can act on; the CLI prints it as one line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class PromptSessionsError(Exception):
    """Base of every error the project raises on purpose."""

    title = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SessionNotFound(PromptSessionsError):
    """No session has this id, or none matches what was typed (``ref``), among ``po_name``'s
    sessions when given. Raised by ``SessionManager.get``, ``resolve`` and every write."""

    title = "Session not found"

    def __init__(self, ref: str, po_name: str | None = None, hint: str | None = None) -> None:
        where = f" for PO '{_shorten(po_name)}'" if po_name else ""
        said = f"; {hint}" if hint else ""
        super().__init__(f"no session matches '{_shorten(ref)}'{where}{said}")
        self.ref = ref
        self.po_name = po_name


class AmbiguousSession(PromptSessionsError):
    """What was typed (``ref``) matches several sessions; ``candidates`` holds ``(id, name)``
    pairs to choose from (DESIGN section 6: names, then id prefixes, then name prefixes).
    ``po_names`` (id -> PO), when given and the candidates belong to several POs, names each
    one's PO in the message: two sessions of one name in two POs look alike otherwise."""

    title = "Ambiguous session"

    def __init__(
        self,
        ref: str,
        candidates: Iterable[tuple[str, str]],
        po_names: Mapping[str, str] | None = None,
    ) -> None:
        self.ref = ref
        self.candidates = list(candidates)
        pos = po_names or {}
        several = len({pos.get(sid) for sid, _ in self.candidates}) > 1

        def where(sid: str) -> str:
            po = pos.get(sid)
            return f"{sid[:8]} of {_shorten(po)}" if several and po is not None else sid[:8]

        listed = ", ".join(
            f"'{_shorten(name)}' ({where(sid)})" for sid, name in self.candidates[:10]
        )
        more = f" and {len(self.candidates) - 10} more" if len(self.candidates) > 10 else ""
        super().__init__(f"'{_shorten(ref)}' matches several sessions: {listed}{more}")


class InvalidName(PromptSessionsError):
    """A session or PO name that cannot be stored: empty, too long, control characters,
    slashes in a PO name, or text that is not valid Unicode."""

    title = "Invalid name"


class InvalidSessionId(PromptSessionsError):
    """Something used as a session id is not a lowercase UUID; raised before it touches a path
    (DESIGN section 4, "Hostile input is data")."""

    title = "Invalid session id"

    def __init__(self, value: object) -> None:
        super().__init__(f"not a valid session id: {_shorten(repr(value))}")
        self.value = value


# The plugins this project ships beside the core (``plugins/``, DESIGN section 9), by what
# each registers: a name a person asks for before installing it gets the way to install it.
SHIPPED_PLUGINS = {
    ("import format", "chatgpt"): "prompt-sessions-chatgpt",
    ("export format", "html"): "prompt-sessions-html",
    ("responder", "llm"): "prompt-sessions-llm",
    ("storage backend", "postgres"): "prompt-sessions-postgres",
}


class UnknownFormat(PromptSessionsError):
    """No plugin registered this exporter, importer, backend or responder name (``kind``);
    ``known`` lists the names that are registered."""

    title = "Unknown format"

    def __init__(self, name: str, known: Iterable[str], kind: str = "format") -> None:
        self.name = name
        self.known = sorted(known)
        self.title = f"Unknown {kind}"
        plugin = SHIPPED_PLUGINS.get((kind, name))
        hint = (
            f" (the {plugin} plugin adds it: pip install {plugin}, or plugins/{plugin} "
            "in the source)"
            if plugin
            else ""
        )
        super().__init__(
            f"unknown {kind} '{_shorten(name)}'; known: {', '.join(self.known) or '(none)'}{hint}"
        )


class ImportFormatError(PromptSessionsError):
    """An import file is not in the format asked for, or exceeds the size and depth limits
    (``limits.py``); nothing of it is stored."""

    title = "Cannot import"


class StorageError(PromptSessionsError):
    """The store could not do what was asked (an I/O error, a full disk, a refused path). Every
    error a backend raises on purpose is one of these or a subclass; nothing acknowledged is
    lost when it is raised (DESIGN section 4)."""

    title = "Storage error"


class CorruptSession(StorageError):
    """A session file that cannot be read. It is reported and kept, never deleted."""

    title = "Damaged session"

    def __init__(self, session_id: str, reason: str) -> None:
        super().__init__(f"session {session_id} is damaged: {reason}")
        self.session_id = session_id
        self.reason = reason


class NewerSession(CorruptSession):
    """A session written by a newer version in a shape this one cannot read (DESIGN section 4,
    "Versioned"). Reported, never rewritten or moved aside."""

    title = "Newer session"

    def __init__(self, session_id: str, version: int) -> None:
        super().__init__(
            session_id,
            f"format_version {version} is newer than this program understands; "
            "upgrade prompt-sessions to read it",
        )
        self.version = version


class LockTimeout(StorageError):
    """The store's write lock (``lock_path``) was not free within ``timeout`` seconds
    (DESIGN section 4, "Many processes, one store"); ``holder`` names the process when known."""

    title = "Store busy"

    def __init__(self, lock_path: str, timeout: float, holder: str | None = None) -> None:
        by = f" (held by {holder})" if holder else ""
        super().__init__(
            f"could not lock {lock_path} within {timeout:g} s{by}; another process is writing"
        )
        self.lock_path = lock_path
        self.timeout = timeout
        self.holder = holder


class ReadOnlyStore(StorageError):
    """A write to a store that may only be read: a newer version wrote it, or its folder or
    database is not writable (DESIGN section 4, "Versioned")."""

    title = "Read-only store"


class PluginError(PromptSessionsError):
    """A plugin could not be loaded or registered something invalid; the message names the
    plugin (DESIGN section 7)."""

    title = "Plugin error"


class ResponderError(PromptSessionsError):
    """A responder failed. ``transient`` errors may be retried."""

    title = "Responder failed"

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class SettingError(ResponderError):
    """A responder setting (``setting``, a key of ``[responders.NAME]`` in config.toml or of a
    PO's front matter) that cannot be used: ``problem`` says why, as the end of a sentence
    ("must be true or false, not 'maybe'"). Responders raise it without ``where``; the core,
    which read the settings, raises it again naming the file they came from
    (:meth:`placed`), so the line says what to fix and where (DESIGN section 11)."""

    def __init__(self, setting: str, problem: str, where: str | None = None) -> None:
        place = f" in {where}" if where else ""
        super().__init__(f"setting '{_shorten(setting)}'{place} {problem}")
        self.setting = setting
        self.problem = problem
        self.where = where

    def placed(self, where: str) -> SettingError:
        """The same error, naming ``where`` the setting was read (``config.toml
        [responders.llm]``, ``objects/coordinator.md front matter``)."""
        return SettingError(self.setting, self.problem, where)


class UsageError(PromptSessionsError):
    """Bad arguments to a command (slash or CLI)."""

    title = "Usage"


class NotLastMessage(UsageError):
    """A rewrite of a session's last message found another message last: a writer appended
    since (``replace_last``, DESIGN section 4, "no lost update"). Nothing was written."""

    title = "Not the last message"

    def __init__(self, session_id: str, index: int, count: int) -> None:
        super().__init__(
            f"message {index} is not the last of session {session_id}: it has {count} messages"
        )
        self.session_id = session_id
        self.index = index
        self.count = count


class StorageWarning(UserWarning):
    """A tidy-up after a write that succeeded (folding the catalog journal) could not be done.

    Issued with :func:`warnings.warn` by ``close()``; the write itself is on disk, and the next
    process to open the store does the tidy-up (DESIGN section 4).
    """


def _shorten(text: str, limit: int = 80) -> str:
    # Control characters (a carriage return, an escape sequence) would break the one-line
    # message or the terminal: show them escaped, by the rule every output follows.
    from .text import visible

    text = visible(text, one_line=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
