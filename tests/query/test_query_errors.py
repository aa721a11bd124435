"""Malformed queries are refused with a message naming the 1-based position of the mistake."""

from __future__ import annotations

import pytest

from clameur.kit.errors import ClameurError
from clameur.query import QuerySyntaxError, parse


def error_of(source: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(source)
    return caught.value


def test_the_error_message_names_the_problem_and_position():
    error = error_of("cafe (the OR lait")
    assert str(error) == "unbalanced parenthesis at position 6: '(' is never closed"
    assert (error.message, error.position) == ("unbalanced parenthesis", 6)


def test_a_query_syntax_error_is_a_clameur_error_with_a_400_status():
    error = error_of("(")
    assert isinstance(error, ClameurError)
    assert error.status_code == 400


def test_an_empty_query_is_refused_at_position_one():
    for source in ("", "   "):
        error = error_of(source)
        assert (error.message, error.position) == ("empty query", 1)


def test_an_unclosed_parenthesis_is_refused_at_its_position():
    error = error_of("a OR (b AND (c)")
    assert (error.message, error.position) == ("unbalanced parenthesis", 6)


def test_a_closing_parenthesis_without_an_opening_one_is_refused_at_its_position():
    error = error_of("a OR b)")
    assert (error.message, error.position) == ("unbalanced parenthesis", 7)
    assert "no matching '('" in str(error)


def test_a_closing_parenthesis_at_the_start_is_refused():
    assert error_of(") a").position == 1


def test_empty_parentheses_are_refused_at_the_opening_one():
    error = error_of("a ()")
    assert (error.message, error.position) == ("empty parentheses", 3)


def test_an_unclosed_quote_is_refused_at_its_position():
    error = error_of('a "fyre festival')
    assert (error.message, error.position) == ("unbalanced quote", 3)


def test_a_stray_closing_french_quote_is_refused():
    error = error_of("a »")
    assert (error.message, error.position) == ("unbalanced quote", 3)


def test_an_empty_phrase_is_refused():
    error = error_of('a ""')
    assert (error.message, error.position) == ("empty phrase", 3)


@pytest.mark.parametrize(
    ("source", "position", "side"),
    [
        ("AND a", 1, "left"),
        ("a AND", 3, "right"),
        ("a OR", 3, "right"),
        ("OR a", 1, "left"),
        ("a OR OR b", 3, "right"),
        ("a NOT", 3, "right"),
        ("NOT", 1, "right"),
        ("(a AND) b", 4, "right"),
        ("a NEAR/3", 3, "right"),
        ("NEAR/3 a", 1, "left"),
    ],
)
def test_an_operator_without_operand_is_refused_at_the_operator(source, position, side):
    error = error_of(source)
    assert (error.message, error.position) == ("operator without operand", position)
    assert f"on its {side}" in error.detail


def test_a_lone_minus_sign_is_refused():
    error = error_of("cafe - the")
    assert (error.message, error.position) == ("operator without operand", 6)


def test_an_unknown_field_is_refused_at_the_field_name():
    error = error_of("cafe colour:red")
    assert (error.message, error.position) == ("unknown field", 6)
    assert "'colour'" in error.detail


def test_a_url_outside_quotes_is_an_unknown_field_and_the_message_says_to_quote_it():
    error = error_of("https://clameur.fr")
    assert error.message == "unknown field"
    assert "quotes" in error.detail


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("lang:french", 6),
        ("network:myspace", 9),
        ("sentiment:happy", 11),
        ("intent:refund", 8),
        ("author:@", 8),
        ("x author:a/b", 10),
    ],
)
def test_a_bad_field_value_is_refused_at_the_value(source, position):
    error = error_of(source)
    assert (error.message, error.position) == ("bad field value", position)


def test_a_field_without_value_is_refused():
    error = error_of("a lang:")
    assert (error.message, error.position) == ("missing field value", 3)


@pytest.mark.parametrize("near", ["NEAR/0", "NEAR/x", "NEAR/-1", "NEAR", "NEAR/", "NEAR/3x"])
def test_a_malformed_near_is_refused_at_its_position(near):
    error = error_of(f"a {near} b")
    assert (error.message, error.position) == ("bad NEAR", 3)


def test_near_refuses_a_group_on_its_left():
    error = error_of("(a OR b) NEAR/3 c")
    assert (error.message, error.position) == ("bad NEAR", 10)


def test_near_refuses_a_field_on_its_right():
    error = error_of("a NEAR/3 lang:fr")
    assert (error.message, error.position) == ("bad NEAR", 10)


def test_near_cannot_be_chained():
    error = error_of("a NEAR/3 b NEAR/3 c")
    assert (error.message, error.position) == ("bad NEAR", 12)


def test_a_term_of_punctuation_only_is_refused():
    error = error_of("cafe &&")
    assert (error.message, error.position) == ("term without letters or digits", 6)


def test_a_wildcard_alone_is_refused():
    error = error_of("cafe *")
    assert (error.message, error.position) == ("bad wildcard", 6)


def test_a_deeply_nested_query_is_refused_without_a_recursion_error():
    error = error_of("(" * 500 + "a" + ")" * 500)
    assert error.message == "query too deeply nested"


def test_a_long_chain_of_nots_is_refused_without_a_recursion_error():
    assert error_of("NOT " * 500 + "a").message == "query too deeply nested"


def test_a_very_long_query_is_refused():
    assert error_of("a " * 20_000).message == "query too long"


def test_the_pointer_shows_a_caret_under_the_position():
    error = error_of("cafe AND")
    assert error.pointer("cafe AND") == "cafe AND\n     ^"


def test_positions_count_characters_not_bytes():
    error = error_of("été (")
    assert error.position == 5
