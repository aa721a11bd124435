"""The query language, bullet by bullet of its specification, on example posts."""

from __future__ import annotations

from typing import Any

from clameur.kit.text import Token, tokenize
from clameur.query import PostDoc, parse
from clameur.query.ast import Node, Not, Term, to_source
from clameur.query.compiled import Query


def matches(query: str, text: str, **fields: Any) -> bool:
    return parse(query).matches(PostDoc.from_fields(text, **fields))


# -- terms --------------------------------------------------------------------------------------


def test_a_term_matches_a_whole_token_not_part_of_one():
    assert matches("cafe", "un cafe noir")
    assert not matches("cafe", "une cafetiere")


def test_terms_are_case_insensitive():
    assert matches("CAFE", "Un Café")


def test_terms_are_accent_insensitive_both_ways():
    assert matches("cafe", "Café")
    assert matches("café", "cafe")


def test_an_elided_article_is_split_from_its_word():
    assert matches("hotel", "L'hôtel est plein")


def test_an_elision_with_a_typographic_apostrophe_is_split():
    assert matches("ete", "Vacances d’été")


def test_elisions_of_que_are_split():
    assert matches("elle", "lorsqu'elle est partie")
    assert matches("a", "jusqu’à demain")


def test_a_term_written_with_an_elision_matches_the_bare_word():
    assert matches("l'hôtel", "un hotel")


def test_ligatures_fold_to_their_letters():
    assert matches("coeur", "Mon cœur")


def test_a_term_matches_inside_punctuation():
    assert matches("fyre", "(fyre)...")


# -- phrases ------------------------------------------------------------------------------------


def test_a_phrase_matches_consecutive_tokens_across_punctuation():
    assert matches('"fyre festival"', "FYRE-FESTIVAL")


def test_a_phrase_does_not_match_tokens_in_another_order():
    assert not matches('"fyre festival"', "festival fyre")


def test_a_phrase_does_not_match_tokens_with_a_gap():
    assert not matches('"fyre festival"', "fyre music festival")


def test_a_phrase_matches_whole_tokens_not_parts_of_them():
    assert not matches('"service cli"', "le service client")
    assert not matches('"ervice client"', "le service client")
    assert matches('"service client"', "le service client")


def test_a_hyphenated_term_is_a_phrase():
    assert matches("fyre-festival", "Fyre festival")
    assert not matches("fyre-festival", "festival of fyre")


def test_a_phrase_ignores_elided_articles():
    assert matches('"hotel de ville"', "l'hôtel de ville")


def test_a_phrase_can_be_written_in_french_quotes():
    assert matches("«service client»", "le service client")


# -- wildcards ----------------------------------------------------------------------------------


def test_a_trailing_star_matches_a_prefix():
    assert matches("rembours*", "je veux un remboursement")


def test_a_prefix_also_matches_the_bare_prefix():
    assert matches("rembours*", "rembours")


def test_a_question_mark_matches_exactly_one_character():
    assert matches("colo?r", "colour")
    assert not matches("colo?r", "color")
    assert not matches("colo?r", "colouur")


def test_a_star_inside_a_term_matches_any_run_of_characters():
    assert matches("c*r", "colour")
    assert matches("c*r", "cr")


def test_a_leading_star_matches_a_suffix():
    assert matches("*ment", "remboursement")
    assert not matches("*ment", "mentir")


def test_a_wildcard_term_still_matches_whole_tokens_only():
    assert not matches("fest?", "festival")


def test_a_wildcard_matches_accented_text():
    assert matches("ete*", "étés")


# -- hashtags and mentions ----------------------------------------------------------------------


def test_a_hashtag_matches_that_hashtag():
    assert matches("#fyrefestival", "Quel désastre #FyreFestival")


def test_a_hashtag_does_not_match_the_plain_word():
    assert not matches("#fyrefestival", "the fyrefestival")


def test_a_hashtag_does_not_match_the_mention():
    assert not matches("#fyrefestival", "@fyrefestival")


def test_a_mention_matches_only_that_mention():
    assert matches("@fyrefestival", "merci @FyreFestival")
    assert not matches("@fyrefestival", "#fyrefestival")
    assert not matches("@fyrefestival", "fyrefestival")


def test_a_plain_term_matches_the_word_the_hashtag_and_the_mention():
    for text in ("fyrefestival", "#fyrefestival", "@fyrefestival"):
        assert matches("fyrefestival", text)


def test_a_mention_may_hold_an_underscore():
    assert matches("@fyre_fest", "cc @Fyre_Fest")


