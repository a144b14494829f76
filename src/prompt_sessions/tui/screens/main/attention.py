"""Telling the person that a session they are not looking at needs them (DESIGN section 15,
"Attention"): its reply finished, failed or asks for input.

Once per such event: one terminal notification (``tui.terminal_notify``), one call of the
``session_attention`` hook (in a worker thread, so a slow plugin never freezes the screen), and
the session moves to the top of the sidebar until it is shown. Replies a delegation runs for a
reply still in progress are steps of that reply, not events for the person.
"""

from __future__ import annotations

from functools import partial

from textual import on

from ....runtime import Status
from ....runtime import events as rt
from ...messages import RuntimeUpdate
from ...terminal_notify import notification
from .shown_session import ShownSession

TITLE = "prompt-sessions"
SAID = {"finished": "reply finished", "failed": "reply failed", "waiting": "waits for you"}


class Attention(ShownSession):
    @on(RuntimeUpdate)
    def attention_update(self, update: RuntimeUpdate) -> None:
        match update.event:
            case rt.ReplyFinished(session_id=sid):
                live = self.coord.get(sid)
                waiting = live is not None and live.status is Status.WAITING
                self.need_attention(sid, "waiting" if waiting else "finished")
            case rt.ReplyFailed(session_id=sid):
                self.need_attention(sid, "failed")

    def need_attention(self, session_id: str, reason: str) -> None:
        """Notify once that ``session_id`` needs the person, unless it is the one shown."""
        live = self.coord.get(session_id)
        if live is None or session_id == self.session_id or not live.loaded:
            return
        session = live.session
        parent = self.coord.get(session.parent_id) if session.parent_id else None
        if session.thread_type == "delegation" and parent is not None and parent.busy:
            return  # a step of the caller's reply, which tells the person when it is done
        self.sidebar.need(session_id, reason)
        body = f"{live.name} ({live.po_name}): {SAID.get(reason, reason)}"
        self.tui.write_to_terminal(notification(TITLE, body))
        ctx = self.tui.ctx
        call = partial(
            ctx.host.session_attention, session=session, reason=reason, manager=ctx.manager
        )
        self.run_worker(call, thread=True, group="attention", exit_on_error=False)
