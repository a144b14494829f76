"""Command palette providers. Titles are category-prefixed (``session: Rename``).

``SessionCommands`` offers the session actions, a ``session: Switch to <name> (<po>)`` per open
session and a ``session: Switch to <name>`` per other session of the PO, an ``export:
<format>`` per exporter plugin and ``plugins: List``. ``SlashCommands`` turns every registered
slash command (plugins' included) into an entry, so plugins extend the palette
by registering commands.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..commands import actions
from ..errors import PromptSessionsError
from ..runtime import status_label
from ..text import visible

if TYPE_CHECKING:
    from .screens.main import MainScreen

SWITCH_ENTRIES = 500  # the most recent sessions offered as "Switch to ..."
BUILTIN_PALETTE = {
    "session.new",
    "session.rename",
    "session.delete",
    "session.export",
    "plugins",
    "sessions",
}

Entry = tuple[str, Callable[[], Any], str]


def _main(provider: Provider) -> MainScreen | None:
    from .screens.main import MainScreen

    screen = provider.screen
    return screen if isinstance(screen, MainScreen) else None


class _EntryProvider(Provider):
    # Textual runs the app's providers (a set, so in no fixed order) side by side and keeps
    # equal scores in arrival order; a weight per provider makes the order of hits stable.
    weight = 1.0

    @abstractmethod
    def entries(self, main: MainScreen) -> list[Entry]:
        """The palette entries this provider offers for the main screen."""

    async def discover(self) -> Hits:
        main = _main(self)
        if main is None:
            return
        for title, run, help in self.entries(main):
            if not title.startswith("session: Switch to"):
                yield DiscoveryHit(title, run, help=help)

    async def search(self, query: str) -> Hits:
        main = _main(self)
        if main is None:
            return
        matcher = self.matcher(query)
        for title, run, help in self.entries(main):
            score = matcher.match(title)
            if score > 0:
                yield Hit(score * self.weight, matcher.highlight(title), run, help=help)


class SessionCommands(_EntryProvider):
    def entries(self, main: MainScreen) -> list[Entry]:
        ctx = main.tui.ctx
        found: list[Entry] = [
            ("session: New", main.action_new_session, "start a new session (asks for a name)"),
            ("session: Rename", main.action_rename, "rename the shown session"),
            ("session: Delete", main.action_delete, "delete the shown session (asks first)"),
            ("session: Picker", main.action_picker, "choose one of this PO's sessions (S)"),
            (
                "session: Explorer",
                main.action_explorer,
                "every session of every PO, with search (E)",
            ),
            ("plugins: List", partial(main.run_command, "/plugins"), "the plugins and their hooks"),
        ]
        for name, _contribution in sorted(ctx.host.exporters().items()):
            found.append(
                (
                    f"export: {name.title()}",
                    partial(self.export, main, name),
                    f"write the shown session as {name}",
                )
            )
        offered = {main.session_id}
        for live in main.coord.open_sessions():  # every open session, of any PO
            if live.session_id not in offered:
                offered.add(live.session_id)
                help = f"open, {status_label(live.status, live.retry_attempt)}" + (
                    f", {live.unread} unread" if live.unread else ""
                )
                found.append(
                    (
                        visible(f"session: Switch to {live.name} ({live.po_name})", one_line=True),
                        partial(main.switch_to, live.po_name, live.session_id, land=True),
                        help,
                    )
                )
        for s in ctx.manager.list(main.po_name, include_archived=False)[:SWITCH_ENTRIES]:
            if s.id not in offered:
                found.append(
                    (
                        visible(f"session: Switch to {s.name}", one_line=True),
                        partial(main.switch_to, s.po_name, s.id, land=True),
                        s.id[:8],
                    )
                )
        return found

    @staticmethod
    def export(main: MainScreen, format: str) -> None:
        if main.session_id is None:
            main.notify("Nothing to export yet: this PO has no session", severity="warning")
            return
        try:
            path = actions.export_to_file(
                main.tui.ctx.manager, main.session_id, format, directory=main.tui.export_dir
            )
        except PromptSessionsError as exc:
            main.notify(str(exc), title=exc.title, severity="error")
            return
        main.notify(f"Exported to {path}", title="Exported")
        main.conversation.note(f"Exported to {path}")


class SlashCommands(_EntryProvider):
    weight = 0.99  # below the richer session actions of the same name

    def entries(self, main: MainScreen) -> list[Entry]:
        found: list[Entry] = []
        for command in main.router.commands:
            if command.name in BUILTIN_PALETTE:
                continue  # offered above with a richer action
            category = getattr(command, "category", "command")
            title = getattr(command, "palette_title", None) or command.name.replace(".", " ")
            found.append(
                (
                    f"{category}: {title}",
                    partial(self.run, main, command),
                    getattr(command, "usage", ""),
                )
            )
        return found

    @staticmethod
    def run(main: MainScreen, command: Any) -> None:
        typed = command.name.replace(".", " ")
        if getattr(command, "takes_arguments", False) and "<" in getattr(command, "usage", ""):
            from .widgets.message_box import MessageBox

            box = main.query_one(MessageBox)
            box.text = f"/{typed} "
            box.move_cursor(box.document.end)
            box.focus()
            return
        main.run_command(f"/{typed}")
