"""What a frontend remembers per session so that returning to it looks the same."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

DRAFT_LIMIT = 100_000  # characters kept of an unsent draft in the saved workspace


@dataclass
class ViewState:
    """Scroll position, unsent draft, message filter and search text of one session's view."""

    scroll_y: float = 0.0
    draft: str = ""
    filter: str = ""
    search: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v != _DEFAULTS[k]}

    @classmethod
    def from_dict(cls, data: object) -> ViewState:
        """Build from saved data, ignoring wrongly typed fields (the file may be hand-edited)."""
        if not isinstance(data, dict):
            return cls()
        scroll = data.get("scroll_y", 0.0)
        state = cls(
            scroll_y=float(scroll) if isinstance(scroll, int | float) and scroll >= 0 else 0.0
        )
        for name in ("draft", "filter", "search"):
            value = data.get(name)
            if isinstance(value, str):
                setattr(state, name, value[:DRAFT_LIMIT])
        return state


_DEFAULTS = asdict(ViewState())
