"""Runtime events on the main screen: replies streaming, messages arriving, sessions removed.

Events carry their session's id and are routed by it, never by what happens to be shown.
"""

from __future__ import annotations

from ....errors import PromptSessionsError
from ....runtime import SessionBusy
from ....runtime import events as rt
from ....runtime.reply_task import retryable
from ...messages import ChunksArrived, RuntimeUpdate
from ..follows_store import FollowsStore
from .shown_session import ShownSession

STREAM_EVERY = 0.05  # seconds between redraws of the shown reply in progress


class ReplyStream(ShownSession):
    def __init__(self) -> None:
        super().__init__()
        self._stream_cooling = False
        self._stream_dirty = False

    def on_runtime_update(self, update: RuntimeUpdate) -> None:
        match update.event:
            case rt.StatusChanged() as event:
                self.status_changed(event)
            case rt.MessageAdded() as event:
                self.message_added(event)
            case rt.ReplyFinished() as event:
                self.reply_finished(event)
            case rt.ReplyFailed() as event:
                self.reply_failed(event)
            case rt.ReplyCancelled() as event:
                self.reply_cancelled(event)
            case rt.SessionChanged() as event:
                self.session_changed(event)
            case rt.SessionOpened():
                self.sidebar.rebuild(self.coord.open_sessions(), self.session_id)
            case rt.SessionRemoved() as event:
                self.session_removed(event)
            case rt.SessionsChanged():
                self.list_new_pos()
                for screen in self.app.screen_stack:
                    if isinstance(screen, FollowsStore):  # the picker, the explorer
                        screen.store_changed()

    def action_retry(self) -> None:
        """ctrl+r: run the shown session's last reply again (unanswered or cut short)."""
        if self.session_id is None:
            self.notify("Nothing to retry yet: this PO has no session")
            return
        try:
            started = self.retry(self.session_id)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return
        if not started:
            self.notify("Nothing to retry: the last turn has its reply")

    def retry(self, session_id: str) -> bool:
        """Start the reply of the session's last turn again; False if the turn has its reply.

        Raises SessionBusy while a reply runs (DESIGN section 8: one reply per session).
        """
        live = self.coord.open(session_id)
        if live.busy:
            raise SessionBusy(live.name)
        if not retryable(live.history):
            return False
        self.run_worker(self.resume_reply(session_id), group="retry", exit_on_error=False)
        return True

    async def resume_reply(self, session_id: str) -> None:
        """Run the reply of the session's last turn again, saying why when it cannot: another
        program replies in the session (its reply lease, DESIGN section 8), or the turn got
        its reply meanwhile."""
        try:
            started = await self.coord.resume(session_id)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return
        if not started:
            self.notify("Nothing to retry: the last turn got its reply meanwhile")

    def on_chunks_arrived(self, _: ChunksArrived) -> None:
        for session_id in self.tui.link.take_chunked():
            self.sidebar.preview_changed(session_id)
            if session_id == self.session_id:
                self.stream_changed()

    def stream_changed(self) -> None:
        """Draw the shown reply in progress now, then at most every ``STREAM_EVERY`` seconds."""
        if self._stream_cooling:
            self._stream_dirty = True
            return
        self._draw_stream()
        self._stream_cooling = True
        self.set_timer(STREAM_EVERY, self._stream_cooled)

    def _stream_cooled(self) -> None:
        self._stream_cooling = False
        if self._stream_dirty:
            self._stream_dirty = False
            self.stream_changed()

    def _draw_stream(self) -> None:
        live = self.live
        if live is not None and live.status.busy:  # a reply stored since has ended its stream
            self.conversation.set_stream(self.po_name, live.buffer, self.stream_note(live))

    def status_changed(self, event: rt.StatusChanged) -> None:
        self.sidebar.update_row(event.session_id)
        live = self.coord.get(event.session_id)
        if event.session_id != self.session_id or live is None:
            return
        if live.status.busy:
            self.conversation.set_stream(self.po_name, live.buffer, self.stream_note(live))
        else:
            self.conversation.end_stream()
        self.refresh_labels()

    def message_added(self, event: rt.MessageAdded) -> None:
        self.sidebar.update_row(event.session_id)
        if event.session_id != self.session_id:
            return
        conversation = self.conversation
        if event.index < conversation.seen:
            return  # already shown (the view was drawn after it was stored)
        if not event.external and event.message.role == "assistant":
            conversation.end_stream()
        conversation.add_message(event.message)
        live = self.live
        self.message_count = live.message_count if live else self.message_count + 1
        self.refresh_labels()

    def reply_finished(self, event: rt.ReplyFinished) -> None:
        live = self.coord.get(event.session_id)
        if event.background and live is not None and event.session_id != self.session_id:
            self.notify(
                f"Reply finished in '{live.name}' ({live.po_name})",
                title="Background reply",
                markup=False,
            )

    def reply_failed(self, event: rt.ReplyFailed) -> None:
        live = self.coord.get(event.session_id)
        if event.session_id == self.session_id:
            self.notify(event.error, title="Reply failed", severity="error", markup=False)
            self.conversation.end_stream()
            self.conversation.note(f"Reply failed: {event.error}", error=True)
        elif live is not None:
            self.notify(
                event.error, title=f"Reply failed in '{live.name}'", severity="error", markup=False
            )

    def reply_cancelled(self, event: rt.ReplyCancelled) -> None:
        if event.session_id == self.session_id:
            self.conversation.end_stream()
            self.refresh_labels()

    def session_changed(self, event: rt.SessionChanged) -> None:
        self.sidebar.update_row(event.session_id)
        live = self.coord.get(event.session_id)
        if event.session_id != self.session_id or live is None:
            return
        if event.what == "name":
            self.session_name = live.name
            self.refresh_labels()
        elif event.what == "history":
            self.show(self.po_name, self.session_id, rebuild=True)

    def session_removed(self, event: rt.SessionRemoved) -> None:
        if event.deleted:
            self.notify(
                f"Session '{event.name}' ({event.po_name}) was deleted by another program",
                title="Session deleted",
                severity="warning",
                markup=False,
            )
        if event.session_id == self.session_id:
            rest = self.coord.open_sessions()
            if rest:
                self.switch_to(rest[-1].po_name, rest[-1].session_id)
            else:
                self.session_id = None
                self.show_po(self.po_name)
        else:
            self.sidebar.rebuild(self.coord.open_sessions(), self.session_id)
        self.deck.drop(event.session_id)
