import csv
import json
from pathlib import Path

import numpy as np
import pytest

from clameur.nlp import hostility
from clameur.nlp.hostility import (
    ENRICHER_NAME,
    ENRICHER_VERSION,
    predict_hostility,
    train_hostility,
)
from clameur.nlp.intent import LinearTextModel

HOSTILE = [
    ("you are a stupid retarded idiot, shut up", "en"),
    ("@user go back to your country you filthy animal", "en"),
    ("ferme ta gueule sale con", "fr"),
    ("@user espece de sale mongol t'es qu'un attarde", "fr"),
]
FRIENDLY = [
    ("Thanks for the quick delivery, great service", "en"),
    ("Can you tell me when the store opens tomorrow?", "en"),
    ("Merci pour la livraison rapide, le colis est arrivé en parfait état", "fr"),
    ("Est-ce que le magasin est ouvert dimanche ?", "fr"),
    ("Shut up and take my money, I want it now", "en"),
    ("Here are the pros and cons of the new plan", "en"),
    ("ferme la porte stp", "fr"),
]
INSULTS_IN_OTHER_LANGUAGES = [("du bist ein idiot", "de"), ("quel connard", None)]
# Everyday festival posts of the demo's kind, with the emoji that MLMA's tweets never have:
# the first model called most of them hostile.
FRIENDLY_WITH_EMOJI = [
    ("Le set de Mina Okafor, juste incroyable 😍😍", "fr"),
    ("Est-ce qu'il reste des pass samedi ? Le site affiche complet 😅", "fr"),
    ("Coucher de soleil + Kid Lavande = bonheur 😍😍 #LueursDEte", "fr"),
    ("Je vais au cinéma ce soir avec des amis ❤️", "fr"),
    ("The Lueurs d'Été lineup this year is stacked: DJ Tramontane, Bleu Piment 😍", "en"),
    ("Can't wait for Saturday!! who else is going? 🙌🎉", "en"),
    ("@nina_c78 grave !! 😍😍", None),
]


def test_the_enricher_is_named_and_versioned():
    assert ENRICHER_NAME == "hostility"
    assert isinstance(ENRICHER_VERSION, str) and ENRICHER_VERSION


@pytest.mark.parametrize("text, lang", HOSTILE)
def test_insults_are_hostile(text, lang):
    assert predict_hostility([text], [lang])[0][0] is True


@pytest.mark.parametrize("text, lang", FRIENDLY)
def test_friendly_customer_posts_are_not_hostile(text, lang):
    assert predict_hostility([text], [lang])[0][0] is False


@pytest.mark.parametrize("text, lang", FRIENDLY_WITH_EMOJI)
def test_friendly_posts_with_emoji_are_not_hostile(text, lang):
    assert predict_hostility([text], [lang])[0][0] is False


@pytest.mark.xfail(
    strict=True,
    reason="known false alarm: casual French ('bon allez', 'qui vient') is rare in the only "
    "French ordinary tweets there are to train on (DEFT 2017); see bench/results/hostility.md",
)
def test_a_french_purchase_intent_with_casual_words_is_not_hostile():
    text = "Bon allez je prends mon pass VIP pour @lueursfest 🙌 qui vient ?"
    assert predict_hostility([text], ["fr"])[0][0] is False


def test_emoji_do_not_change_what_the_model_reads():
    plain, smiling = predict_hostility(
        ["Le set de Mina Okafor, juste incroyable", "Le set de Mina Okafor, juste incroyable 😍😍"],
        ["fr", "fr"],
    )
    assert plain == smiling


@pytest.mark.parametrize("text, lang", INSULTS_IN_OTHER_LANGUAGES)
def test_insults_are_caught_in_posts_of_other_or_unknown_language(text, lang):
    assert predict_hostility([text], [lang])[0][0] is True


def test_insults_score_higher_than_friendly_posts():
    hostile = predict_hostility([t for t, _ in HOSTILE], [x for _, x in HOSTILE])
    friendly = predict_hostility([t for t, _ in FRIENDLY], [x for _, x in FRIENDLY])
    assert min(s for _, s in hostile) > max(s for _, s in friendly)


def test_a_batch_gives_what_posts_one_by_one_give_whatever_the_language():
    examples = HOSTILE + FRIENDLY + [("du bist ein idiot", "de"), ("idiot !", None)]
    texts = [t for t, _ in examples]
    langs = [x for _, x in examples]
    assert predict_hostility(texts, langs) == [predict_hostility([t], [x])[0] for t, x in examples]


