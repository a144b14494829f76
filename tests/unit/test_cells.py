"""Widths in terminal cells and cuts between graphemes (family emoji, CJK, combining marks)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import split_graphemes

from prompt_sessions.cells import boundary, cell_len, fit, fit_name, pad

FAMILY = "👨‍👩‍👧‍👦"  # four people joined by zero-width joiners: 7 code points, 2 cells
THUMB = "👍🏽"  # an emoji with a skin-tone modifier
PIECES = [FAMILY, THUMB, "日本", "é", "e\u0301", "ab", " ", "❤️"]


def graphemes(text: str) -> list[str]:
    spans, _ = split_graphemes(text)
    return [text[start:stop] for start, stop, _ in spans]


def test_a_family_is_two_cells_and_a_cut_keeps_it_whole_or_leaves_it_out() -> None:
    """fit never shows three of the four people: the family is whole or replaced by the cut."""
    text = "ab" + FAMILY + FAMILY + "cd"
    assert cell_len(FAMILY) == 2
    assert [fit(text, w) for w in (3, 4, 5, 8)] == [
        "ab…",
        "ab…",
        "ab" + FAMILY + "…",
        text,
    ]


def test_pad_counts_cells_so_cjk_and_emoji_names_keep_columns() -> None:
    """pad makes every value exactly ``width`` cells wide, whatever its characters."""
    for name in ("plain", "日本語のセッション名", FAMILY + " trip", "e\u0301tude"):
        assert cell_len(pad(name, 8)) == 8
        assert cell_len(pad(name, 8, right=True)) == 8


@pytest.mark.parametrize(
    ("text", "index", "back", "ahead"),
    [
        ("xy" + FAMILY + "z", 4, 2, 9),  # inside the family
        ("xy" + FAMILY + "z", 2, 2, 2),  # at its start
        ("a" + THUMB, 2, 1, 3),  # between the thumb and its skin tone
        ("e\u0301x", 1, 0, 2),  # before a combining accent
    ],
)
def test_boundary_moves_out_of_a_grapheme(text: str, index: int, back: int, ahead: int) -> None:
    """boundary gives the nearest grapheme edge before (or after) an index inside one."""
    assert boundary(text, index) == back
    assert boundary(text, index, forward=True) == ahead


@given(st.lists(st.sampled_from(PIECES), max_size=12), st.integers(0, 30))
def test_fit_is_within_width_and_made_of_whole_graphemes(parts: list[str], width: int) -> None:
    """For any text and width: at most ``width`` cells, and every grapheme of the result
    (but the ellipsis) is a grapheme of the text, in order, from its start."""
    text = "".join(parts)
    cut = fit(text, width)
    assert cell_len(cut) <= width
    kept = cut[:-1] if cut != text and cut.endswith("…") else cut
    assert graphemes(text)[: len(graphemes(kept))] == graphemes(kept)


def test_fit_name_keeps_the_mark_that_tells_a_fork_from_its_original() -> None:
    """A long name ending in "(before rewind)" is cut before the mark, which stays whole; a
    name without one, or a mark taking more than half the width, is cut as fit cuts it."""
    name = "Hello, plan the 1.0 release please (before rewind)"
    assert fit_name(name, 40) == "Hello, plan the 1.0 rel… (before rewind)"
    assert cell_len(fit_name("名前がとても長いセッションの名前です (copy)", 20)) <= 20
    assert fit_name("名前がとても長いセッションの名前です (copy)", 20).endswith("… (copy)")
    assert fit_name(name, 20) == fit(name, 20)
    assert fit_name("A long name with no mark at its end", 20) == "A long name with no…"
    assert fit_name("short (x)", 40) == "short (x)"


@given(st.lists(st.sampled_from([*PIECES, " (copy)", "("]), max_size=12), st.integers(0, 30))
def test_fit_name_is_within_width(parts: list[str], width: int) -> None:
    """For any text and width, fit_name gives at most ``width`` cells."""
    assert cell_len(fit_name("".join(parts), width)) <= width
