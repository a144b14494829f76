"""``json_lines``, the JSON Lines reader the codex and claude-code importers share: a file read in
one call gives the same numbered values as one read line by line (DESIGN section 16)."""

from __future__ import annotations

import pytest

from prompt_sessions.importers.common import json_lines
from prompt_sessions.importing import Skipped


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"a":1}\n{"b":2}\n', [(1, {"a": 1}), (2, {"b": 2})]),
        (b'{"a":1}\n\n  \n{"b":2}\n', [(1, {"a": 1}), (4, {"b": 2})]),
        (b'{"a":1}\n5\n', [(1, {"a": 1}), (2, 5)]),
        (b"", []),
    ],
)
def test_values_carry_their_line_numbers(data: bytes, expected: list) -> None:
    """Blank lines keep the numbers of the lines after them; a plain value is a value."""
    assert list(json_lines(data)) == expected


def test_two_values_on_a_line_or_one_over_two_lines_are_skipped_by_number() -> None:
    """A line holding two values, or a value broken over two lines, is not read as whole
    values: each such line is named and skipped, the good lines kept."""
    found = list(json_lines(b'{"a":1} {"c":3}\n{"b":2}\n{"d":\n4}\n'))
    assert [n for n, v in found if isinstance(v, Skipped)] == [1, 3, 4]
    assert [(n, v) for n, v in found if not isinstance(v, Skipped)] == [(2, {"b": 2})]
