"""The text of a reply in progress: capped in bytes for display, kept whole for storage.

The cap (``[runtime] buffer_limit_bytes``, DESIGN section 9) bounds what a frontend redraws: past
it the oldest text leaves :attr:`ReplyBuffer.text`. It is a display limit, never a storage limit:
:attr:`ReplyBuffer.whole` keeps every chunk, and that is what the stored message holds.
"""

from __future__ import annotations

from collections import deque


class ReplyBuffer:
    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self._chunks: deque[tuple[str, int]] = deque()
        self._size = 0
        self._parts: list[str] = []  # every chunk, for the stored message
        self.dropped_bytes = 0

    def add(self, text: str) -> None:
        self._parts.append(text)
        size = len(text.encode("utf-8"))
        self._chunks.append((text, size))
        self._size += size
        while self._size > self.limit:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        excess = self._size - self.limit
        text, size = self._chunks[0]
        if size <= excess:
            self._chunks.popleft()
            self._size -= size
            self.dropped_bytes += size
            return
        # Cut the head of this chunk; a character split by the cut is dropped whole.
        kept = text.encode("utf-8")[excess:].decode("utf-8", errors="ignore")
        kept_size = len(kept.encode("utf-8"))
        self._chunks[0] = (kept, kept_size)
        self._size -= size - kept_size
        self.dropped_bytes += size - kept_size

    def clear(self) -> None:
        self._chunks.clear()
        self._parts.clear()
        self._size = 0
        self.dropped_bytes = 0

    @property
    def size(self) -> int:
        return self._size

    @property
    def text(self) -> str:
        """The newest text, at most ``limit`` bytes of it: what a frontend shows."""
        return "".join(text for text, _ in self._chunks)

    @property
    def whole(self) -> str:
        """Every chunk since the last :meth:`clear`, however long: what is stored."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]  # join once, not on every read
        return self._parts[0] if self._parts else ""

    def tail(self, chars: int) -> str:
        """The last ``chars`` characters or so, without joining the whole buffer."""
        parts: list[str] = []
        count = 0
        for text, _ in reversed(self._chunks):
            parts.append(text)
            count += len(text)
            if count >= chars:
                break
        return "".join(reversed(parts))[-chars:]

    def __bool__(self) -> bool:
        return self._size > 0
