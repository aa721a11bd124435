import csv
import json
from pathlib import Path

import numpy as np
import pytest

from clameur.nlp import intent
from clameur.nlp.intent import (
    ENRICHER_NAME,
    ENRICHER_VERSION,
    INTENTS,
    LinearTextModel,
    canonical_text,
    complaint_scores,
    featurize,
    predict_intents,
    train_intents,
)

COMPLAINTS = [
    ("@AmazonHelp my package still hasn't arrived after two weeks, this is ridiculous", "en"),
    ("Been on hold for 45 minutes and nobody answers. Worst customer service ever @Delta", "en"),
    ("@SNCF toujours aucun train depuis 2 heures, aucune information, c'est inadmissible", "fr"),
    ("@Free_1337 ma box ne fonctionne pas depuis 3 jours et le SAV ne répond pas, j'en ai marre",
     "fr"),
]  # fmt: skip
NOT_COMPLAINTS = [
    ("Just had a lovely walk in the park with my dog this morning", "en"),
    ("Thank you so much for the quick help, amazing service!", "en"),
    ("Super concert hier soir avec les copains, quelle ambiance", "fr"),
]
QUESTIONS = [
    ("How do I change the delivery address of my order", "en"),
    ("Is the store open on Sunday?", "en"),
    ("Est-ce que la boutique est ouverte dimanche", "fr"),
    ("comment faire pour changer mon mot de passe", "fr"),
]
PRAISE = [
    ("Thank you so much for the quick help, amazing service!", "en"),
    ("Love the new update, great job team 😍", "en"),
    ("Merci beaucoup pour votre aide, service impeccable !", "fr"),
    ("Bravo à toute l'équipe, j'adore la nouvelle appli", "fr"),
]
PURCHASE = [
    ("Where can I buy the new headphones? How much are they?", "en"),
    ("I want to buy two tickets for the Friday show", "en"),
    ("Je voudrais acheter la nouvelle console, elle est dispo ?", "fr"),
    ("C'est quoi le tarif pour un abonnement annuel", "fr"),
]
SPAM = [
    ("Earn $500 a day from home!!! DM me for details, link in bio https://bit.ly/x1", "en"),
    ("FOLLOW BACK f4f #follow #followback #like4like #instagood #tagsforlikes", "en"),
    ("Gagnez de l'argent facilement avec le bitcoin, lien en bio https://t.co/abc", "fr"),
]
ORDINARY = [
    ("My order arrived broken, see the photo https://t.co/abc @AmazonHelp", "en"),
    ("Le train est encore en retard ce matin", "fr"),
]


def _intents(examples):
    texts = [t for t, _ in examples]
    langs = [lang for _, lang in examples]
    return predict_intents(texts, langs)


def test_the_enricher_is_named_and_versioned():
    assert ENRICHER_NAME == "intent"
    assert isinstance(ENRICHER_VERSION, str) and ENRICHER_VERSION
    assert INTENTS == ("complaint", "question", "praise", "purchase_intent", "spam")


@pytest.mark.parametrize("text, lang", COMPLAINTS)
def test_obvious_complaints_are_complaints(text, lang):
    assert "complaint" in predict_intents([text], [lang])[0]


@pytest.mark.parametrize("text, lang", NOT_COMPLAINTS)
def test_friendly_or_unrelated_posts_are_not_complaints(text, lang):
    assert "complaint" not in predict_intents([text], [lang])[0]


def test_complaints_score_higher_than_friendly_posts():
    complaints = complaint_scores([t for t, _ in COMPLAINTS], [lang for _, lang in COMPLAINTS])
    friendly = complaint_scores([t for t, _ in NOT_COMPLAINTS], [x for _, x in NOT_COMPLAINTS])
    assert min(complaints) > max(friendly)


@pytest.mark.parametrize("text, lang", QUESTIONS)
def test_questions_are_questions(text, lang):
    assert "question" in predict_intents([text], [lang])[0]


@pytest.mark.parametrize("text, lang", PRAISE)
def test_praise_is_praise(text, lang):
    assert "praise" in predict_intents([text], [lang])[0]


def test_thanks_for_nothing_is_not_praise():
    found = predict_intents(["Thanks for nothing, merci pour rien"], ["en"])[0]
    assert "praise" not in found


@pytest.mark.parametrize("text, lang", PURCHASE)
def test_purchase_intent_is_found(text, lang):
    assert "purchase_intent" in predict_intents([text], [lang])[0]


@pytest.mark.parametrize("text, lang", SPAM)
def test_spam_is_spam(text, lang):
    assert "spam" in predict_intents([text], [lang])[0]


