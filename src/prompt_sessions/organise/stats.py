"""Usage (DESIGN section 14, "Usage"): sessions, messages and tokens per PO, per model and per
day, with the cost from ``[prices.<model>]`` (per million tokens) in config.toml.

Delegations are sessions of their own (DESIGN section 11); with a PO filter, the delegations
made under that PO's sessions (at any depth) count too, since their tokens were spent for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import CorruptSession, SessionNotFound
from ..models import Session, SessionSummary

if TYPE_CHECKING:
    from ..manager import SessionManager


@dataclass
class Usage:
    """Totals of one group. ``cost`` is in the currency of ``[prices]``; None when no model in
    the group has a price."""

    sessions: int = 0
    messages: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None

    def add_cost(self, amount: float | None) -> None:
        if amount is not None:
            self.cost = (self.cost or 0.0) + amount


@dataclass
class Stats:
    total: Usage = field(default_factory=Usage)
    by_po: dict[str, Usage] = field(default_factory=dict)
    by_model: dict[str, Usage] = field(default_factory=dict)
    by_day: dict[str, Usage] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _selected(summaries: list[SessionSummary], po_name: str | None) -> list[SessionSummary]:
    if po_name is None:
        return summaries
    return _with_delegations(summaries, {s.id for s in summaries if s.po_name == po_name})


def _with_delegations(summaries: list[SessionSummary], roots: set[str]) -> list[SessionSummary]:
    """The sessions ``roots`` names and the delegations made under them, at any depth."""
    chosen = set(roots)
    children: dict[str, list[str]] = {}
    for s in summaries:
        if s.parent_id and s.thread_type == "delegation":
            children.setdefault(s.parent_id, []).append(s.id)
    stack = list(chosen)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in chosen:
                chosen.add(child)
                stack.append(child)
    return [s for s in summaries if s.id in chosen]


def usage(manager: SessionManager, po_name: str | None = None) -> Stats:
    """Totals over every session (archived ones included), or over ``po_name``'s sessions and
    their delegations. A session that cannot be read is left out (``doctor`` reports it)."""
    prices = manager.settings.prices
    stats = Stats()
    for summary in _selected(manager.list(), po_name):
        try:
            session = manager.get(summary.id)
        except (SessionNotFound, CorruptSession):
            continue
        _count(stats, session, prices)
    return stats


def session_usage(manager: SessionManager, session_id: str) -> Stats:
    """Totals of one session and the delegations made under it, at any depth (``/session
    info``; DESIGN section 14). A delegation that cannot be read is left out."""
    prices = manager.settings.prices
    stats = Stats()
    _count(stats, manager.get(session_id), prices)
    for summary in _with_delegations(manager.list(), {session_id}):
        if summary.id == session_id:
            continue
        try:
            _count(stats, manager.get(summary.id), prices)
        except (SessionNotFound, CorruptSession):
            continue
    return stats


def _count(stats: Stats, session: Session, prices: dict[str, Any]) -> None:
    groups = [stats.total, stats.by_po.setdefault(session.po_name, Usage())]
    for group in groups:
        group.sessions += 1
    days_seen: set[str] = set()
    models_seen: set[str] = set()
    for message in session.history:
        day = message.created_at[:10]
        model = message.model if message.role == "assistant" and message.model else None
        day_usage = stats.by_day.setdefault(day, Usage())
        targets = [*groups, day_usage]
        if day not in days_seen:
            day_usage.sessions += 1
            days_seen.add(day)
        if model is not None:
            model_usage = stats.by_model.setdefault(model, Usage())
            targets.append(model_usage)
            if model not in models_seen:
                model_usage.sessions += 1
                models_seen.add(model)
        tokens_in = message.usage.input_tokens if message.usage else 0
        tokens_out = message.usage.output_tokens if message.usage else 0
        price = prices.get(model) if model else None
        cost = (
            (tokens_in * price.input + tokens_out * price.output) / 1_000_000
            if price is not None
            else None
        )
        for group in targets:
            group.messages += 1
            group.input_tokens += tokens_in
            group.output_tokens += tokens_out
            group.add_cost(cost)


def bars(by_day: dict[str, Usage], width: int = 40) -> list[tuple[str, str, int]]:
    """``(day, bar, tokens)`` per day in order, the bar's length proportional to the day's
    tokens (in and out), the busiest day ``width`` cells long."""
    totals = {day: u.input_tokens + u.output_tokens for day, u in sorted(by_day.items())}
    most = max(totals.values(), default=0)
    return [(day, "█" * (round(n * width / most) if most else 0), n) for day, n in totals.items()]
