"""Per-invocation state: the folder, and the manager and plugin host built only when needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..context import AppContext
    from ..manager import SessionManager
    from ..plugins import PluginHost


class CliState:
    # A plain class: building a dataclass costs every command about a millisecond.
    def __init__(self, directory: str | None = None, debug: bool = False) -> None:
        self.directory = directory
        self.debug = debug
        self._host: PluginHost | None = None
        self._manager: SessionManager | None = None

    @property
    def host(self) -> PluginHost:
        if self._host is None:
            from ..interrupts import held
            from ..plugins import PluginHost

            with held():  # loading plugins: Ctrl-C waits for the end (see interrupts)
                self._host = PluginHost.create()
        return self._host

    @property
    def manager(self) -> SessionManager:
        if self._manager is None:
            from ..interrupts import held
            from ..manager import SessionManager

            with held():  # opening the store compiles config types: see interrupts
                self._manager = SessionManager.open(self.directory, host=self.host)
        return self._manager

    def app_context(self) -> AppContext:
        from ..context import AppContext

        manager = self.manager
        return AppContext(
            manager=manager, host=manager.host, root=manager.root, config=manager.config
        )

    def close(self) -> None:
        if self._manager is not None:
            import warnings

            from ..errors import StorageWarning
            from .output import warn

            # A tidy-up that fails after the command's writes succeeded is a warning, not an
            # error: the command did what it said, and exits 0.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", StorageWarning)
                self._manager.close()
            self._manager = None
            for item in caught:
                if issubclass(item.category, StorageWarning):
                    warn(str(item.message))
                else:
                    warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