def test_a_hashtag_can_take_a_wildcard():
    assert matches("#fyre*", "#fyrefestival2017")
    assert not matches("#fyre*", "fyrefestival")


# -- operators ----------------------------------------------------------------------------------


def test_and_needs_both_sides():
    assert matches("cafe AND croissant", "cafe et croissant")
    assert not matches("cafe AND croissant", "cafe seul")


def test_terms_side_by_side_mean_and():
    assert matches("cafe croissant", "croissant puis cafe")
    assert not matches("cafe croissant", "croissant seul")


def test_or_needs_either_side():
    assert matches("cafe OR the", "un the")
    assert not matches("cafe OR the", "un chocolat")


def test_not_excludes_posts_with_the_term():
    assert matches("cafe NOT decafeine", "cafe noir")
    assert not matches("cafe NOT decafeine", "cafe decafeine")


def test_a_minus_sign_is_not():
    assert not matches("cafe -decafeine", "cafe decafeine")
    assert matches("cafe -decafeine", "cafe serre")


def test_a_minus_sign_can_negate_a_phrase_or_a_group():
    assert not matches('cafe -"bien chaud"', "cafe bien chaud")
    assert not matches("cafe -(the OR lait)", "cafe au lait")


def test_a_hyphen_inside_a_word_is_not_a_minus_sign():
    assert matches("fyre-festival", "fyre festival")


def test_not_binds_tighter_than_and():
    # NOT a AND b is (NOT a) AND b.
    assert matches("NOT a AND b", "b")
    assert not matches("NOT a AND b", "a b")


def test_and_binds_tighter_than_or():
    # a OR b AND c is a OR (b AND c).
    assert matches("a OR b AND c", "a")
    assert not matches("a OR b AND c", "b")


def test_parentheses_override_precedence():
    assert not matches("(a OR b) AND c", "a")
    assert matches("(a OR b) AND c", "b c")


def test_lower_case_operators_are_ordinary_words():
    assert matches("rock and roll", "rock and roll")
    assert not matches("rock and roll", "rock roll")
    assert matches("not", "not now")
    assert matches("cafe or", "cafe or the")
    assert not matches("cafe or the", "cafe")


# -- NEAR ---------------------------------------------------------------------------------------


def test_near_matches_terms_within_the_distance_in_any_order():
    assert matches("service NEAR/3 nul", "le service est vraiment nul")
    assert matches("service NEAR/3 nul", "nul ce service")


def test_near_rejects_terms_further_apart_than_the_distance():
    assert not matches("service NEAR/2 nul", "le service est vraiment nul")


def test_near_one_means_adjacent():
    assert matches("a NEAR/1 b", "b a")
    assert not matches("a NEAR/1 b", "a x b")


def test_the_ordered_near_suffix_may_be_a_capital():
    assert matches("service NEAR/3F nul", "service vraiment nul")
    assert not matches("service NEAR/3F nul", "nul ce service")


def test_ordered_near_needs_the_left_term_first():
    assert matches("service NEAR/3f nul", "service vraiment nul")
    assert not matches("service NEAR/3f nul", "nul ce service")


def test_near_takes_phrases_prefixes_and_wildcards():
    assert matches('"service client" NEAR/4 rembours*', "service client, aucun remboursement")
    assert matches("colo?r NEAR/2 red", "the colour is red")


def test_near_measures_the_gap_between_the_ends_of_phrases():
    assert matches('"service client" NEAR/1 nul', "nul service client")
    assert matches('"service client" NEAR/1 nul', "service client nul")
    assert not matches('"service client" NEAR/1 nul', "service client vraiment nul")


def test_near_needs_two_distinct_tokens_for_the_same_term():
    assert not matches("cafe NEAR/3 cafe", "un cafe")
    assert matches("cafe NEAR/3 cafe", "cafe, encore un cafe")


def test_near_with_a_hashtag_keeps_the_kind():
    assert matches("#fyre NEAR/2 festival", "#fyre festival")
    assert not matches("#fyre NEAR/2 festival", "fyre festival")


# -- fields -------------------------------------------------------------------------------------


def test_lang_field_matches_the_post_language():
    assert matches("lang:fr", "bonjour", lang="fr")
    assert not matches("lang:fr", "hello", lang="en")


def test_lang_field_matches_regional_variants():
    assert matches("lang:pt", "ola", lang="pt-BR")
    assert not matches("lang:pt-br", "ola", lang="pt")


def test_a_field_never_matches_a_post_without_the_value():
    assert not matches("lang:fr", "bonjour")
    assert not matches("sentiment:negative", "nul")


