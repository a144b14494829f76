"""Finding text in the shown session (``f``) and filtering it (``F``); both kept per session."""

from __future__ import annotations

from textual import on
from textual.widgets import Input

from ....text import counted
from ...widgets.conversation import matches
from ...widgets.find_bar import FindBar
from .shown_session import ShownSession


class FindFilter(ShownSession):
    def action_find(self, mode: str) -> None:
        """``f`` finds text in the shown session, ``F`` filters it; both are kept per session."""
        live = self.live
        if live is None:
            self.notify("Nothing to search yet: this PO has no session")
            return
        self._match = None
        if mode == "filter":
            self.find_bar.open("filter", live.view.filter)
        else:
            self.find_bar.open("find", live.view.search)
        self.describe_find()

    @on(Input.Changed, "#find")
    def find_changed(self, event: Input.Changed) -> None:
        live = self.live
        if live is None:
            return
        if self.find_bar.mode == "filter":
            live.view.filter = event.value
            self.apply_filter()
        else:
            live.view.search = event.value
            self._match = None
        self.describe_find()

    @on(Input.Submitted, "#find")
    def find_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.find_bar.mode == "find":
            self.next_match()
        else:
            self.find_bar.action_put_away()

    @on(FindBar.PutAway)
    def find_put_away(self) -> None:
        self.conversation.focus()

    def apply_filter(self) -> None:
        self.draw(self.live)
        self.refresh_labels()

    def search_hits(self) -> list[int]:
        live = self.live
        if live is None or not live.view.search:
            return []
        return [i for i, m in enumerate(live.history) if matches(m, live.view.search)]

    def next_match(self) -> None:
        """Jump to the next older message containing the find text, wrapping round to the newest."""
        hits = self.search_hits()
        live = self.live
        if not hits or live is None:
            self.notify("No message contains that", severity="warning")
            return
        older = [i for i in hits if self._match is None or i < self._match]
        self._match = older[-1] if older else hits[-1]
        position = self._match
        conversation = self.draw(live, at=position)

        def mark() -> None:
            for view in conversation.query(".-match"):
                view.remove_class("-match")
            found = conversation.view_of(position)
            if found is not None:
                found.add_class("-match")
                conversation.scroll_to_widget(found, animate=False, top=True, immediate=True)

        conversation.call_after_refresh(mark)
        self.describe_find(hits)

    def describe_find(self, hits: list[int] | None = None) -> None:
        bar, live = self.find_bar, self.live
        if live is None:
            return
        if bar.mode == "filter":
            shown = len(self.conversation.history)
            bar.border_title = (
                f"Filter: {shown} of {counted(live.message_count, 'message')}"
                if live.view.filter
                else "Filter"
            )
            return
        if not live.view.search:
            bar.border_title = "Find"
            return
        hits = self.search_hits() if hits is None else hits
        if self._match in hits:
            bar.border_title = f"Find: match {hits.index(self._match) + 1} of {len(hits)}"
        else:
            bar.border_title = f"Find: {len(hits)} match{'' if len(hits) == 1 else 'es'}"
