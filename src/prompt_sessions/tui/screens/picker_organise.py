"""The session picker's organising keys: pin, tags, archive and copy to a PO (DESIGN section
14). :class:`SessionPicker` is built on this screen; each key changes the selected session
through the session API and shows the rows again with it selected."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.actions import SkipAction
from textual.widgets import Input

from ...errors import PromptSessionsError
from ...models import SessionSummary
from ...organise.between_pos import copy_to_po, po_files
from ...organise.labels import changed_tags
from ..name_notes import notify_name_clash
from .choice import ChoiceScreen
from .landing import LandingModal, opened_to_land
from .tags_prompt import TagsPrompt

if TYPE_CHECKING:
    from ...context import AppContext


class OrganisingScreen(LandingModal[str | None]):
    """The picker's ``p``, ``t``, ``a`` and ``c`` actions; the picker supplies what they act on."""

    if TYPE_CHECKING:
        ctx: AppContext
        po_name: str

        @property
        def selected(self) -> SessionSummary | None: ...

        def reload(
            self, select: str | None = None, rows: list[SessionSummary] | None = None
        ) -> None: ...

    def _in_a_box(self) -> bool:
        """Whether a text box (the filter, the rename box) has the focus: there the picker's
        priority keys are letters like any other."""
        return isinstance(self.focused, Input)

    def action_key(self, action: str) -> None:
        """A priority key outside a text box: the ``action`` it names."""
        if self._in_a_box():
            raise SkipAction()
        getattr(self, f"action_{action}")()

    def _change(self, target: SessionSummary, change: Callable[[], object], said: str) -> bool:
        """Run one change of ``target``, then show the rows again with it selected."""
        try:
            change()
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return False
        self.notify(said)
        self.reload(select=target.id)
        return True

    def action_pin(self) -> None:
        target = self.selected
        if target is None:
            return
        pinned = not target.pinned
        said = f"{'Pinned' if pinned else 'Unpinned'} '{target.name}'"
        self._change(target, lambda: self.ctx.manager.pin(target.id, pinned), said)

    def action_tags(self) -> None:
        target = self.selected
        if target is None:
            return

        def answered(tags: list[str] | None) -> None:
            if tags is None:
                return
            shown = " ".join(f"#{t}" for t in tags) or "no tags"
            self._change(
                target,
                lambda: self.ctx.manager.update(target.id, tags=changed_tags(None, tags)),
                f"'{target.name}': {shown}",
            )

        # a landing, not a result callback: the rows are shown again before the keys typed
        # right after Enter act on them
        prompt = TagsPrompt(f"Tags of '{target.name}'", target.tags)
        self.app.push_screen(opened_to_land(prompt, answered))

    # the last archive (id, monotonic time), which ``u`` undoes for a moment, as a delete
    _archived: tuple[str, float] | None = None

    def action_archive(self) -> None:
        """Archive the selected session: it leaves the picker (``list --all`` still shows it);
        ``u`` right after brings it back."""
        target = self.selected
        if target is None:
            return
        said = (
            f"Archived '{target.name}': u undoes it now, or later "
            f"prompt-sessions archive {target.id[:8]} --undo"
        )
        if self._change(target, lambda: self.ctx.manager.archive(target.id), said):
            self._archived = (target.id, time.monotonic())

    def action_copy(self) -> None:
        """Copy the selected session to a PO chosen from those with a file (an orphaned
        session's way back; ``copy REF --to-po PO`` in the CLI). The original stays."""
        target = self.selected
        if target is None:
            return
        try:
            names = sorted(po_files(self.ctx.manager) - {target.po_name})
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return
        if not names:
            self.notify("No other PO has a file to copy to (objects/<name>.md)", severity="warning")
            return

        def chosen(po_name: str | None) -> None:
            if po_name is None:
                return
            try:
                copy = copy_to_po(self.ctx.manager, target.id, po_name)
            except PromptSessionsError as exc:
                self.notify(str(exc), title=exc.title, severity="error")
                return
            self.notify(f"Copied '{target.name}' to {po_name} as {copy.id[:8]}; the original stays")
            notify_name_clash(self, self.ctx.manager, [copy])
            self.reload(select=copy.id if po_name == self.po_name else target.id)

        choices = [(name, name) for name in names]
        self.app.push_screen(ChoiceScreen(f"Copy '{target.name}' to", choices), chosen)
