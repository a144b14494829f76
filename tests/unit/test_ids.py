"""Session ids: the one-pass check of many ids agrees with checking each one."""

from __future__ import annotations

import pytest

from prompt_sessions.ids import all_valid_ids, is_valid_id, new_id

A, B = new_id(), new_id()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], True),
        ([A], True),
        ([A, B], True),
        ([A, "x"], False),
        ([A.upper()], False),
        ([A[:-1]], False),
        ([A + "0"], False),
        ([f"{A}\n{B}"], False),  # two ids in one value are not one id
        ([A + "\n"], False),
        ([A, ""], False),
        ([A, 7], False),  # type: ignore[list-item]
    ],
)
def test_all_valid_ids_agrees_with_is_valid_id(values: list[str], expected: bool) -> None:
    """Each case gives what checking every value with is_valid_id gives."""
    assert all_valid_ids(values) is expected
    assert all(is_valid_id(v) for v in values) is expected


def test_all_valid_ids_agrees_with_is_valid_id_on_every_one_character_change() -> None:
    """Any single character of an id replaced (a dash moved, a digit made upper case or
    non-hex, a newline or a non-ASCII letter slipped in), first, middle or last in a list,
    is refused exactly when is_valid_id refuses it."""
    base = [new_id() for _ in range(3)]
    for where in range(3):
        for pos in range(36):
            for char in ("-", "0", "f", "g", "A", "\n", "é", "ü"):
                values = list(base)
                values[where] = values[where][:pos] + char + values[where][pos + 1 :]
                expected = all(is_valid_id(v) for v in values)
                assert all_valid_ids(values) is expected, (where, pos, char)
