"""The plugin host: a small typed wrapper around pluggy's PluginManager.

Built-ins are registered exactly like third-party plugins. External plugins (entry points in the
``prompt_sessions`` group) load lazily, the first time something needs more than the built-ins,
so a ``list`` does not pay for scanning installed packages. A plugin that fails to load or to
register is reported by name and left out; it never takes the app down.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import PluginError, UnknownFormat
from .plugin_manager import IsolatingPluginManager
from .plugin_registry import Contribution, Failure, PluginInfo, collect

if TYPE_CHECKING:
    import click

    from .commands.base import SlashCommand
    from .manager import SessionManager
    from .models import Message, Session
    from .protocols import Exporter, Frontend, Importer, ResponderFactory, StorageFactory, Tool

ENTRY_POINT_GROUP = hookspecs.PROJECT
DEFAULT_PLUGINS = (
    "prompt_sessions.default_plugins.json_storage",
    "prompt_sessions.default_plugins.sqlite_storage",
    "prompt_sessions.default_plugins.exporters",
    "prompt_sessions.default_plugins.importers",
    "prompt_sessions.default_plugins.echo",
    "prompt_sessions.default_plugins.slash_commands",
    "prompt_sessions.default_plugins.tui",
    "prompt_sessions.default_plugins.mcp",
    "prompt_sessions.default_plugins.web",
)


def _env_list(name: str) -> list[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return [item.strip() for item in raw.split(",") if item.strip()]


class PluginHost:
    """Owns the PluginManager. Build one with :meth:`create`; tests pass plugins directly."""

    def __init__(
        self,
        pm: pluggy.PluginManager,
        *,
        entry_points: bool = True,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.pm = pm
        self._want_entry_points = entry_points
        self._externals_loaded = not entry_points
        self._builtin_names: set[str] = set()
        self._dists: dict[str, tuple[str, str]] = {}
        self.failures: list[Failure] = []
        self._warn = warn or (lambda text: print(f"Warning: {text}", file=sys.stderr))
        self._cache: dict[tuple[str, bool], dict[str, Contribution[Any]]] = {}
        self.tracing = False
        if isinstance(pm, IsolatingPluginManager):
            pm.on_error = self._hook_failed
            pm.on_call = lambda plugin, hook: self._trace(f"{hook} -> {plugin}")

    @classmethod
    def create(
        cls,
        *,
        builtins: bool = True,
        entry_points: bool = True,
        plugins: Iterable[object] = (),
        warn: Callable[[str], None] | None = None,
    ) -> PluginHost:
        pm = IsolatingPluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        host = cls(pm, entry_points=entry_points, warn=warn)
        disabled = set(_env_list("PROMPT_SESSIONS_DISABLE_PLUGINS") or [])
        if builtins:
            for module_name in DEFAULT_PLUGINS:
                short = module_name.rsplit(".", 1)[-1]
                if short in disabled or module_name in disabled:
                    continue
                host._register(importlib.import_module(module_name), short, builtin=True)
        for plugin in plugins:
            host._register(plugin, getattr(plugin, "__name__", None) or type(plugin).__name__)
        if os.environ.get("PROMPT_SESSIONS_TRACE_PLUGINS") == "1":
            # pluggy traces every hook call; the host adds a line per contribution registered.
            host.tracing = True
            pm.trace.root.setwriter(lambda text: sys.stderr.write(f"[plugins] {text}"))
            pm.enable_tracing()
        return host

    # ------------------------------------------------------------------ loading

    def _register(self, plugin: object, name: str, *, builtin: bool = False) -> bool:
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # a broken plugin is reported, not fatal
            self._fail(name, f"{type(exc).__name__}: {exc}")
            return False
        unknown = [
            impl.function.__name__
            for caller in self.pm.get_hookcallers(plugin) or []
            for impl in caller.get_hookimpls()
            if caller.spec is None and impl.plugin is plugin
        ]
        if unknown:
            self.pm.unregister(plugin)
            self._fail(name, f"implements unknown hooks: {', '.join(sorted(set(unknown)))}")
            return False
        if builtin:
            self._builtin_names.add(name)
        self._cache.clear()
        return True

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object at run time (tests, embedding apps); returns its name.

        Raises PluginError when the plugin is refused (for example, it implements unknown hooks).
        """
        name = (
            name or getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{id(plugin):x}"
        )
        if not self._register(plugin, name):
            raise PluginError(f"plugin '{name}' was refused: {self.failures[-1].error}")
        return name

    def unregister(self, name: str) -> None:
        """Remove a plugin registered by :meth:`register`."""
        self.pm.unregister(name=name)
        self._cache.clear()

    def _trace(self, text: str) -> None:
        if self.tracing:
            sys.stderr.write(f"[plugins] {text}\n")

    def _fail(self, plugin: str, error: str) -> None:
        self.failures.append(Failure(plugin, error))
        self._warn(f"plugin '{plugin}' was not loaded: {error}")

    def load_external(self) -> None:
        """Load entry-point plugins once, honouring the allow, block and trace variables."""
        if self._externals_loaded:
            return
        self._externals_loaded = True
        from importlib.metadata import entry_points

        allowed = _env_list("PROMPT_SESSIONS_PLUGINS")
        disabled = set(_env_list("PROMPT_SESSIONS_DISABLE_PLUGINS") or [])
        seen: set[str] = set()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in seen or ep.name in disabled:
                continue
            if allowed is not None and ep.name not in allowed:
                continue
            seen.add(ep.name)
            try:
                plugin = ep.load()
            except Exception as exc:
                self._fail(ep.name, f"{type(exc).__name__}: {exc}")
                continue
            if self._register(plugin, ep.name) and ep.dist is not None:
                self._dists[ep.name] = (ep.dist.name, ep.dist.version)
        if allowed:
            for name in allowed:
                if name not in seen:
                    self._fail(name, "no installed plugin has that name (PROMPT_SESSIONS_PLUGINS)")

    # ------------------------------------------------------------------ contributions

    def _collect(
        self, hook: str, kind: str, *, external: bool = True, keyed: bool = False
    ) -> dict[str, Contribution[Any]]:
        if external:
            self.load_external()
        cache_key = (hook, external)
        if cache_key not in self._cache:
            self._cache[cache_key] = collect(
                self.pm, hook, kind, keyed=keyed, trace=self._trace, warn=self._warn
            )
        return self._cache[cache_key]

    def storage_backends(self) -> dict[str, Contribution[StorageFactory]]:
        """Every storage backend, by name (``register_storage_backends``)."""
        return self._collect("register_storage_backends", "storage backend", keyed=True)

    def storage_factory(self, name: str) -> StorageFactory:
        """Built-ins answer without loading external plugins; others load them first.

        Raises:
            UnknownFormat: no backend has that name (the message lists the known ones).
        """
        builtin = self._collect(
            "register_storage_backends", "storage backend", external=False, keyed=True
        )
        if name in builtin:
            return builtin[name].value
        backends = self.storage_backends()
        if name not in backends:
            raise UnknownFormat(name, backends, kind="storage backend")
        return backends[name].value

    def exporters(self) -> dict[str, Contribution[Exporter]]:
        """Every export format, by name (``register_exporters``)."""
        return self._collect("register_exporters", "exporter")

    def importers(self) -> dict[str, Contribution[Importer]]:
        """Every import format, by name (``register_importers``)."""
        return self._collect("register_importers", "importer")

    def responders(self) -> dict[str, Contribution[ResponderFactory]]:
        """Every responder factory, by name (``register_responders``)."""
        return self._collect("register_responders", "responder", keyed=True)

    def tools(self) -> dict[str, Contribution[Tool]]:
        """Tools from ``register_tools``: name -> the function a PO may call."""
        return self._collect("register_tools", "tool", keyed=True)

    def frontends(self) -> dict[str, Contribution[Frontend]]:
        """Every frontend, by name (``register_frontends``)."""
        return self._collect("register_frontends", "frontend", keyed=True)

    def commands(self) -> dict[str, Contribution[SlashCommand]]:
        """Every slash command, by name (``register_commands``)."""
        return self._collect("register_commands", "command")

    def exporter(self, name: str) -> Exporter:
        """The exporter called ``name``; UnknownFormat (listing the known ones) if none."""
        found = self.exporters()
        if name not in found:
            raise UnknownFormat(name, found, kind="export format")
        return found[name].value

    def responder_factory(self, name: str) -> ResponderFactory:
        """The responder factory called ``name``; UnknownFormat (listing the known ones) if none."""
        found = self.responders()
        if name not in found:
            raise UnknownFormat(name, found, kind="responder")
        return found[name].value

    def config_tables(self, *, external: bool = True) -> dict[str, dict[str, Any]]:
        """Plugin tables of config.toml: ``{"storage": {backend: schema}, "responders": {...}}``.

        A schema is the Struct type a factory declares as ``config_schema``, or None when it
        declares none (its table is taken as it is). DESIGN section 3.
        """
        tables: dict[str, dict[str, Any]] = {}
        for key, hook, kind in (
            ("storage", "register_storage_backends", "storage backend"),
            ("responders", "register_responders", "responder"),
        ):
            found = self._collect(hook, kind, external=external, keyed=True)
            tables[key] = {n: getattr(c.value, "config_schema", None) for n, c in found.items()}
        return tables

    def add_cli_commands(self, cli: click.Group) -> None:
        """Call ``register_cli_commands``: plugins add their click commands to ``cli``."""
        self.load_external()
        self.pm.hook.register_cli_commands(cli=cli)

    # ------------------------------------------------------------------ questions

    def has_session_title(self) -> bool:
        """Whether any plugin implements ``session_title`` (so asking it may be skipped)."""
        self.load_external()
        return bool(self.pm.hook.session_title.get_hookimpls())

    def session_title(self, session: Session, manager: SessionManager) -> str | None:
        """Call ``session_title`` (firstresult): a better name for an auto-named session."""
        self.load_external()
        result = self.pm.hook.session_title(session=session, manager=manager)
        return result if isinstance(result, str) else None

    # ------------------------------------------------------------------ events

    def _hook_failed(self, plugin: str, hook: str, exc: Exception) -> None:
        """A hook implementation raised: name the plugin; the other implementations still run."""
        if hook.startswith("register_"):
            self._fail(plugin, f"{hook} raised {type(exc).__name__}: {exc}")
        else:
            self._warn(f"plugin '{plugin}' failed in {hook}: {type(exc).__name__}: {exc}")

    def session_attention(self, session: Session, reason: str, manager: SessionManager) -> None:
        """Call ``session_attention`` on every plugin (DESIGN section 15, "Attention")."""
        self.load_external()
        self.pm.hook.session_attention(session=session, reason=reason, manager=manager)

    def session_created(self, session: Session, manager: SessionManager) -> None:
        """Call ``session_created`` on every plugin (DESIGN section 7)."""
        self.load_external()
        self.pm.hook.session_created(session=session, manager=manager)

    def session_renamed(self, session: Session, old_name: str, manager: SessionManager) -> None:
        """Call ``session_renamed`` on every plugin (DESIGN section 7)."""
        self.load_external()
        self.pm.hook.session_renamed(session=session, old_name=old_name, manager=manager)

    def session_deleted(self, session_id: str, po_name: str, manager: SessionManager) -> None:
        """Call ``session_deleted`` on every plugin (DESIGN section 7)."""
        self.load_external()
        self.pm.hook.session_deleted(session_id=session_id, po_name=po_name, manager=manager)

    def message_appended(self, session_id: str, message: Message, manager: SessionManager) -> None:
        """Call ``message_appended`` on every plugin (DESIGN section 7)."""
        self.load_external()
        caller = self.pm.hook.message_appended
        # Called for every message: with no plugin to hear it and no trace to show the call,
        # pluggy's dispatch is skipped (a few microseconds of each append; DESIGN section 10).
        if self.tracing or caller.get_hookimpls():
            caller(session_id=session_id, message=message, manager=manager)

    def session_switched(self, po_name: str, session_id: str, manager: SessionManager) -> None:
        """Call ``session_switched`` on every plugin (DESIGN section 7)."""
        self.load_external()
        self.pm.hook.session_switched(po_name=po_name, session_id=session_id, manager=manager)

    # ------------------------------------------------------------------ introspection

    def plugins(self, include_builtins: bool = False) -> list[PluginInfo]:
        self.load_external()
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            builtin = name in self._builtin_names
            if builtin and not include_builtins:
                continue
            hooks = sorted(
                {
                    impl.function.__name__
                    for caller in self.pm.get_hookcallers(plugin) or []
                    for impl in caller.get_hookimpls()
                    if impl.plugin is plugin
                }
            )
            package, version = self._dists.get(name, (None, None))
            if builtin:
                from . import __version__

                package, version = "prompt-sessions", __version__
            infos.append(
                PluginInfo(
                    name=name, version=version, hooks=hooks, builtin=builtin, package=package
                )
            )
        return sorted(infos, key=lambda i: (not i.builtin, i.name))
