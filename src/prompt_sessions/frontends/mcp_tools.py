"""What the MCP server's tools do, independent of the protocol (DESIGN section 15).

Each method takes plain arguments and returns JSON-ready data; bad input raises a
``PromptSessionsError`` whose one-line message becomes the tool's error result. Messages and
sessions made here carry ``source: "mcp"``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from ..context import AppContext
from ..errors import ResponderError, UnknownFormat, UsageError
from ..models import Message, Session, SessionSummary
from ..objects import PromptObjectError, bare
from ..storage.session_codec import encode_session
from ..text import quoted

SOURCE = "mcp"


def summary_json(summary: SessionSummary) -> dict[str, Any]:
    return msgspec.to_builtins(summary)


def session_json(session: Session) -> dict[str, Any]:
    """The session in its file's shape, as ``show --json`` prints it."""
    return msgspec.json.decode(encode_session(session))


class SessionTools:
    """The store seen through the MCP tools. One instance serves one connection.

    :param ctx: the open environment; its manager, plugin host and prompt objects.
    """

    def __init__(self, ctx: AppContext) -> None:
        self._base = ctx
        # One reply at a time per session: two clients sending into one session must not
        # interleave their turns.
        self._turns: dict[str, asyncio.Lock] = {}

    @property
    def ctx(self) -> AppContext:
        """The environment as it is now: a server runs for long, and POs come and go in
        ``objects/``; the context reads again the PO files that changed at their next use
        (a fresh context per call would parse every PO file on every call)."""
        return self._base

    def _known_po(self, po: str) -> str:
        ctx = self.ctx
        names = ctx.po_names()
        if po not in names:
            problem = ctx.po_file_problem(po)
            if problem is not None:  # its file is there but cannot be read: say why
                raise PromptObjectError(f"{problem}; fix the file, then try again")
            raise UnknownFormat(po, names, kind="prompt object")
        return po

    def list_prompt_objects(self) -> list[dict[str, Any]]:
        """Every PO: those with an ``objects/`` file first, then those that only have sessions,
        then the files that cannot be read (each with ``problem``: the file and what is
        wrong; a PO of such a file that has sessions carries it too)."""
        ctx = self.ctx
        counts: dict[str, int] = {}
        for summary in ctx.manager.list():
            counts[summary.po_name] = counts.get(summary.po_name, 0) + 1
        found = []
        objects = ctx.objects  # one reading of objects/ for the list, not one per PO
        for name in ctx.po_names():
            po = objects.get(name) or bare(name)
            found.append(
                {
                    "name": name,
                    "description": po.description,
                    "capabilities": list(po.capabilities),
                    "responder": ctx.responder_name(po),
                    "has_file": not po.bare,
                    "sessions": counts.get(name, 0),
                }
            )
        # files there but unreadable: said, not hidden (as the reading above found them)
        problems = ctx.po_file_problems(read_again=False)
        for entry in found:
            if entry["name"] in problems:
                entry.update(has_file=True, problem=problems.pop(entry["name"]))
        for name, problem in problems.items():
            found.append({"name": name, "has_file": True, "problem": problem, "sessions": 0})
        return found

    def list_sessions(
        self,
        po: str | None = None,
        query: str | None = None,
        include_archived: bool = False,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """At most ``limit`` summaries, most recently updated first (a model's context is
        small; a store may hold thousands); ``query`` keeps sessions whose name or messages
        match it (the manager's search)."""
        mgr = self.ctx.manager
        if po is not None:
            self._known_po(po)
        mgr.recheck()  # no file watcher here: files edited in place are looked at again
        if query is None or not query.strip():
            found = mgr.list(po, include_archived=include_archived)
        else:
            seen: dict[str, SessionSummary] = {}
            for hit in mgr.search(query, po):
                seen.setdefault(hit.session.id, hit.session)
            found = [s for s in seen.values() if include_archived or not s.archived]
        return [summary_json(s) for s in found[:limit]]

    def get_session(self, ref: str, po: str | None = None) -> dict[str, Any]:
        """One session with its whole history. ``ref``: an id, a unique id prefix or a name."""
        mgr = self.ctx.manager
        if po is not None:
            self._known_po(po)
        return session_json(mgr.get(mgr.resolve(po, ref).id))

    def search_sessions(
        self, query: str, po: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Hits best first: a session summary plus ``snippet`` and ``message_index``."""
        if po is not None:
            self._known_po(po)
        if limit < 1:
            raise UsageError("limit must be at least 1")
        self.ctx.manager.recheck()  # as list_sessions
        return [hit.to_json() for hit in self.ctx.manager.search(query, po, limit=limit)]

    def create_session(self, po: str, name: str | None = None) -> dict[str, Any]:
        """A new session for ``po``, made its current one (as ``prompt-sessions new`` does)."""
        mgr = self.ctx.manager
        session = mgr.create(self._known_po(po), name, source=SOURCE)
        mgr.switch(session.po_name, session.id)
        return summary_json(session.summary())

    def _target(self, po: str, ref: str | None) -> Session:
        """The session ``ref`` names, or the PO's current one. A PO's first session is made
        as ``send`` makes it (``current_session.current``), so that clients and processes
        sending to a new PO at once share one session. May wait for another process making
        it: run it off the event loop."""
        mgr = self.ctx.manager
        if ref is not None:
            return mgr.get(mgr.resolve(po, ref).id)
        return mgr.current(po, source=SOURCE)

    async def send_message(self, po: str, message: str, session: str | None = None) -> dict:
        """Append ``message`` as the user's, run the PO's responder, return the stored reply.

        ``session`` is a ref among the PO's sessions; without it the PO's current session is used
        (one is created if it has none). Raises ``ResponderError`` when the responder fails.
        """
        from ..reply import run_reply
        from ..reply_lease import reply_lease_async
        from ..responders import check_ready
        from ..runtime.responder_pool import ResponderPool

        ctx = self.ctx
        self._known_po(po)
        if not message.strip():
            raise UsageError("message is empty")
        responder, _ = ResponderPool(ctx).for_po(po)
        await asyncio.to_thread(check_ready, responder)  # a bad setup stores nothing
        target = await asyncio.to_thread(self._target, po, session)
        lock = self._turns.setdefault(target.id, asyncio.Lock())
        # The lock orders this server's own calls; the lease, other processes' sends.
        async with lock, reply_lease_async(ctx.manager.root, target.id, target.name):
            ctx.manager.append(target.id, Message(role="user", content=message, source=SOURCE))
            try:
                reply = await run_reply(ctx, target.id, source=SOURCE)
            except ResponderError as exc:
                # Stored already: a client sending it again would ask twice (as `send` says).
                raise ResponderError(
                    f"{str(exc).rstrip('. ')}; the message is kept in {quoted(target.name)} "
                    "without a reply"
                ) from exc
        # the name as it is now: a new session is named after its first message (section 14)
        name = next((s.name for s in ctx.manager.list(po) if s.id == target.id), target.name)
        return {
            "reply": reply.content,
            "session": {"id": target.id, "name": name, "po_name": target.po_name},
            "model": reply.model,
            "usage": msgspec.to_builtins(reply.usage) if reply.usage else None,
        }