@pytest.mark.parametrize("text, lang", ORDINARY + QUESTIONS)
def test_ordinary_posts_with_a_link_are_not_spam(text, lang):
    assert "spam" not in predict_intents([text], [lang])[0]


def test_intents_come_in_the_order_of_INTENTS():
    found = predict_intents(
        ["Why is my order still not here? Where can I buy it in a shop instead?"], ["en"]
    )[0]
    assert found == [name for name in INTENTS if name in found]
    assert {"complaint", "question", "purchase_intent"} <= set(found)


def test_a_batch_gives_what_posts_one_by_one_give():
    examples = COMPLAINTS + NOT_COMPLAINTS + QUESTIONS + PRAISE + PURCHASE + SPAM + ORDINARY
    texts = [t for t, _ in examples]
    langs = [lang for _, lang in examples]
    assert predict_intents(texts, langs) == [predict_intents([t], [x])[0] for t, x in examples]
    assert complaint_scores(texts, langs) == [complaint_scores([t], [x])[0] for t, x in examples]


def test_scores_are_probabilities_and_empty_input_gives_nothing():
    scores = complaint_scores(
        ["", "   ", "😡😡", "ok", COMPLAINTS[0][0]], ["en", None, None, "de", "en"]
    )
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert complaint_scores([], []) == []
    assert predict_intents([], []) == []


def test_texts_and_languages_must_pair_up():
    with pytest.raises(ValueError):
        predict_intents(["a", "b"], ["en"])


def test_canonical_text_folds_case_accents_links_and_handles():
    text = "L’hôtel était NUL!! https://t.co/x @SNCF_Client @jean 😡"
    assert canonical_text(text) == "l' hotel etait nul ! ! @url @care @user 😡"


def test_hashing_is_the_same_in_a_batch_and_alone():
    one = featurize(["merci beaucoup"])
    batch = featurize(["autre chose", "merci beaucoup"])
    rows = batch.rows == 1
    assert sorted(one.hashes.tolist()) == sorted(batch.hashes[rows].tolist())


# -- training ------------------------------------------------------------------------------------

_COMPLAINT_WORDS = ["broken", "still waiting", "worst", "refund now", "never again", "useless"]
_NEUTRAL_WORDS = ["lovely day", "great game", "new album", "sunny beach", "nice photo", "my cat"]


def make_data_folder(root: Path, rows: int = 60) -> Path:
    """A tiny complaints-twitter folder: complaints say complaint words, others do not."""
    folder = root / "complaints-twitter"
    folder.mkdir(parents=True)
    with (folder / "complaints.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tweet_id", "text", "label", "label_name", "domain"])
        for i in range(rows):
            label = i % 2
            words = _COMPLAINT_WORDS if label else _NEUTRAL_WORDS
            text = f"@brand{i % 5} {words[i % len(words)]} {words[(i // 2) % len(words)]} {i}"
            writer.writerow([i, text, label, "complaint" if label else "not_complaint", "x"])
    return root


def test_training_on_a_small_folder_writes_loadable_models(tmp_path):
    data = make_data_folder(tmp_path / "data")
    out = tmp_path / "models"
    report = train_intents(data, out)
    assert report["trained_on"]["texts"] == 60
    for name in (intent.COMPLAINT_FILE, intent.COMPLAINT_CUES_FILE):
        model = LinearTextModel.load(out / name)
        assert np.isfinite(model.cue_weights).all()
    assert json.loads((out / intent.INTENT_META_FILE).read_text("utf-8"))["trained_on"]
    scores = complaint_scores(["worst broken useless", "lovely sunny beach"], ["en", "en"], out)
    assert scores[0] > 0.5 > scores[1]


def test_a_correction_changes_the_prediction(tmp_path):
    data = make_data_folder(tmp_path / "data")
    text = "lovely day at the sunny beach with my cat"
    before = tmp_path / "before"
    train_intents(data, before)
    assert predict_intents([text], ["en"], before) == [[]]
    after = tmp_path / "after"
    train_intents(data, after, corrections=[(text, "en", ["complaint", "spam"])])
    assert predict_intents([text], ["en"], after) == [["complaint", "spam"]]
    assert complaint_scores([text], ["en"], after) == [1.0]


def test_training_is_deterministic(tmp_path):
    data = make_data_folder(tmp_path / "data")
    train_intents(data, tmp_path / "a")
    train_intents(data, tmp_path / "b")
    a = LinearTextModel.load(tmp_path / "a" / intent.COMPLAINT_FILE)
    b = LinearTextModel.load(tmp_path / "b" / intent.COMPLAINT_FILE)
    assert np.array_equal(a.weights, b.weights) and a.bias == b.bias
