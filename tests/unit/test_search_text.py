"""Folding and words: how texts and queries are made comparable (DESIGN section 12)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from prompt_sessions.search_text import Term, best_window, fold, index_text, locate, tokens


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


def test_a_phrase_is_found_where_its_occurrences_overlap() -> None:
    """ "ab ab" occurs twice in "ab ab ab" (at 0 and at 3); ASCII text finds both, as any other
    text does (a regex scan resumed after each match found only the first)."""
    terms = [Term(("ab", "ab"), False)]
    assert locate("ab ab ab", terms) == [(0, 0, 5), (0, 3, 8)]
    assert locate("ab ab ab é", terms) == [(0, 0, 5), (0, 3, 8)]


@pytest.mark.timeout(60)
def test_the_snippet_of_a_huge_message_with_a_common_word_is_found() -> None:
    """A 10 MB message holding a searched word two million times gets its snippet (each match
    once compared with every later one never finished); the window with the most different
    terms still wins."""
    text = "word " * 2_000_000 + "rare word"
    lo, hi = best_window(text, [Term(("word",)), Term(("rare",))])
    assert "rare" in text[lo:hi]
    assert best_window("word " * 2_000_000, [Term(("word",))]) == (0, 44)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_index_text_is_words_separated_by_spaces(text: str) -> None:
    """Whatever the text, the index gets words without spaces, separated by single spaces,
    and folding the folded text changes nothing more."""
    stored = index_text(text)
    assert stored == " ".join(stored.split(" "))
    assert all(word and not any(c.isspace() for c in word) for word in stored.split(" ") if stored)
    assert index_text(stored) == stored


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(max_codepoint=127), max_size=80))
def test_ascii_shortcut_agrees_with_the_general_path(text: str) -> None:
    """For ASCII text the fast path gives exactly the words the general folding gives."""
    from prompt_sessions import search_text

    general = (
        " ".join(text.lower()[a:b] for a, b in search_text.word_spans(text.lower() + "\u00e9"))
        .removesuffix("\u00e9")
        .rstrip()
    )
    assert index_text(text) == " ".join(tokens(fold(text)))
    assert index_text(text) == " ".join(general.split())


_ascii_words = st.lists(
    st.sampled_from(["ab", "abc", "b", "cd", "x1", "1"]), min_size=1, max_size=3
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["ab", "abc", "b", "cd", "x1", "1", " ", ".", "-", "AB"]), max_size=20
    ),
    st.lists(st.tuples(_ascii_words, st.booleans()), min_size=1, max_size=3),
)
def test_ascii_locate_agrees_with_the_general_path(parts: list[str], raw_terms: list) -> None:
    """For ASCII text the regex shortcut finds exactly what the word-by-word scan finds."""
    from prompt_sessions import search_text

    text = "".join(parts)
    terms = [Term(tuple(words), prefix) for words, prefix in raw_terms]
    general = search_text.locate(text + " é", terms)  # non-ASCII: the general path
    general = [(n, a, b) for n, a, b in general if b <= len(text)]
    assert sorted(locate(text, terms)) == sorted(general)


def _best_window_by_full_scan(text: str, terms: list[Term], radius: int) -> tuple[int, int]:
    """The rule of ``best_window`` applied to every match: the most different terms within
    reach of a match, the earliest of equals."""
    found = locate(text, terms)
    if not found:
        return 0, min(len(text), 2 * radius)
    best, best_count = found[0], 0
    for k, (_, start, _) in enumerate(found):
        near = {n for n, s, _ in found[k:] if s - start <= radius}
        if len(near) > best_count:
            best, best_count = found[k], len(near)
    return max(0, best[1] - radius), min(len(text), best[2] + radius)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(["ab", "abc", "b", "cd", "x1", "1", " ", ".", " - . - ", "AB", "é"]),
        max_size=40,
    ),
    st.lists(st.tuples(_ascii_words, st.booleans()), min_size=1, max_size=3),
    st.integers(min_value=0, max_value=12),
)
@example(["cd", " - . - ", " - . - ", "ab", " ", "cd"], [(["ab"], False), (["cd"], False)], 4)
@example(["cd", " - . - ", "é", " - . - ", "ab", " ", "cd"], [(["ab"], False), (["cd"], False)], 4)
def test_best_window_stops_early_without_changing_its_choice(
    parts: list[str], raw_terms: list, radius: int
) -> None:
    """The window read in order and stopped at the first match with every term within reach
    is the window a scan of every match chooses, in ASCII and in folded text."""
    text = "".join(parts)
    terms = [Term(tuple(words), prefix) for words, prefix in raw_terms]
    assert best_window(text, terms, radius) == _best_window_by_full_scan(text, terms, radius)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["ab", " ", "Crème", "ß", "ﬁ", "e\u0301", "数据", "İ", "Ⅻ", ".", "Ω"]),
        max_size=30,
    )
)
def test_folding_runs_of_ascii_whole_is_folding_each_character(parts: list[str]) -> None:
    """Folding with offsets lowers runs of ASCII whole and folds the rest one character at a
    time: the same text and the same origins as folding every character on its own."""
    from prompt_sessions.search_text import _folded_with_offsets

    text = "".join(parts)
    pieces = [ch.lower() if ch.isascii() else fold(ch) for ch in text]
    origins = [i for i, piece in enumerate(pieces) for _ in piece]
    folded, origin = _folded_with_offsets(text)
    assert (folded, list(origin)) == ("".join(pieces), origins)
