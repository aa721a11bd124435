from __future__ import annotations

import pytest

from clameur.nlp.analysis import LANGUAGE_ONLY, Analyzer, PostText, versions


def _post(key: str, text: str, **fields) -> PostText:  # type: ignore[no-untyped-def]
    return PostText(key=key, text=text, **fields)


def test_every_stage_records_its_name_and_version() -> None:
    [result] = Analyzer().analyze([_post("x:1", "Je veux être remboursé, c'est honteux !")])
    assert set(result.enrichments) == set(versions())
    for name, version in versions().items():
        assert result.enrichments[name]["version"] == version


def test_values_given_by_the_source_are_kept() -> None:
    [result] = Analyzer().analyze(
        [_post("x:1", "Super concert hier soir", lang="fr", sentiment="negative", intents=["spam"])]
    )
    assert (result.lang, result.sentiment, result.intents) == ("fr", "negative", ["spam"])
    assert result.enrichments["sentiment"]["version"] == "source"


def test_a_copy_paste_wave_points_at_its_first_post_across_batches() -> None:
    analyzer = Analyzer()
    text = "Billets pas chers pour le festival, paiement immédiat, écrivez-moi en privé vite"
    first = analyzer.analyze([_post("x:1", text)])
    later = analyzer.analyze([_post("x:2", "RT @bot: " + text), _post("x:3", "Un autre sujet")])
    assert first[0].duplicate_of is None
    assert [r.duplicate_of for r in later] == ["x:1", None]


def test_influence_grows_with_the_audience() -> None:
    small, big = Analyzer().analyze(
        [_post("x:1", "hello there", followers=10), _post("x:2", "hello world", followers=100_000)]
    )
    assert small.influence is not None and big.influence is not None
    assert big.influence > small.influence


def test_sentiment_and_intents_come_out_for_an_obvious_complaint() -> None:
    [result] = Analyzer().analyze(
        [_post("x:1", "Scandaleux, toujours pas remboursé après 3 semaines, service client nul")]
    )
    assert result.sentiment == "negative"
    assert "complaint" in result.intents


def test_an_analyzer_limited_to_language_records_only_language_and_the_source() -> None:
    analyzer = Analyzer(stages=LANGUAGE_ONLY)
    plain, told = analyzer.analyze(
        [
            PostText(key="x:1", text="Toujours pas remboursé, c'est honteux"),
            PostText(key="x:2", text="Toujours pas remboursé !", sentiment="negative"),
        ]
    )
    assert plain.lang == "fr" and sorted(plain.enrichments) == ["language"]
    assert (plain.sentiment, plain.intents, plain.hostile, plain.influence) == (
        None,
        [],
        None,
        None,
    )
    assert told.sentiment == "negative" and sorted(told.enrichments) == ["language", "sentiment"]


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown analysis stages: mood"):
        Analyzer(stages=("language", "mood"))
