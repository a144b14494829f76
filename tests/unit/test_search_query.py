"""The search language's parser: case by case, and with generated input (DESIGN section 12)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prompt_sessions.errors import UsageError
from prompt_sessions.search_query import Filter, Query, QueryError, Word, parse
from prompt_sessions.search_text import Term
from prompt_sessions.storage.search_index import match_expression


def test_words_phrases_prefixes_and_exclusions() -> None:
    """Bare words, quoted phrases, trailing * and leading - are read as such."""
    q = parse('deploy  "exact phrase" config* -draft -"old plan"')
    assert q.words == (
        Word("deploy"),
        Word("exact phrase", phrase=True),
        Word("config", prefix=True),
        Word("draft", negated=True),
        Word("old plan", phrase=True, negated=True),
    )
    assert q.include == [
        Term(("deploy",)),
        Term(("exact", "phrase")),
        Term(("config",), prefix=True),
    ]
    assert q.exclude == [Term(("draft",)), Term(("old", "plan"))]


def test_filters_are_read_with_their_values() -> None:
    """Every filter of the language, a quoted value with spaces, and a negated filter."""
    q = parse(
        'x po:"my po" role:USER tag:ops is:Archived -is:fork after:2025-01-01 '
        "before:2025-02-01 in:name"
    )
    assert q.filters == (
        Filter("po", "my po"),
        Filter("role", "user"),
        Filter("tag", "ops"),
        Filter("is", "archived"),
        Filter("is", "fork", negated=True),
        Filter("after", "2025-01-01"),
        Filter("before", "2025-02-01"),
        Filter("in", "name"),
    )


def test_words_that_fold_to_several_become_phrases() -> None:
    """A word with punctuation inside, or CJK text, is a run of words that must be adjacent."""
    assert parse("config.yaml").include == [Term(("config", "yaml"))]
    assert parse("数据库").include == [Term(("数", "据", "库"))]
    assert parse("Crème").include == [Term(("creme",))]


def test_text_with_an_unknown_key_needs_quotes() -> None:
    """A colon after letters reads as a filter; quoted it is text to find."""
    with pytest.raises(QueryError, match="unknown filter http:"):
        parse("http://example.com")
    assert parse('"http://example.com"').include == [Term(("http", "example", "com"))]
    assert parse("12:30 meeting").include == [Term(("12", "30")), Term(("meeting",))]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"open', "unclosed quote"),
        ('po:"open', "unclosed quote"),
        ("x colour:red", "unknown filter colour:"),
        ("x role:robot", "role:robot is not known; use user|assistant|tool|system"),
        ("x is:deleted", "is:deleted is not known"),
        ("x in:body", "in:body is not known"),
        ("x after:2025-02-30", "not a real date"),
        ("x before:01/02/2025", "not a date; write YYYY-MM-DD"),
        ("x po:", "needs a value"),
        ('x po:" "', "needs a value"),
        ("", "nothing to look for"),
        ("is:archived", "nothing to look for"),
        ("-alone", "nothing to look for"),
        ("!!! ...", "nothing to look for"),
    ],
)
def test_malformed_queries_say_what_is_wrong(text: str, message: str) -> None:
    """Each malformed query raises a usage error with one line naming the problem."""
    with pytest.raises(QueryError, match=message.replace("|", r"\|")) as caught:
        parse(text)
    assert isinstance(caught.value, UsageError)
    assert "\n" not in str(caught.value)


def test_canonical_spelling() -> None:
    """str() spells a query back canonically: single spaces, lower-case keys, quoted values."""
    q = parse('  -"a b"*  x   PO:"my po"   IS:PINNED ')
    assert str(q) == '-"a b"* x po:"my po" is:pinned'
    assert parse(str(q)) == q


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'x tag:"a\"b"', 'a"b'),
        (r'x tag:"say \"hi\""', 'say "hi"'),
        (r'x po:"back\\slash"', "back\\slash"),
        (r'x po:"C:\path"', "C:\\path"),  # a backslash before anything else is itself
    ],
)
def test_a_quote_or_backslash_inside_quotes_is_escaped(text: str, value: str) -> None:
    """Inside quotes \\" is a quote and \\\\ a backslash: a tag or PO name holding a quote
    can be searched for, and the canonical spelling reads back the same."""
    q = parse(text)
    assert [f.value for f in q.filters] == [value]
    assert parse(str(q)) == q


@pytest.mark.parametrize("value", ['a"b', '"lead', 'tail"', "back\\", 'two "words" here', "\\\""])
def test_a_filter_made_by_a_program_spells_a_query_that_reads_back(value: str) -> None:
    """The explorer turns its tag and PO controls into filters (``search_controls``): any value
    a tag or PO name may hold spells a query that parses to that same value."""
    q = Query((Word("x"),), (Filter("tag", value),))
    assert parse(str(q)).filters == (Filter("tag", value),)


def test_match_expression_quotes_every_word() -> None:
    """The FTS5 expression joins the terms with AND and the exclusions with one NOT of an OR
    group (flat, however many); prefixes become FTS5 prefix queries."""
    q = parse('alpha "b c" d* -e -"f g"')
    assert match_expression(q) == '("alpha" AND "b c" AND "d" *) NOT ("e" OR "f g")'


def test_with_po_adds_a_filter() -> None:
    """The API's po_name is the filter po:NAME."""
    assert parse("x").with_po("coordinator") == parse("x po:coordinator")
    assert parse("x").with_po(None) == parse("x")


