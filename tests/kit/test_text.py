from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clameur.kit.text import (
    Token,
    fold,
    make_tokens,
    normalise,
    split_words,
    token_kinds,
    token_texts,
    tokenize,
)


def texts(text: str) -> list[str]:
    return [token.text for token in tokenize(text)]


# -- fold ---------------------------------------------------------------------------------------


def test_fold_lowercases_and_strips_accents():
    assert fold("Café Été À l'ÎLE") == "cafe ete a l'ile"


def test_fold_expands_ligatures_and_sharp_s():
    assert fold("Œuvre Æther Straße") == "oeuvre aether strasse"


def test_fold_lowercases_compatibility_capitals():
    assert fold("ℌello") == "hello"


def test_fold_keeps_letters_of_other_scripts():
    assert fold("Привет МИР") == "привет мир"


def test_fold_is_idempotent_on_examples():
    for text in ("Ça coûte très cher", "NAÏVE façade", "ﬁn"):
        assert fold(fold(text)) == fold(text)


@given(st.text())
def test_fold_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


# -- tokenize -----------------------------------------------------------------------------------


def test_tokens_are_folded_words_with_their_positions():
    assert tokenize("Le Café, enfin!") == [
        Token("le", "word", 0),
        Token("cafe", "word", 1),
        Token("enfin", "word", 2),
    ]


def test_tokens_split_on_anything_that_is_not_a_letter_or_digit():
    assert texts("FYRE-FESTIVAL_2017/v2.0") == ["fyre", "festival", "2017", "v2", "0"]


def test_french_elided_article_is_dropped():
    assert texts("L'hôtel de l’été") == ["hotel", "de", "ete"]


def test_every_french_elision_is_dropped():
    text = "j'ai m'a n'est s'il t'as c'est qu'il jusqu'à lorsqu'on puisqu'elle d'été"
    assert texts(text) == ["ai", "a", "est", "il", "as", "est", "il", "a", "on", "elle", "ete"]


def test_elision_with_modifier_letter_apostrophe_is_dropped():
    assert texts("lʼhôtel") == ["hotel"]


def test_a_word_ending_before_an_apostrophe_is_kept_when_it_is_not_an_elision():
    assert texts("aujourd'hui don't") == ["aujourd", "hui", "don", "t"]


def test_a_lone_letter_followed_by_an_apostrophe_and_a_space_is_kept():
    assert texts("l' hôtel") == ["l", "hotel"]


def test_hashtags_and_mentions_have_their_own_kind():
    tokens = tokenize("Vu au #FyreFestival avec @Fyre_Fest")
    assert [(token.text, token.kind) for token in tokens] == [
        ("vu", "word"),
        ("au", "word"),
        ("fyrefestival", "hashtag"),
        ("avec", "word"),
        ("fyre_fest", "mention"),
    ]


def test_an_email_address_is_not_a_mention():
    assert [token.kind for token in tokenize("ecrire a contact@clameur.fr")] == ["word"] * 5


def test_positions_count_tokens_after_elisions_are_dropped():
    assert [token.position for token in tokenize("l'hôtel d'été")] == [0, 1]


def test_url_gives_plain_tokens():
    assert texts("voir https://exemple.fr/a?b=1#top") == [
        "voir", "https", "exemple", "fr", "a", "b", "1", "top",
    ]  # fmt: skip


def test_words_of_scripts_with_combining_vowel_signs_stay_whole():
    assert texts("हिन्दी भाषा") == ["हिन्दी", "भाषा"]


def test_emoji_and_punctuation_give_no_tokens():
    assert tokenize("🔥🔥 !!! ... ") == []


def test_tokens_are_immutable():
    token = tokenize("cafe")[0]
    with pytest.raises(FrozenInstanceError):
        token.text = "other"  # type: ignore[misc]


@given(st.text())
def test_tokens_are_non_empty_folded_and_numbered_in_order(text):
    tokens = tokenize(text)
    assert [token.position for token in tokens] == list(range(len(tokens)))
    for token in tokens:
        assert token.text
        assert fold(token.text) == token.text
        assert token.kind in ("word", "hashtag", "mention")


@given(st.text())
def test_word_tokens_hold_only_letters_digits_and_marks(text):
    for token in tokenize(text):
        if token.kind == "word":
            assert "_" not in token.text
            assert not any(char.isspace() for char in token.text)


# Characters where tokenizing has cases: sigils, apostrophes, elided letters, marks, underscores.
TRICKY = st.text(
    alphabet=list("lqudsjcaxe1_#@ -.'’ʼ‘") + ["é", "क", "\u093f", "\u0301", "ß", "ﬁ", "\u200b"],
    max_size=24,
)


def test_split_words_gives_texts_without_sigils_and_the_sigil_tokens_apart():
    assert split_words(fold("L'été #Lueurs avec @Fyre_Fest, qu'il")) == (
        ["ete", "lueurs", "avec", "fyre_fest", "il"],
        ["#lueurs", "@fyre_fest"],
    )


@given(st.one_of(TRICKY, st.text()))
def test_split_words_agrees_with_token_texts(text):
    texts, kinds = token_texts(text)
    words, sigil_tokens = split_words(fold(text))
    assert words == texts
    sigils = {"hashtag": "#", "mention": "@"}
    assert sigil_tokens == [sigils[k] + t for t, k in zip(texts, kinds, strict=True) if k in sigils]
    assert token_kinds(fold(text)) == kinds


@given(TRICKY.filter(lambda text: not any(char in text for char in "#@'’ʼ‘")))
def test_a_text_without_sigils_or_apostrophes_gives_only_words(text):
    texts, kinds = token_texts(text)
    assert kinds == ["word"] * len(texts)


# -- normalise ----------------------------------------------------------------------------------


def test_normalise_collapses_whitespace_and_trims():
    assert normalise("  Bonjour \n\t le   monde  ") == "Bonjour le monde"


def test_normalise_removes_zero_width_characters():
    assert normalise("ca\u200bfe\ufeff") == "cafe"


def test_normalise_composes_accents():
    assert normalise("Cafe\u0301") == "Café"


@given(st.text())
def test_normalise_is_idempotent(text):
    assert normalise(normalise(text)) == normalise(text)


def test_make_tokens_numbers_parallel_texts_and_kinds():
    assert make_tokens(["cafe", "promo"], ["word", "hashtag"]) == [
        Token("cafe", "word", 0),
        Token("promo", "hashtag", 1),
    ]
