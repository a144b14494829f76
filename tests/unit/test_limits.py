"""Input guards: size and nesting limits checked before parsing untrusted input."""

from __future__ import annotations

import pytest

from prompt_sessions.errors import ImportFormatError
from prompt_sessions.limits import MAX_NESTING, check_nesting, check_size


def test_size_limit() -> None:
    """Inputs up to the limit pass; larger ones are refused with both sizes in the message."""
    check_size(b"x" * 10, limit=10)
    with pytest.raises(ImportFormatError, match="11 bytes; the limit is 10"):
        check_size(b"x" * 11, limit=10)


@pytest.mark.parametrize("opener,closer", [(b"[", b"]"), (b'{"a":', b"}")])
def test_nesting_at_the_limit_passes_and_one_more_fails(opener: bytes, closer: bytes) -> None:
    """Exactly MAX_NESTING levels pass; one more is refused."""
    check_nesting(opener * MAX_NESTING + b"1" + closer * MAX_NESTING)
    with pytest.raises(ImportFormatError, match="nested deeper"):
        check_nesting(opener * (MAX_NESTING + 1) + b"1" + closer * (MAX_NESTING + 1))


def test_deep_nesting_of_100000_levels_is_refused_quickly() -> None:
    """100,000 levels are refused without recursion."""
    with pytest.raises(ImportFormatError):
        check_nesting(b"[" * 100_000 + b"]" * 100_000)


def test_brackets_inside_strings_do_not_count() -> None:
    """Brackets in string values (including escaped quotes) are text, not nesting."""
    check_nesting(b'{"content": "' + b"[[[[{{{{" * 100 + b'\\" [[[["}')


def test_many_shallow_items_pass() -> None:
    """Wide but shallow input is fine, however many brackets it has."""
    check_nesting(b"[" + b",".join([b"[1]"] * 10_000) + b"]")


def test_unterminated_string_full_of_escaped_quotes_is_scanned_once() -> None:
    """An unterminated string of 100,000 escaped quotes is skipped in one pass (it used to take minutes).

    The brackets inside it do not count; nesting before it still does.
    """
    tail = b'"' + b'\\"[' * 100_000
    check_nesting(b"[" + tail)
    with pytest.raises(ImportFormatError):
        check_nesting(b"[" * (MAX_NESTING + 1) + tail)


def test_escaped_backslash_before_a_quote_ends_the_string() -> None:
    """In "a\\\\" the quote closes the string, so the brackets after it count."""
    opened = b"[" * MAX_NESTING
    check_nesting(opened + b'"a\\\\"' + b"]" * MAX_NESTING)
    with pytest.raises(ImportFormatError):
        check_nesting(opened + b'"a\\\\", [1]' + b"]" * MAX_NESTING)