def test_scores_are_probabilities_and_empty_input_gives_nothing():
    found = predict_hostility(["", "😡", "ok", HOSTILE[0][0]], [None, "en", "es", "en"])
    assert all(isinstance(h, bool) and 0.0 <= s <= 1.0 for h, s in found)
    assert predict_hostility([], []) == []
    with pytest.raises(ValueError):
        predict_hostility(["a"], [])


def test_english_posts_are_read_without_stop_words_as_the_training_tweets_were():
    features = hostility.featurize_for("en", ["you are such an idiot"])
    assert features.canons == ["idiot"]
    assert hostility.featurize_for("fr", ["tu es un idiot"]).canons == ["tu es un idiot"]


# -- training ------------------------------------------------------------------------------------

_INSULTS = {
    "en": ["idiot", "moron", "scum", "trash"],
    "fr": ["connard", "abruti", "ordure", "debile"],
}
_PLAIN = {
    "en": ["weather", "match", "coffee", "music"],
    "fr": ["meteo", "match", "cafe", "musique"],
}


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def make_data_folder(root: Path, rows: int = 48) -> Path:
    """Tiny MLMA files (insult words = hostile) and the ordinary tweets training reads."""
    header = ["hit_id", "text", "hostility", "directness", "annotator_sentiment", "target", "group"]
    for lang in ("fr", "en"):
        lines = []
        for i in range(rows):
            hostile = i % 3 != 0
            words = _INSULTS[lang] if hostile else _PLAIN[lang]
            text = f"@user {words[i % 4]} {words[(i // 4) % 4]} {i}"
            lines.append(
                [i, text, "offensive" if hostile else "normal", "direct", "anger", "other", "other"]
            )
        _write(root / "mlma-hate-speech-fr-en" / f"{lang}.csv", header, lines)
    for name in ("train_reconstructed", "validation"):
        plain = [[i, f"{_PLAIN['en'][i % 4]} today {i}", 1, "neutral"] for i in range(12)]
        _write(
            root / "tweeteval-sentiment" / f"{name}.csv",
            ["source_file", "text", "label", "label_name"],
            plain,
        )
    for split in ("train", "validation"):
        plain_fr = [[i, f"{_PLAIN['fr'][i % 4]} ce matin {i}", 1, "neutral"] for i in range(6)]
        _write(
            root / "umsab-sentiment-fr-en" / f"french_{split}.csv",
            ["idx", "text", "label", "label_name"],
            plain_fr,
        )
    return root


def test_training_on_a_small_folder_writes_loadable_models(tmp_path):
    data = make_data_folder(tmp_path / "data")
    out = tmp_path / "models"
    report = train_hostility(data, out)
    assert set(report["models"]) == {"fr", "en"}
    for lang in ("fr", "en"):
        model = LinearTextModel.load(out / hostility.model_file(lang))
        assert np.isfinite(model.weights).all() and model.uses_ngrams
    meta = json.loads((out / hostility.META_FILE).read_text("utf-8"))
    assert "MIT" in meta["trained_on"]
    assert all(meta["models"][lang]["ordinary_not_hostile"] > 0 for lang in ("fr", "en"))
    found = predict_hostility(["connard abruti", "musique ce matin"], ["fr", "fr"], out)
    assert found[0][1] > found[1][1]


def test_a_correction_changes_the_prediction(tmp_path):
    data = make_data_folder(tmp_path / "data")
    text = "this coffee is lovely"
    before = tmp_path / "before"
    train_hostility(data, before)
    assert predict_hostility([text], ["en"], before)[0][0] is False
    after = tmp_path / "after"
    train_hostility(data, after, corrections=[(text, "en", True)])
    assert predict_hostility([text], ["en"], after)[0] == (True, 1.0)


def test_training_and_choosing_never_read_a_test_split():
    from clameur.nlp.hostility_train import ORDINARY

    for splits in ORDINARY.values():
        used = [rel for split in ("train", "validation") for rel, _ in splits[split]]
        assert used and not any("test" in rel for rel in used)
        assert all("test" in rel for rel, _ in splits["test"])


def test_the_threshold_keeps_false_alarms_on_ordinary_validation_posts_under_one_percent(
    tmp_path,
):
    data = make_data_folder(tmp_path / "data")
    report = train_hostility(data, tmp_path / "models")
    for lang in ("fr", "en"):
        assert report["models"][lang]["validation_false_alarms"] <= 0.01
