"""What ``config set storage.backend NEW`` leaves behind: the sessions of the store in use that
the NEW one lacks. Switching copies nothing (``migrate`` does, DESIGN section 13), so without a
word the next ``list`` says "No sessions." as if they were lost."""

from __future__ import annotations

from pathlib import Path

from ..config import load_config, section
from ..errors import PromptSessionsError
from ..plugins import PluginHost


def sessions_of(root: Path, host: PluginHost, backend: str | None = None) -> set[str] | None:
    """The ids of the sessions in ``root``'s store (``backend``, else the configured one), or
    None when it cannot be opened (a server that is not set up, a broken config)."""
    from ..manager import SessionManager

    try:
        with SessionManager.open(root, host=host, backend=backend) as manager:
            return {s.id for s in manager.list()}
    except PromptSessionsError:
        return None


def configured_backend(root: Path) -> str:
    """``storage.backend`` as config.toml has it (``json`` when unset)."""
    return str(section(load_config(root), "storage").get("backend", "json"))


def left_behind_note(old: str, new: str, count: int) -> str:
    """The one line that says how many sessions stay behind and the commands that copy them."""
    sessions = "1 session" if count == 1 else f"{count:,} sessions"
    are = "is" if count == 1 else "are"
    return (
        f"{sessions} of the {old} store {are} not in the {new} store (switching copies nothing); "
        f"to copy them: prompt-sessions config set storage.backend {old}, "
        f"prompt-sessions migrate --to {new}, then set {new} again"
    )
