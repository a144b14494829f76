"""Reading session files of the JSON store: no lock, a retry under the lock for a file caught
mid-write, and torn-tail repair (DESIGN section 4, "Crash-safe and durable")."""

from __future__ import annotations

import errno
import os
import stat
from contextlib import suppress
from typing import TYPE_CHECKING

from ..errors import CorruptSession, SessionNotFound, StorageError
from ..models import FORMAT_VERSION, Session, summarize
from . import files, session_codec
from .json_store_base import FileState, JsonStoreBase


class JsonReading(JsonStoreBase):
    """Read, decode and (when allowed) repair one session file at a time."""

    def _read_file(self, sid: str) -> tuple[bytes, os.stat_result]:
        path = self.dir / f"{sid}.json"
        try:
            # O_NONBLOCK: a FIFO planted at a session path would otherwise block every reader.
            fd = os.open(
                path,
                os.O_RDONLY
                | os.O_NONBLOCK
                | getattr(os, "O_NOFOLLOW", 0)
                | getattr(os, "O_CLOEXEC", 0),
            )
        except FileNotFoundError:
            raise SessionNotFound(sid) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                # A symlink planted at a session path is refused and reported as damage.
                raise CorruptSession(sid, files.describe(exc, "read", path).message) from exc
            # An I/O or permission error says nothing about the file's content: it must not be
            # reported (or moved aside by a repair) as a damaged session.
            raise files.describe(exc, "read", path) from exc
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise CorruptSession(sid, f"{path} is not a regular file")
            data = os.pread(fd, st.st_size, 0) if st.st_size else b""
            return data, st
        except OSError as exc:
            raise files.describe(exc, "read", path) from exc
        finally:
            os.close(fd)

    def _load(self, sid: str) -> tuple[Session, os.stat_result]:
        session, st, _ = self._load_with_bytes(sid)
        return session, st

    def _load_with_bytes(self, sid: str) -> tuple[Session, os.stat_result, bytes | None]:
        """Read and decode; a file caught mid-write is read again under the lock, then repaired.

        Also returns the bytes decoded (None after a repair rewrote them), so a rewrite can keep
        the fields this version does not know.
        """
        data, st = self._read_file(sid)
        try:
            return session_codec.decode_session(data, sid, allow_torn=False), st, data
        except CorruptSession:
            pass
        with self._mutex:
            try:
                self.lock.acquire()
            except StorageError:
                # raises the first problem again
                return session_codec.decode_session(data, sid), st, None
            try:
                data, st = self._read_file(sid)
                try:
                    return session_codec.decode_session(data, sid, allow_torn=False), st, data
                except CorruptSession as exc:
                    repaired = self._repair_tail(sid, data, st)
                    if repaired is None:
                        raise exc from None
                    return repaired, self._stat_file(sid), None
            finally:
                self.lock.release()

    def _repair_tail(self, sid: str, data: bytes, st: os.stat_result) -> Session | None:
        """The session as it was before a cut-short write, rewritten so when this process may
        write; None for damage of another shape.

        Raises:
            CorruptSession: fewer whole messages are left than a cut write can leave (one less
                than the store knew of: the message a rewrite of the last one had cut), so more
                was lost than the one write in flight and the file was cut by something else;
                or the store judged this very file so before. It is reported and left as it is
                (DESIGN section 4).
        """
        try:
            session = session_codec.repair_torn_tail(data, sid)
        except (RecursionError, MemoryError):
            return None  # damage of another shape: reported as such by the caller
        refused = None if session is None else self._not_a_cut_write(sid, session, st)
        if refused is not None:
            raise CorruptSession(sid, refused)
        if session is None or not self._may_write() or session.format_version > FORMAT_VERSION:
            # A read-only store, or a newer version's file, is read as it was before the cut
            # and never rewritten.
            return session
        # Reading never needs the write (a full disk): the next write rewrites the file whole.
        with suppress(StorageError):
            files.atomic_write(self.dir / f"{sid}.json", session_codec.encode_session(session))
        return session

    if TYPE_CHECKING:  # judged by the catalog, a layer up (json_catalog_view)

        def _not_a_cut_write(
            self, sid: str, session: Session, st: os.stat_result
        ) -> str | None: ...

    def _load_state(self, sid: str) -> FileState:
        session, st = self._load(sid)
        state = FileState(
            st.st_ino, st.st_size, st.st_mtime_ns, summarize(session), session.format_version
        )
        self._files[sid] = state
        return state

    def _stat_file(self, sid: str) -> os.stat_result:
        path = self.dir / f"{sid}.json"
        try:
            return os.stat(path, follow_symlinks=False)
        except OSError as exc:
            raise files.describe(exc, "read", path) from exc

    def _stored_version(self, sid: str) -> int | None:
        """The format_version a session file claims; None when it cannot be read (a damaged
        file can still be deleted)."""
        try:
            data, _ = self._read_file(sid)
        except StorageError:
            return None
        return session_codec.stored_version(data)


def lost_more_than_a_write(session: Session, known: int) -> str | None:
    """Why ``session`` (a cut file read back) lost more than one write in flight can lose,
    when the store knew of ``known`` messages; None when it did not."""
    if len(session.history) >= known - 1:
        return None
    return (
        f"cut short: {len(session.history)} whole messages left of the {known} stored, more "
        "than an interrupted write can lose; left as it is"
    )