def test_network_field_matches_the_network():
    assert matches("network:instagram", "photo", network="instagram")
    assert not matches("network:instagram", "photo", network="x")


def test_network_twitter_is_x():
    assert matches("network:twitter", "tweet", network="x")


def test_author_field_matches_with_or_without_at_sign():
    assert matches("author:@Clameur", "post", author="clameur")
    assert matches("author:clameur", "post", author="@Clameur")
    assert not matches("author:clameur", "post", author="other")


def test_sentiment_field_matches_the_sentiment():
    assert matches("sentiment:negative", "bof", sentiment="negative")
    assert not matches("sentiment:negative", "bof", sentiment="neutral")


def test_intent_field_matches_any_of_the_post_intents():
    assert matches("intent:complaint", "rendez-moi", intents=("question", "complaint"))
    assert not matches("intent:complaint", "merci", intents=("praise",))


def test_field_values_are_case_insensitive():
    assert matches("LANG:FR sentiment:Negative intent:Purchase_Intent", "x", lang="fr",
                   sentiment="negative", intents=("purchase_intent",))  # fmt: skip


def test_a_field_value_can_be_quoted():
    assert matches('author:"clameur"', "post", author="clameur")


def test_fields_combine_with_terms():
    query = "(cafe OR the) lang:fr -sentiment:positive"
    assert matches(query, "un cafe", lang="fr", sentiment="negative")
    assert not matches(query, "un cafe", lang="fr", sentiment="positive")


# -- documents ----------------------------------------------------------------------------------


def test_post_doc_normalises_its_fields():
    doc = PostDoc.from_fields(
        "x", lang="FR_ca", network="Twitter", author="@Élodie", sentiment="NEGATIVE",
        intents=["Purchase-Intent"],
    )  # fmt: skip
    assert (doc.lang, doc.network, doc.author, doc.sentiment, doc.intents) == (
        "fr-ca", "x", "elodie", "negative", ("purchase_intent",),
    )  # fmt: skip


def test_query_keeps_its_source_and_prints_canonically():
    query = parse("Cafe  -(Thé OR lait)")
    assert query.source == "Cafe  -(Thé OR lait)"
    assert query.canonical() == "cafe AND NOT (the OR lait)"


def test_queries_with_the_same_meaning_in_the_same_shape_are_equal():
    assert parse("cafe the") == parse("CAFE AND thé")


def test_field_values_are_those_of_the_import_schema():
    from clameur.pipeline import schemas
    from clameur.query import ast

    assert (ast.NETWORKS, ast.SENTIMENTS, ast.INTENTS) == (
        schemas.NETWORKS, schemas.SENTIMENTS, schemas.INTENTS,
    )  # fmt: skip


def test_a_query_of_thousands_of_alternatives_matches_without_a_recursion_error():
    query = parse(" OR ".join(f"m{number}" for number in range(1500)))
    assert query.matches(PostDoc.from_fields("le m1499"))
    assert not query.matches(PostDoc.from_fields("le m1500"))


def test_a_post_doc_built_from_tokens_matches_like_one_built_from_text():
    doc = PostDoc(tokenize("Un Café à l'hôtel #promo"), lang="FR")
    assert parse('"cafe a hotel" #promo lang:fr').matches(doc)


def test_a_post_from_fields_has_the_tokens_of_its_text():
    text = "L'été au #Lueurs avec @Fyre_Fest, qu'il dit: NAVETTE-gratuite"
    assert PostDoc.from_fields(text).tokens == tokenize(text)


def test_a_post_from_fields_equals_a_post_built_from_its_tokens():
    text = "Café à l'hôtel #promo @bob"
    built = PostDoc(tokenize(text), lang="fr", author="@Bob", intents=["spam"])
    assert PostDoc.from_fields(text, lang="FR", author="bob", intents=("spam",)) == built
    assert PostDoc.from_fields(text, lang="en") != built


def test_hand_built_tokens_holding_a_separator_character_match_token_by_token():
    doc = PostDoc([Token("a\x00b", "word", 0), Token("cafe", "hashtag", 1)])
    assert not parse('"a b"').matches(doc)
    assert not parse("b").matches(doc)
    assert parse("a*").matches(doc)
    assert parse("a*b").matches(doc)
    assert parse("a-b* cafe").matches(doc) is False
    assert parse("#caf?").matches(doc)


def test_a_query_nested_too_deeply_to_generate_still_matches():
    node: Node = Term("cafe")
    for _ in range(301):
        node = Not(node)
    query = Query(to_source(node), node)
    assert query.matches(PostDoc.from_fields("un cafe")) is False
    assert query.matches(PostDoc.from_fields("un the")) is True
