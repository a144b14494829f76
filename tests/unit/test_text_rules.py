"""Unicode-equivalent text is the same text: search, name lookup and filters compare folded text
(NFKC and case folding) on both backends, while stored text is kept exactly as given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prompt_sessions.commands import actions
from prompt_sessions.errors import AmbiguousSession, UsageError
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.text import counted, find_folded, fold, quoted, same_text, visible
from prompt_sessions.tui.widgets.conversation import matches

NFD = "cre\u0300me br\u00fble\u0301e"  # "crème brûlée" with combining accents
NFC = "cr\u00e8me"


@pytest.fixture(params=["json", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionManager]:
    mgr = SessionManager.open(
        tmp_path / ".prompt_objects",
        backend=request.param,
        host=PluginHost.create(entry_points=False),
    )
    yield mgr
    mgr.close()


def test_nfd_message_is_found_by_an_nfc_query_on_both_backends(store: SessionManager) -> None:
    """The message "cre\\u0300me" (NFD) is found by the query "cr\\u00e8me" (NFC), and the other
    way round, with the snippet cut from the text as stored."""
    s = store.create("po", "Desserts")
    store.append(s.id, Message(role="user", content=f"I like {NFD} a lot"))
    store.append(s.id, Message(role="user", content="and CR\u00c8ME too"))
    hits = {h.message_index: h for h in store.search(NFC)}  # ranked: compare as a set
    assert sorted(hits) == [0, 1]
    assert hits[0].snippet == f"I like {NFD} a lot"
    assert sorted(h.message_index for h in store.search("cre\u0300me")) == [0, 1]
    assert store.get(s.id).history[0].content == f"I like {NFD} a lot"  # kept as given


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("\ufb01le handle", "file"),  # the "fi" ligature: a compatibility form
        ("\uff21\uff22\uff23 corp", "abc"),  # fullwidth letters
        ("Stra\u00dfe", "STRASSE"),  # case folding, not just lower()
        ("\u212a is kelvin", "k is"),  # KELVIN SIGN folds to k
        ("\u0130stanbul", "i\u0307stanbul"),  # a dotted capital I
    ],
)
def test_compatibility_and_case_variants_match(
    store: SessionManager, stored: str, query: str
) -> None:
    """Compatibility forms, full case folding and special capitals match their plain text, in
    messages and in session names, on both backends."""
    s = store.create("po", stored)
    store.append(s.id, Message(role="user", content=stored))
    hits = store.search(query)
    assert [h.message_index for h in hits] == [None, 0]
    assert hits[1].snippet == stored


def test_a_search_text_that_is_not_unicode_is_a_usage_error(store: SessionManager) -> None:
    """A query holding a lone surrogate (bytes that were not UTF-8) is a clear UsageError."""
    store.create("po", "x")
    with pytest.raises(UsageError, match="not valid UTF-8"):
        store.search("caf\udce9")


def test_names_resolve_across_normal_forms_and_case(store: SessionManager) -> None:
    """A session named in NFD is found by its NFC name, exactly, by case and by prefix; two
    names that are the same text are ambiguous, not two different matches."""
    s = store.create("po", "Cre\u0300me plan")
    assert store.resolve("po", "Cr\u00e8me plan").id == s.id
    assert store.resolve("po", "CR\u00c8ME PLAN").id == s.id
    assert store.resolve("po", "cr\u00e8me").id == s.id
    store.create("po", "Cr\u00e8me plan")
    with pytest.raises(AmbiguousSession):
        store.resolve("po", "cr\u00e8me plan")


def test_auto_names_count_equivalent_names_as_taken(store: SessionManager) -> None:
    """The next "New Session" name skips one that is the same text in another case."""
    store.create("po", "new session")
    assert actions.auto_name(store, "po") == "New Session 2"


def test_the_conversation_filter_ignores_normal_form() -> None:
    """The TUI's in-conversation filter matches an NFD message with an NFC filter."""
    assert matches(Message(role="user", content=NFD), "CR\u00c8ME")


def test_fold_and_find_folded_map_back_to_the_stored_text() -> None:
    """find_folded returns positions in the stored text even where folding changes lengths."""
    assert fold("Cre\u0300ME") == fold("cr\u00e8me") == "cr\u00e8me"
    text = "x \ufb01ne Stra\u00dfe cre\u0300me!"
    for query, piece in [("fine", "\ufb01ne"), ("strasse", "Stra\u00dfe"), (NFC, "cre\u0300me")]:
        start, length = find_folded(text, fold(query))
        assert text[start : start + length] == piece
    assert find_folded(text, "absent") is None
    assert same_text("cre\u0300me", NFC) and not same_text("creme", NFC)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),  # OSC 52 sets the clipboard
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("\x1b[2J", "\\x1b[2J"),
        ("\x9b2J", "\\x9b2J"),  # the one-character C1 form of ESC [
        ("a\r\nb\tc\n", "a\nb\tc\n"),  # line endings and tabs are kept
        ("over\rwrite", "over\\rwrite"),
        ("\u202egnp.exe", "\\u202egnp.exe"),
        (
            '\U0001f469\u200d\U0001f4bb Bob\'s "plan" \\',
            '\U0001f469\u200d\U0001f4bb Bob\'s "plan" \\',
        ),
        ("bad \udcff byte", "bad \\xff byte"),
    ],
)
def test_visible_shows_control_characters_and_keeps_the_rest(text: str, shown: str) -> None:
    """Escape, bell, C1 controls, lone carriage returns and bidi overrides print as escapes;
    newlines, tabs, joiners, quotes and backslashes print as they are."""
    assert visible(text) == shown


def test_one_line_forms_for_names() -> None:
    """Names in messages are quoted as typed; a newline or tab in them shows as an escape."""
    assert quoted('Bob\'s "plan"') == "'Bob's \"plan\"'"
    assert quoted("a\nb\x1b") == "'a\\nb\\x1b'"
    assert (counted(1, "message"), counted(2, "message")) == ("1 message", "2 messages")
    assert counted(3, "entry", "entries") == "3 entries"
