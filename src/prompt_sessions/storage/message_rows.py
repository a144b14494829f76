"""Message rows against what their session recorded, for ``doctor`` on stores that keep each
message in a row numbered by its position (the sqlite and postgres stores; DESIGN section 4,
"Damage stays local"): a row deleted, renumbered or added by hand leaves a gap in the positions
or a count other than the session's summary, which is damage of that session, never rewritten to
fit (the summary is the witness of what was lost).
"""

from __future__ import annotations

import msgspec

from ..models import SessionSummary

PREFIX = "its messages do not match what the session recorded: "
_summary_decoder = msgspec.json.Decoder(SessionSummary)


def _numbers(positions: list[int]) -> str:
    """Message positions as a person counts them (from 1), the first few of them."""
    shown = ", ".join(str(p + 1) for p in positions[:5])
    return shown + (", …" if len(positions) > 5 else "")


def mismatch(positions: list[int], summary: bytes | str) -> str | None:
    """What is wrong, in one line, when the stored message ``positions`` (ascending, from 0)
    disagree with the session's stored ``summary`` (its JSON): positions missing between
    them, or more rows than the summary counts; None when they agree. An unreadable summary
    only leaves gaps to find."""
    try:
        recorded: int | None = _summary_decoder.decode(summary).message_count
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError, UnicodeDecodeError):
        recorded = None
    stored = len(positions)
    expected = max(positions[-1] + 1 if positions else 0, recorded or 0, stored)
    missing = sorted(set(range(expected)) - set(positions))
    if missing:
        noun, verb = ("message", "is") if len(missing) == 1 else ("messages", "are")
        return f"{PREFIX}{noun} {_numbers(missing)} of {expected} {verb} missing"
    if recorded is not None and recorded != stored:
        return f"{PREFIX}{stored} messages are stored, its summary counts {recorded}"
    return None
