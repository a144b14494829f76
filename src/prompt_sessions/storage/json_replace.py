"""Rewriting the last message of a JSON session file in place (``SupportsReplaceLast``).

Each message of a file in our layout sits on its own line with the tail after the last one
(``session_codec``), so the last message starts right after the last newline before the tail. A
rewrite cuts the file back to that point, writes the new message and tail, and fsyncs: it costs
the size of the last message, however long the history. Cutting first means a crash inside the
rewrite leaves a torn tail with every earlier message whole (the next read repairs it), never
the new message's bytes spliced into the old one's. A failed write puts the old bytes back.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import NotLastMessage
from ..ids import validate_id
from ..models import Message, SessionSummary, summarize, summary_after_replace
from . import files, session_codec
from .json_health import JsonHealth

_CHUNK = 64 * 1024  # read back this much at a time while looking for the last line's start


def line_start(fd: int, end: int) -> int:
    """The offset just after the last newline before offset ``end`` of ``fd`` (0 if none)."""
    pos = end
    while pos > 0:
        size = min(_CHUNK, pos)
        cut = os.pread(fd, size, pos - size).rfind(b"\n")
        if cut >= 0:
            return pos - size + cut + 1
        pos -= size
    return 0


def _decoded(data: bytes) -> Message | None:
    try:
        return session_codec.decode_message(data)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None


class JsonReplaceLast(JsonHealth):
    """``replace_last`` for the JSON store (DESIGN sections 4 and 8)."""

    if TYPE_CHECKING:  # defined by the public layer, JsonBackend

        def _indexed(self, hook: str, *args: Any) -> None: ...

        def _after_write(self, sid: str, summary: SessionSummary) -> SessionSummary: ...

    def replace_last(self, session_id: str, message: Message, *, index: int) -> SessionSummary:
        """Put ``message`` in place of the last message, number ``index``
        (``storage.base.SupportsReplaceLast``).

        Raises:
            SessionNotFound: no session has that id.
            NotLastMessage: the session does not end with message ``index``.
            CorruptSession: the file cannot be read.
            ReadOnlyStore: a newer version wrote the session or the store.
            StorageError: the write failed; the file holds the old message (or, when even the
                undo failed, a torn tail the next read repairs).
        """
        sid = validate_id(session_id)
        body = session_codec.encode_message(message)  # fail on bad content before locking
        with self._writing(in_place=True):
            fd, st = self._session_file(sid)
            try:
                return self._replace_locked(sid, fd, st, message, body, index)
            finally:
                self._kept_session.done()

    def _replace_locked(
        self, sid: str, fd: int, st: os.stat_result, message: Message, body: bytes, index: int
    ) -> SessionSummary:
        version, state = self._locked_state(sid, st, fd)
        count = state.summary.message_count
        if index < 0 or count != index + 1:
            raise NotLastMessage(sid, index, count)
        probe_at = max(0, st.st_size - session_codec.TAIL_PROBE)
        found = session_codec.find_tail(os.pread(fd, st.st_size - probe_at, probe_at))
        if found is None or version is None or state.size != st.st_size:
            return self._replace_whole(sid, message, index)  # not our layout: rewrite it whole
        tail_at = st.st_size - found.length
        start = line_start(fd, tail_at)
        old_rest = os.pread(fd, st.st_size - start, start)  # the old message and tail
        before = os.pread(fd, 2, max(0, start - 2))
        old = _decoded(old_rest[: tail_at - start])
        if old is None or before not in (b"[\n", b",\n"):
            return self._replace_whole(sid, message, index)
        payload = body + session_codec.tail(message.created_at)
        summary = summary_after_replace(state.summary, old, message)
        self._commit_in_place(
            sid, fd, st, start, payload, old_rest, cut=True, before=state.summary, after=summary
        )
        self._indexed("message_replaced", summary, message)
        return summary

    def _replace_whole(self, sid: str, message: Message, index: int) -> SessionSummary:
        """Rewrite the whole file (atomically) with its last message replaced."""
        path = self.dir / f"{sid}.json"
        session, _, data = self._load_with_bytes(sid)
        session_codec.check_writable(path, session)
        if len(session.history) != index + 1:  # the file, read whole, is the judge
            raise NotLastMessage(sid, index, len(session.history))
        # Fields this version does not know survive, but not those of the message replaced.
        unknown = session_codec.unknown_fields(data or b"")
        session.history[-1] = message
        if unknown is not None:
            del unknown.messages[len(session.history) - 1 :]
        session.updated_at = message.created_at
        self._before_rename_in()
        files.atomic_write(path, session_codec.encode_session(session, unknown))
        summary = self._after_write(sid, summarize(session))
        self._indexed("session_written", session, summary)
        return summary