# ---------------------------------------------------------------------- generated input

_ALPHABET = st.sampled_from(
    list('ab "-*:\t\n\u00e9\u6570po:is:role:after:2025-01-01x!.é\u0301\\')
)
_pieces = st.one_of(
    st.text(min_size=0, max_size=30),
    st.lists(
        st.sampled_from(
            [
                "word",
                "-",
                '"',
                "*",
                ":",
                " ",
                "po:",
                "role:user",
                "is:archived",
                "after:2025-01-01",
                "tag:x",
                "in:name",
                "数据",
                "Crème",
                "-x",
                'po:"a b"',
                "\\",
                '\\"',
                'tag:"a\\"b"',
            ]
        ),
        max_size=8,
    ).map("".join),
    st.text(_ALPHABET, max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(_pieces)
def test_parser_never_crashes_and_round_trips(text: str) -> None:
    """Any text either parses or raises QueryError; what parses spells back to itself."""
    try:
        q = parse(text)
    except QueryError as exc:
        assert "\n" not in str(exc).replace(repr(text.strip()), "")
        return
    assert isinstance(q, Query)
    again = parse(str(q))
    assert again == q
    assert str(again) == str(q)
    assert q.include  # a query that parses has something to find
    match_expression(q)


def test_operator_words_get_a_hint() -> None:
    """OR, AND and NOT as other tools spell their operators are words here: the hint says so;
    lowercase, quoted or absent, no hint."""
    from prompt_sessions.search_query import operator_hint

    assert operator_hint("sugar OR tides").startswith("OR is a word here, not an operator")
    assert operator_hint("tea AND NOT coffee").startswith("AND is a word here")
    assert operator_hint("sugar or tides") == ""
    assert operator_hint('"sugar OR tides"') == ""
    assert operator_hint("sugar tides") == ""
    assert operator_hint('unclosed "quote') == ""


def test_cli_no_matches_with_or_says_how_words_combine(run) -> None:
    """``search sugar OR tides`` finding nothing says that OR is a word here."""
    run("new", "po", "--name", "Baking")
    run("send", "po", "sugar and flour")
    code, out, _ = run("search", "sugar", "OR", "tides")
    assert code == 0
    assert out.startswith("No matches. OR is a word here, not an operator")
    code, out, _ = run("search", "nothing", "here")
    assert out == "No matches.\n"
