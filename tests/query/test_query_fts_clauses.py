"""fts_clauses: a superset filter for a full-text index, as OR of AND-clauses of terms."""

from __future__ import annotations

from clameur.query import parse


def clauses(source: str) -> list[list[tuple[str, bool]]] | None:
    return parse(source).fts_clauses()


def test_a_term_needs_its_folded_word():
    assert clauses("Café") == [[("cafe", False)]]


def test_and_needs_every_word_in_one_clause():
    assert clauses("cafe croissant") == [[("cafe", False), ("croissant", False)]]


def test_or_gives_one_clause_per_side():
    assert clauses("cafe OR the") == [[("cafe", False)], [("the", False)]]


def test_and_of_ors_is_distributed():
    assert clauses("(a OR b) c") == [[("a", False), ("c", False)], [("b", False), ("c", False)]]


def test_a_prefix_becomes_a_prefix_term():
    assert clauses("rembours*") == [[("rembours", True)]]


def test_a_wildcard_inside_a_term_keeps_the_part_before_it_as_a_prefix():
    assert clauses("colo?r") == [[("colo", True)]]
    assert clauses("rem*ment") == [[("rem", True)]]


def test_a_prefix_shorter_than_two_characters_is_dropped():
    assert clauses("r* cafe") == [[("cafe", False)]]
    assert clauses("*ment") is None


def test_a_phrase_contributes_its_words():
    assert clauses('"service client"') == [[("client", False), ("service", False)]]


def test_hashtags_and_mentions_contribute_the_bare_word():
    assert clauses("#fyre OR @fyre_fest") == [[("fyre", False)], [("fyre_fest", False)]]


def test_near_contributes_both_sides():
    assert clauses("a NEAR/3 rembours*") == [[("a", False), ("rembours", True)]]


def test_a_negation_restricts_nothing():
    assert clauses("NOT cafe") is None
    assert clauses("cafe -the") == [[("cafe", False)]]


def test_a_double_negation_restricts_like_its_operand():
    assert clauses("NOT NOT cafe") == [[("cafe", False)]]


def test_fields_restrict_nothing_in_a_full_text_index():
    assert clauses("lang:fr") is None
    assert clauses("lang:fr cafe") == [[("cafe", False)]]


def test_or_with_an_unrestricted_side_is_unrestricted():
    assert clauses("cafe OR lang:fr") is None


def test_a_clause_that_contains_another_is_dropped():
    assert clauses("a OR (a b)") == [[("a", False)]]


def test_too_many_alternatives_give_no_restriction():
    assert clauses(" OR ".join(f"word{i}" for i in range(40))) is None


def test_a_large_and_of_ors_keeps_the_smallest_operand_instead_of_blowing_up():
    first = "(" + " OR ".join(f"a{i}" for i in range(10)) + ")"
    second = "(" + " OR ".join(f"b{i}" for i in range(10)) + ")"
    result = clauses(f"{first} {second} c")
    assert result == [[("c", False)]]
