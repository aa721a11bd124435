"""QueryIndex: saved queries indexed by the terms they need."""

from __future__ import annotations

from clameur.query import PostDoc, QueryIndex, parse


def doc(text: str, **fields) -> PostDoc:
    return PostDoc.from_fields(text, **fields)


def index_of(*sources: str) -> QueryIndex:
    return QueryIndex({number: parse(source) for number, source in enumerate(sources, start=1)})


def test_match_returns_the_ids_of_matching_queries_in_order():
    index = index_of("cafe", "the", "cafe OR croissant")
    assert index.match(doc("un cafe et un croissant")) == [1, 3]


def test_a_query_whose_words_are_absent_is_not_evaluated():
    index = index_of("cafe", "the")
    assert index.candidates(doc("un cafe")) == [1]


def test_a_query_without_a_necessary_term_is_always_evaluated():
    index = index_of("cafe", "NOT spam")
    assert index.candidates(doc("bonjour")) == [2]
    assert index.match(doc("bonjour")) == [2]


def test_prefix_queries_are_found_through_their_prefix():
    index = index_of("rembours*", "remboursement")
    assert index.match(doc("remboursements svp")) == [1]


def test_long_prefixes_are_found_through_their_first_characters():
    index = index_of("remboursem*")
    assert index.candidates(doc("rembourser")) == [1]
    assert index.match(doc("rembourser")) == []
    assert index.match(doc("remboursement")) == [1]


def test_field_only_queries_are_indexed_by_their_value():
    index = index_of("sentiment:negative", "lang:en")
    assert index.candidates(doc("x", sentiment="negative", lang="fr")) == [1]


def test_a_regional_language_finds_queries_on_the_base_language():
    index = index_of("lang:pt")
    assert index.match(doc("ola", lang="pt-br")) == [1]


def test_hashtag_queries_are_found_through_the_bare_word():
    index = index_of("#fyre")
    assert index.match(doc("#fyre")) == [1]
    assert index.match(doc("fyre")) == []


def test_removed_queries_are_no_longer_matched():
    index = index_of("cafe", "cafe noir", "NOT the")
    index.remove(2)
    index.remove(3)
    assert index.match(doc("cafe noir")) == [1]
    assert len(index) == 1
    assert 2 not in index


def test_adding_under_an_existing_id_replaces_the_query():
    index = index_of("cafe")
    index.add(1, parse("the"))
    assert index.match(doc("cafe")) == []
    assert index.match(doc("the")) == [1]


def test_removing_an_unknown_id_does_nothing():
    index = index_of("cafe")
    index.remove(42)
    assert len(index) == 1


def test_match_and_naive_matching_agree_on_an_example():
    index = index_of(
        "cafe OR the", "(cafe OR the) -lait", '"service client" NEAR/3 nul*', "lang:fr",
        "rembours* sentiment:negative", "NOT cafe", "#cafe", "c?fe", "*fe",
    )  # fmt: skip
    post = doc("Le service client, nul ! #cafe remboursé ?", lang="fr", sentiment="negative")
    assert index.match(post) == index.match_all_naive(post) == [1, 2, 3, 4, 5, 7, 8, 9]


def test_an_empty_index_matches_nothing():
    assert QueryIndex().match(doc("cafe")) == []


def test_a_word_many_queries_share_is_not_used_as_their_anchor():
    index = index_of("fyre france", "orde france", "libo france")
    assert index.candidates(doc("vive la france")) == []
    assert index.match(doc("fyre en france")) == [1]


def test_a_word_is_preferred_to_a_field_as_an_anchor():
    index = index_of("lang:fr fyre")
    assert index.candidates(doc("bonjour", lang="fr")) == []


def test_a_one_letter_word_is_not_used_as_an_anchor():
    index = index_of("a NEAR/2 rembours*")
    assert index.candidates(doc("a b c")) == []


def test_an_or_of_terms_and_fields_matches_through_its_own_keys():
    index = index_of("cafe OR #the OR @lait OR remb* OR lang:pt OR intent:spam")
    assert index.match(doc("un cafe")) == [1]
    assert index.match(doc("un #the")) == [1]
    assert index.match(doc("un the")) == []
    assert index.match(doc("@lait")) == [1]
    assert index.match(doc("rembourse")) == [1]
    assert index.match(doc("ola", lang="pt-br")) == [1]
    assert index.match(doc("x", intents=["spam"])) == [1]
    assert index.match(doc("re mb", lang="fr", intents=["question"])) == []


def test_a_long_prefix_in_an_or_is_still_evaluated():
    index = index_of("cafe OR remboursem*")
    assert index.candidates(doc("rembourser")) == [1]
    assert index.match(doc("rembourser")) == []
    assert index.match(doc("remboursement")) == [1]


def test_an_or_of_a_hashtag_and_a_phrase_matches_either():
    index = index_of('#fyre OR "fyre festival"')
    assert index.match(doc("vu au #fyre")) == [1]
    assert index.match(doc("le fyre festival")) == [1]
    assert index.match(doc("fyre")) == []
    assert index.match(doc("festival fyre")) == []


def test_a_hashtag_query_is_not_a_candidate_for_the_bare_word():
    index = index_of("#fyre")
    assert index.candidates(doc("fyre")) == []
    assert index.candidates(doc("#fyre")) == [1]


def test_adding_and_removing_queries_keeps_the_tables_exact():
    index = index_of("cafe OR the", "caf* lait", "remb*")
    index.remove(1)
    index.add(4, parse("cafe"))
    index.add(3, parse("lait"))
    assert index.match(doc("cafe lait the rembourse")) == [2, 3, 4]
    assert index.match(doc("the rembourse")) == []
