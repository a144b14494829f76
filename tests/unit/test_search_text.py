"""Folding and words: how texts and queries are made comparable (DESIGN section 12)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from prompt_sessions.search_text import Term, fold, index_text, locate, tokens


def test_fold_normalises_case_and_accents() -> None:
    """NFKC, case folding and accent folding: ß is ss, full-width letters are plain, é is e."""
    assert fold("Crème Brûlée") == "creme brulee"
    assert fold("STRASSE Straße") == "strasse strasse"
    assert fold("ＣＯＮＦＩＧ") == "config"
    assert fold("e\u0301") == "e"  # a combining accent
    assert fold("Ελληνικά") == "ελληνικα"


def test_marks_other_scripts_need_are_kept() -> None:
    """Vowel signs of Devanagari or Thai are not accents: they stay part of the word."""
    assert fold("नमस्ते") == "नमस्ते"
    assert tokens(fold("नमस्ते दुनिया")) == ["नमस्ते", "दुनिया"]


def test_unspaced_scripts_are_one_word_per_character() -> None:
    """CJK text is cut into characters, so any run of them is a phrase to find."""
    assert tokens(fold("今天讨论数据库")) == list("今天讨论数据库")
    assert tokens(fold("abc数据def")) == ["abc", "数", "据", "def"]
    assert index_text("The config.yaml, v2!") == "the config yaml v2"


def test_locate_finds_matches_in_the_original_text() -> None:
    """Spans point into the unfolded text, for phrases and prefixes too."""
    text = "Crème BRÛLÉE, then configuration"
    found = locate(text, [Term(("creme", "brulee")), Term(("config",), prefix=True)])
    assert [(n, text[a:b]) for n, a, b in found] == [(0, "Crème BRÛLÉE"), (1, "configuration")]
    assert locate(text, [Term(("config",))]) == []  # whole words only


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_index_text_is_words_separated_by_spaces(text: str) -> None:
    """Whatever the text, the index gets words without spaces, separated by single spaces,
    and folding the folded text changes nothing more."""
    stored = index_text(text)
    assert stored == " ".join(stored.split(" "))
    assert all(word and not any(c.isspace() for c in word) for word in stored.split(" ") if stored)
    assert index_text(stored) == stored
