"""The search language's session filters for lists and screen controls (DESIGN sections 12
and 14): ``session_matches`` keeps exactly the sessions a search with the same ``po:``,
``tag:`` and ``is:`` filters finds, on both stores, and the controls spell those filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_sessions.context import AppContext
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.search_controls import control_filters, session_matches, with_filters
from prompt_sessions.search_query import Filter, parse

FILTERS = [
    "tag:ops",
    "tag:OPS",
    "-tag:ops",
    "is:pinned",
    "-is:pinned",
    "is:archived",
    "is:fork",
    "po:writer",
    "po:Writer po:coordinator",
    "tag:ops is:pinned",
    "-po:writer -is:archived",
]


@pytest.fixture(params=["json", "sqlite"])
def ctx(request: pytest.FixtureRequest, tmp_path: Path):
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text(f'[storage]\nbackend = "{request.param}"\n')
    opened = AppContext.open(root, host=PluginHost.create(entry_points=False))
    assert opened.manager.backend.name == request.param
    yield opened
    opened.manager.close()


def seed(manager) -> None:
    def make(po: str, name: str, tags=None):
        s = manager.create(po, name, tags=tags)
        manager.append(s.id, Message(role="user", content=f"alpha {name}"))
        return s

    make("coordinator", "plain")
    manager.pin(make("coordinator", "pinned ops", ["Ops"]).id)
    make("writer", "ops draft", ["ops", "draft"])
    manager.archive(make("writer", "archived", ["ops"]).id)
    manager.pin(make("writer", "pinned", None).id)
    manager.fork(make("coordinator", "parent").id)


@pytest.mark.parametrize("spelled", FILTERS)
def test_session_matches_agrees_with_the_search(ctx, spelled: str) -> None:
    """For each filter, the sessions session_matches keeps are the sessions a search for a
    word every session holds finds with that filter (one meaning for both)."""
    manager = ctx.manager
    seed(manager)
    query = parse(f"alpha {spelled}")
    found = {hit.session.id for hit in manager.search(query)}
    kept = {s.id for s in manager.list() if session_matches(s, query.filters)}
    assert kept == found
    assert kept  # each filter keeps some of the sessions: the comparison is not vacuous


def test_controls_spell_the_language_filters() -> None:
    """PO, tag and pinned controls become po:, tag: and is:pinned; a typed query gets them
    appended in the language's spelling, and an empty one stays empty."""
    filters = control_filters(po="writer", tag="my tag", pinned=True)
    assert filters == (Filter("po", "writer"), Filter("tag", "my tag"), Filter("is", "pinned"))
    assert control_filters() == ()
    typed = with_filters("deploy -draft", filters)
    assert typed == 'deploy -draft po:writer tag:"my tag" is:pinned'
    assert parse(typed).filters == filters
    assert with_filters("  ", filters) == "  "
    assert with_filters("deploy", ()) == "deploy"


def test_a_tag_holding_a_quote_chosen_in_the_explorer_finds_its_session(ctx) -> None:
    """The explorer's tag list offers every tag, ``say"hi"`` too: the query it spells for it
    parses, and finds the session on both stores."""
    manager = ctx.manager
    s = manager.create("writer", "quoted", tags=['say"hi'])
    manager.append(s.id, Message(role="user", content="alpha quoted"))
    manager.create("writer", "other", tags=["plain"])
    typed = with_filters("alpha", control_filters(tag='say"hi'))
    assert [hit.session.id for hit in manager.search(parse(typed))] == [s.id]


def test_a_message_filter_is_refused() -> None:
    """role: and the date filters depend on a message, not a session: ValueError names them."""
    from prompt_sessions.models import SessionSummary

    summary = SessionSummary(
        id="a" * 8 + "-0000-4000-8000-" + "a" * 12,
        name="x",
        po_name="p",
        created_at="2025-01-01T00:00:00Z",
        updated_at="2025-01-01T00:00:00Z",
        message_count=0,
    )
    with pytest.raises(ValueError, match="role: is not a session filter"):
        session_matches(summary, [Filter("role", "user")])
