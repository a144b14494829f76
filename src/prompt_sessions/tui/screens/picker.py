"""The session picker: the current PO's sessions; returns the chosen id (None on Esc)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label

from ...commands import actions
from ...context import AppContext
from ...errors import PromptSessionsError
from ...models import SessionSummary
from ...organise.between_pos import orphaned
from ...organise.trash import undo_hint
from ...storage.base import SupportsTrash
from ...text import counted, quoted, visible
from ..name_notes import notify_name_clash
from ..same_names import id_tags
from ..widgets.hint_line import HintLine
from ..widgets.row_list import ROW_MOVE_KEYS, RowList
from .confirm import ConfirmScreen
from .follows_store import FollowsStore
from .landing import opened_to_land
from .name_prompt import NamePrompt
from .picker_boxes import PickerBoxes
from .picker_rows import Heading, Row, grouped, row_key, session_line

RECHECK_AFTER = 0.1  # seconds before the store is read again behind rows known beforehand
UNDO_SECONDS = 10.0  # how long after a delete (or an archive) ``u`` brings the session back
NO_SESSIONS = "No sessions yet: press n for a new one"
HINTS = (
    "Enter select",
    "n new",
    "r rename",
    "d delete",
    "u undo",
    "p pin",
    "t tags",
    "a archive",
    "c copy to PO",
    "/ filter",
    "Esc cancel",
)


class SessionPicker(PickerBoxes, FollowsStore[tuple[list[SessionSummary], set[str]]]):
    """``n`` new, ``r`` rename, ``d`` delete (``u`` undoes it for a moment), ``p`` pin, ``t``
    tags, ``a`` archive, ``c`` copy to a PO, ``/`` filter, Enter select, Esc cancel. Pinned
    sessions come first; orphaned sessions of every PO follow under their own heading (DESIGN
    section 14). The hint line names every key, on two lines when narrow.

    ``known`` rows (the runtime's last reading of the catalog) are shown at once and the store
    is read again in a thread; the rows are replaced only if that reading differs. The store
    is read again so whenever it changes while the picker is open (``FollowsStore``).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # keys that open a prompt, like r and / below, are priority keys: letters typed right
        # after them go into what they open, never to the rows (a would archive, d delete)
        Binding("n", "key('new')", "New", priority=True),
        Binding("r", "rename", "Rename", priority=True),
        Binding("d", "key('delete')", "Delete", priority=True),
        Binding("p", "key('pin')", "Pin", priority=True),
        Binding("t", "key('tags')", "Tags", priority=True),
        Binding("a", "key('archive')", "Archive", priority=True),
        Binding("u", "key('undo_delete')", "Undo delete or archive", priority=True),
        Binding("c", "key('copy')", "Copy to PO", priority=True),
        Binding("slash", "filter", "Filter", priority=True),
        Binding("escape", "back", "Cancel"),
        # on the rows, a priority key: the choice is made before the keys typed right after it
        # are handled, so they reach the chosen conversation's message box (``LandingModal``)
        Binding("enter", "choose", "Show", show=False, priority=True),
        # the moves on the rows are priority keys too, so that keys typed at once act in the
        # order typed (Down then Enter shows the session below); from the filter box the
        # arrows go on to the rows, where r, d and Enter act
        Binding("down", "arrow(1)", "Rows", show=False, priority=True),
        Binding("up", "arrow(-1)", "Rows", show=False, priority=True),
        *ROW_MOVE_KEYS,
    ]
    DEFAULT_CSS = """
    SessionPicker { align: center middle; }
    SessionPicker > Vertical {
        width: 90%; max-width: 100; height: 80%; border: thick $accent; background: $surface;
    }
    SessionPicker #title { padding: 0 1; text-style: bold; }
    SessionPicker Input { display: none; }
    SessionPicker Input.-shown { display: block; }
    SessionPicker .hint { padding: 0 1; }
    """

    def __init__(
        self,
        ctx: AppContext,
        po_name: str,
        current_id: str | None,
        clock: Callable[[], datetime],
        known: list[SessionSummary] | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.known = known
        self.po_name = po_name
        self.current_id = current_id
        self.clock = clock
        self.all_rows: list[SessionSummary] = []
        self.orphan_ids: set[str] = set()
        self._position: tuple[int | None, int] = (0, 0)  # place and session count shown
        self._headings: list[int] = []  # the rows that are group headings, not sessions
        self.filter_text = ""
        self._id_tags: dict[str, str] = {}  # short ids of sessions sharing a name
        # the last delete: (id, monotonic time, whether it was the current session)
        self._deleted: tuple[str, float, bool] | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text(), id="title")
            # the filter and rename boxes are mounted when first asked for: fewer widgets to open
            yield RowList(self.render_row, empty_text=NO_SESSIONS, id="sessions")
            yield HintLine(HINTS, max_lines=2, classes="hint")

    def on_mount(self) -> None:
        self.reload(select=self.current_id, rows=self.known)
        if self.known is not None:
            # re-read once the screen has settled: reading 10,000 entries in a thread competes for
            # the interpreter with the first frames, and no one acts on a list within 0.1 s
            self.set_timer(RECHECK_AFTER, self.store_changed)
        self.rows_widget.focus()

    def read_store(self) -> tuple[list[SessionSummary], set[str]]:
        return self._read()

    def _read(self) -> tuple[list[SessionSummary], set[str]]:
        """The PO's sessions and the orphaned ones of every PO, and the orphans' ids. Archived
        sessions are left out, but for the one on screen: the picker never hides where you are."""
        found = [s for s in self.ctx.manager.list() if not s.archived or s.id == self.current_id]
        lost = orphaned(self.ctx.manager, found)
        return [s for s in found if s.po_name == self.po_name or s.id in lost], lost

    def show_read(self, read: tuple[list[SessionSummary], set[str]]) -> None:
        """The rows read again (``FollowsStore``), shown if they differ, with the filter, the
        session under the cursor and the scroll kept."""
        rows, lost = read
        if rows != self.all_rows or lost != self.orphan_ids:
            self.now = self.clock()
            self.all_rows, self.orphan_ids = rows, lost
            self._apply(keep=True)

    def title_text(self, cursor: int | None = 0, count: int = 0) -> Text:
        """The title, with where the cursor is among the ``count`` sessions listed (the list has
        no scrollbar); ``cursor`` None is a heading row, which has no place among them."""
        title = Text(f"Sessions of {visible(self.po_name, one_line=True)}")
        if count and cursor is None:
            title.append(f"  {counted(count, 'session')}", style="dim")
        elif count and cursor is not None:
            title.append(f"  {cursor + 1:,} of {count:,}", style="dim")
        return title

    def _show_position(self) -> None:
        # headings are rows of the list but not sessions: neither counted nor a place
        rows = self.rows_widget
        at = rows.cursor
        cursor = None if at in self._headings else at - sum(1 for h in self._headings if h < at)
        where = (cursor, len(rows.rows) - len(self._headings))
        if where != self._position:  # an unchanged title is not drawn again
            self._position = where
            self.query_one("#title", Label).update(self.title_text(*where))

    def on_row_list_highlighted(self, event: RowList.Highlighted) -> None:
        self._show_position()

    @property
    def rows_widget(self) -> RowList:
        return self.query_one("#sessions", RowList)

    def render_row(self, row: Row, width: int) -> Text:
        if isinstance(row, Heading):
            return row.render(width)
        return session_line(
            row,
            width,
            self.now,
            self.current_id,
            self.po_name,
            self.orphan_ids,
            self._id_tags.get(row.id),
        )

    def reload(self, select: str | None = None, rows: list[SessionSummary] | None = None) -> None:
        """Show ``rows`` (the PO's, known beforehand), or the store's sessions of the PO and the
        orphaned ones, keeping ``select`` under the cursor."""
        self.now = self.clock()
        self.drop_readings_under_way()  # what is shown now is newer than what they read
        if rows is None:
            self.all_rows, self.orphan_ids = self._read()
        else:
            self.all_rows = rows
        self._apply(select)

    def _apply(self, select: str | None = None, keep: bool = False) -> None:
        """Show the rows the filter keeps, ``select`` under the cursor; with ``keep``, the
        session under the cursor stays there, and the scroll too (rows read again)."""
        # over every listed session, not only the filtered ones: a short id stays as typing
        # in the filter narrows the list
        self._id_tags = id_tags((s.id, s.name) for s in self.all_rows)
        rows = grouped(self.all_rows, self.orphan_ids, self.filter_text)
        self._headings = [i for i, row in enumerate(rows) if isinstance(row, Heading)]
        cursor = 0
        if select:
            cursor = next((i for i, s in enumerate(rows) if getattr(s, "id", None) == select), 0)
        self.rows_widget.empty_text = self.empty_text()
        if keep:
            self.rows_widget.keep_rows(rows, key=row_key)
        else:
            self.rows_widget.set_rows(rows, cursor)
        self._show_position()

    def empty_text(self) -> str:
        """What an empty list says: that the PO has no session, or that none matches the
        filter (and how to clear it)."""
        if not self.filter_text:
            if self.all_rows:
                return NO_SESSIONS  # not drawn: the list has rows
            # read only for an empty list: archived sessions are not listed here
            archived = sum(1 for s in self.ctx.manager.list(self.po_name) if s.archived)
            if archived:
                return (
                    f"No sessions but {counted(archived, 'archived one')}: "
                    "E, Down, a lists them; n makes a new one"
                )
            return NO_SESSIONS
        return f"No session name holds {quoted(self.filter_text)}: Esc clears the filter"

    @property
    def selected(self) -> SessionSummary | None:
        """The session under the cursor (None on a heading or in an empty list)."""
        row = self.rows_widget.current
        return row if isinstance(row, SessionSummary) else None

    def po_of(self, session_id: str) -> str:
        """The PO of a listed session (an orphaned one may belong to another PO)."""
        found = next((s for s in self.all_rows if s.id == session_id), None)
        return found.po_name if found is not None else self.po_name

    # -------------------------------------------------------------- choosing

    def on_row_list_chosen(self, event: RowList.Chosen) -> None:
        event.stop()
        row = self.rows_widget.rows[event.index]
        if isinstance(row, SessionSummary):
            self.dismiss(row.id)

    # -------------------------------------------------------------- new, delete

    def action_new(self) -> None:
        default = actions.auto_name(self.ctx.manager, self.po_name)

        def created(name: str | None) -> None:
            # run as the name is accepted (a landing, not a result callback): keys typed right
            # after it must not reach this list, where letters archive or delete
            if name is None:
                return
            try:
                session = actions.new_session(self.ctx.manager, self.po_name, name)
            except PromptSessionsError as exc:
                self.notify(str(exc), title=exc.title, severity="error")
                return
            notify_name_clash(self, self.ctx.manager, [session])
            self.dismiss(session.id)

        prompt = NamePrompt(f"New session for {self.po_name}", default)
        self.app.push_screen(opened_to_land(prompt, created))

    def action_delete(self) -> None:
        target = self.selected
        if target is None:
            return

        def answered(yes: bool | None) -> None:
            # run as the question is answered (a landing, not a result callback, which would
            # come after the keys typed behind y): u typed right after it undoes this delete
            if not yes:
                return
            try:
                _, next_id = actions.delete_session(self.ctx.manager, target.id)
            except PromptSessionsError as exc:
                self.notify(str(exc), title=exc.title, severity="error")
                return
            was_current = target.id == self.current_id
            if was_current:
                self.current_id = next_id
            hint = undo_hint(self.ctx.manager, target.id)
            if isinstance(self.ctx.manager.backend, SupportsTrash):
                self._deleted = (target.id, time.monotonic(), was_current)
                hint += f"; press u within {UNDO_SECONDS:.0f} s to undo"
            self.notify(f"Deleted '{target.name}'{hint}")
            self.reload(select=self.current_id)

        count = f"{target.message_count} msg{'' if target.message_count == 1 else 's'}"
        question = ConfirmScreen(f"Delete session '{target.name}' ({count})?")
        self.app.push_screen(opened_to_land(question, answered))

    def action_undo_delete(self) -> None:
        """Bring back the session deleted last, if that was less than UNDO_SECONDS ago; one
        that was current is made current again, and the note says so (DESIGN section 14: the
        TUI's delete says how to undo it and offers it for a moment). An archive made after
        the last delete is undone instead."""
        archived = self._archived
        if archived is not None and (self._deleted is None or archived[1] > self._deleted[1]):
            self._undo_archive(*archived)
            return
        if self._deleted is None:
            return
        sid, when_deleted, was_current = self._deleted
        self._deleted = None
        if time.monotonic() - when_deleted > UNDO_SECONDS:
            self.notify("Too late to undo here: `prompt-sessions trash` lists deleted sessions")
            return
        try:
            entry = self.ctx.manager.restore(sid)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return
        said = f"Restored '{entry.summary.name}'"
        if was_current:
            try:
                self.ctx.manager.switch(entry.summary.po_name, sid)
            except PromptSessionsError as exc:
                self.notify(str(exc), title=exc.title, severity="error")
            else:
                self.current_id = sid
                said += "; it is the current session again"
        self.notify(said)
        self.reload(select=sid)

    def _undo_archive(self, sid: str, when_archived: float) -> None:
        self._archived = None
        if time.monotonic() - when_archived > UNDO_SECONDS:
            self.notify("Too late to undo here: `prompt-sessions list --all` lists archived ones")
            return
        try:
            session = self.ctx.manager.archive(sid, archived=False)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return
        self.notify(f"'{session.name}' is no longer archived")
        self.reload(select=sid)
