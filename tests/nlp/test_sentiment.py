import csv
import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from clameur.nlp import sentiment
from clameur.nlp.sentiment import (
    ENRICHER_NAME,
    ENRICHER_VERSION,
    LABELS,
    load_models,
    normalize,
    predict_probabilities,
    predict_sentiment,
    tokenize,
    train_sentiment,
)

FRENCH = [
    ("Merci pour la livraison rapide, le colis est arrivé en parfait état, génial !", "positive"),
    ("Je recommande vivement, un service client au top et super sympa", "positive"),
    ("Franchement nul, trois semaines d'attente et toujours aucune réponse. Honteux.", "negative"),
    ("Produit cassé dès la première utilisation, je suis très déçu, c'est une arnaque", "negative"),
    ("Le magasin ouvre à 9h demain, rue de la République", "neutral"),
    ("Conférence de presse du ministre à 15h sur le budget 2026", "neutral"),
]
ENGLISH = [
    ("Absolutely love the new update, the app is so much faster now! Thank you", "positive"),
    ("Great service today, the staff were amazing and so friendly", "positive"),
    ("Been on hold for 45 minutes, this is ridiculous. Worst customer service ever", "negative"),
    ("My order arrived broken and nobody answers. Terrible, I hate this company", "negative"),
    ("The store opens at 9am tomorrow on Main Street", "neutral"),
    ("Press conference on the 2026 budget scheduled for Thursday afternoon", "neutral"),
]


def test_enricher_has_a_name_and_the_shipped_model_has_its_version():
    meta = json.loads((sentiment.MODELS_DIR / sentiment.META_FILE).read_text("utf-8"))
    assert ENRICHER_NAME == "sentiment"
    assert meta["version"] == ENRICHER_VERSION
    assert meta["features"] == sentiment.FEATURES


@pytest.mark.parametrize(("text", "label"), FRENCH)
def test_obvious_french_posts_get_their_sentiment(text, label):
    assert predict_sentiment([text], ["fr"])[0][0] == label


@pytest.mark.parametrize(("text", "label"), ENGLISH)
def test_obvious_english_posts_get_their_sentiment(text, label):
    assert predict_sentiment([text], ["en"])[0][0] == label


def test_negation_turns_a_positive_word_around():
    assert predict_sentiment(["This is good"], ["en"])[0][0] == "positive"
    assert predict_sentiment(["This is not good at all"], ["en"])[0][0] == "negative"
    assert predict_sentiment(["Ce film est bon"], ["fr"])[0][0] == "positive"
    assert predict_sentiment(["Ce film n'est pas bon"], ["fr"])[0][0] == "negative"


def test_scores_are_the_probability_of_the_returned_label():
    texts = [text for text, _ in FRENCH + ENGLISH]
    langs = ["fr"] * len(FRENCH) + ["en"] * len(ENGLISH)
    results = predict_sentiment(texts, langs)
    probabilities = predict_probabilities(texts, langs)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    for (label, score), row in zip(results, probabilities, strict=True):
        assert label in LABELS
        assert 1 / 3 <= score <= 1.0
        assert score == pytest.approx(row.max(), abs=1e-4)
        assert label == LABELS[int(row.argmax())]


def test_a_batch_gives_the_same_answers_as_one_post_at_a_time():
    texts = [text for text, _ in FRENCH + ENGLISH] + ["", "ok", "😡😡😡"]
    langs = ["fr", "en"] * (len(texts) // 2) + ["en"] * (len(texts) % 2)
    batch = predict_sentiment(texts, langs)
    single = [predict_sentiment([text], [lang])[0] for text, lang in zip(texts, langs, strict=True)]
    assert batch == single


def test_other_and_unknown_languages_average_both_models():
    text = "I love it, thank you so much, amazing ❤️"
    models = sentiment._get_models()
    mean = (models["en"].probabilities([text]) + models["fr"].probabilities([text])) / 2
    for lang in (None, "de", "es"):
        np.testing.assert_allclose(predict_probabilities([text], [lang]), mean)
        assert predict_sentiment([text], [lang])[0][0] == "positive"


def test_empty_and_blank_posts_get_a_label_without_crashing():
    results = predict_sentiment(["", "   ", "\n", "@user", "http"], ["fr", "en", None, "fr", "en"])
    assert len(results) == 5
    for label, score in results:
        assert label in LABELS
        assert 0.0 <= score <= 1.0


def test_a_nul_character_does_not_shift_the_posts_after_it():
    texts = ["bad\x00 terrible awful", "I love it, thank you so much"]
    assert predict_sentiment(texts, ["en", "en"])[1] == predict_sentiment(texts[1:], ["en"])[0]
    assert normalize("a\x00b") == "a b"


def test_an_empty_batch_gives_an_empty_list():
    assert predict_sentiment([], []) == []


def test_texts_and_languages_must_pair_up():
    with pytest.raises(ValueError):
        predict_sentiment(["a", "b"], ["fr"])


def test_normalisation_folds_mentions_links_escapes_and_elongations():
    assert normalize("@Orange C'est GÉNIAL!!!!!!! https://t.co/x") == "@user c'est génial!!! http"
    assert normalize("I don\\u2019t like it") == "i do not like it"
    assert normalize("sooooo good") == "sooo good"


def test_negation_scope_runs_to_the_next_punctuation():
    assert tokenize("i do not like it , but ok") == [
        "i", "do", "not", "~like", "~it", ",", "but", "ok"
    ]  # fmt: skip
    assert tokenize("je n'aime pas ça . super") == [
        "je",
        "n'",
        "~aime",
        "~pas",
        "~ça",
        ".",
        "super",
    ]


def test_models_are_loaded_once_whatever_the_threads():
    sentiment.reset()
    seen: list[object] = []

    def predict() -> None:
        predict_sentiment(["bonjour"], ["fr"])
        seen.append(sentiment._models)

    threads = [threading.Thread(target=predict) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(models is seen[0] for models in seen)


def test_importing_the_module_loads_no_model_and_no_scikit_learn():
    code = (
        "import sys; from clameur.nlp import sentiment; "
        "print(sentiment._models is None, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


# --- training on a tiny synthetic data folder -----------------------------------------------------

_WORDS = {
    "en": (
        ("awful", "terrible", "hate", "broken", "worst", "angry"),
        ("meeting", "tuesday", "report", "schedule", "station", "update"),
        ("love", "great", "amazing", "thanks", "happy", "perfect"),
    ),
    "fr": (
        ("nul", "horrible", "déteste", "cassé", "honteux", "colère"),
        ("réunion", "mardi", "rapport", "horaire", "gare", "annonce"),
        ("adore", "génial", "merci", "super", "heureux", "parfait"),
    ),
}


def _rows(lang: str, count: int, offset: int) -> list[tuple[str, int]]:
    rows = []
    for i in range(count):
        for label, words in enumerate(_WORDS[lang]):
            a, b = words[(i + offset) % 6], words[(i + offset + 1) % 6]
            rows.append((f"{a} {b} number {i + offset}", label))
    return rows


def _write(path: Path, rows: list[tuple[str, int]], tweeteval_train: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if tweeteval_train:
            writer.writerow(["source_file", "tweet_id", "text", "label", "label_name"])
            for i, (text, label) in enumerate(rows):
                writer.writerow(["synthetic", i, text, label, LABELS[label]])
        else:
            writer.writerow(["idx", "text", "label", "label_name"])
            for i, (text, label) in enumerate(rows):
                writer.writerow([i, text, label, LABELS[label]])


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    te = root / "tweeteval-sentiment"
    _write(te / "train_reconstructed.csv", _rows("en", 12, 0), tweeteval_train=True)
    _write(te / "validation.csv", _rows("en", 4, 100))
    _write(te / "test.csv", _rows("en", 4, 200))
    um = root / "umsab-sentiment-fr-en"
    for lang, name in (("en", "english"), ("fr", "french")):
        _write(um / f"{name}_train.csv", _rows(lang, 12, 300))
        _write(um / f"{name}_validation.csv", _rows(lang, 4, 400))
        _write(um / f"{name}_test.csv", _rows(lang, 4, 500))
    return root


def test_training_on_a_data_folder_writes_model_files_that_load_and_predict(tiny_data, tmp_path):
    metrics = train_sentiment(tiny_data, tmp_path)
    assert {"en", "fr"} <= set(metrics)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "sentiment-embeddings.npz", "sentiment-lexicon.json", "sentiment-linear.json",
        "sentiment-linear.npz",
    ]  # fmt: skip
    with np.load(tmp_path / "sentiment-linear.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    models = load_models(tmp_path)
    probabilities = predict_probabilities(
        ["horrible nul", "génial merci", "love amazing", "hate awful"],
        ["fr", "fr", "en", "en"],
        models,
    )
    assert [LABELS[i] for i in probabilities.argmax(axis=1)] == [
        "negative", "positive", "positive", "negative"
    ]  # fmt: skip
    scores = sentiment.evaluate_sentiment(tiny_data, tmp_path)
    assert scores["tweeteval_test"]["macro_recall"] > 0.9
    assert scores["umsab_french_test"]["macro_f1"] > 0.9


def test_training_is_deterministic(tiny_data, tmp_path):
    train_sentiment(tiny_data, tmp_path / "a")
    train_sentiment(tiny_data, tmp_path / "b")
    with (
        np.load(tmp_path / "a" / "sentiment-linear.npz") as a,
        np.load(tmp_path / "b" / "sentiment-linear.npz") as b,
    ):
        assert a.files == b.files
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])


def test_a_correction_changes_the_prediction_of_its_post(tiny_data, tmp_path):
    post = "gare mardi horaire, voilà"
    train_sentiment(tiny_data, tmp_path / "before")
    before = predict_sentiment_with(tmp_path / "before", post, "fr")
    wanted = next(label for label in ("positive", "negative") if label != before)
    train_sentiment(tiny_data, tmp_path / "after", corrections=[(post, "fr", wanted)])
    assert predict_sentiment_with(tmp_path / "after", post, "fr") == wanted
    with pytest.raises(ValueError):
        train_sentiment(tiny_data, tmp_path / "bad", corrections=[(post, "fr", "furious")])


def predict_sentiment_with(model_dir: Path, text: str, lang: str) -> str:
    probabilities = predict_probabilities([text], [lang], load_models(model_dir))
    return LABELS[int(probabilities.argmax())]


def test_the_shipped_models_use_the_static_embeddings():
    models = sentiment._get_models()
    table = models["fr"].embeddings
    assert table is not None
    assert [len(scores) for scores in models["fr"].word_scores] == [len(table.words)] * 3
    negative, _, positive = (models["fr"].word_scores[k][table.index["déteste"]] for k in range(3))
    assert negative > positive


def test_a_language_trained_without_embeddings_loads_without_them(tiny_data, tmp_path, monkeypatch):
    from clameur.nlp import sentiment_train

    monkeypatch.setitem(sentiment_train.EMBEDDING_SCALE, "en", 0.0)
    train_sentiment(tiny_data, tmp_path)
    models = load_models(tmp_path)
    assert models["en"].embeddings is None and models["en"].word_scores == []
    assert models["fr"].embeddings is not None
    assert predict_sentiment_with(tmp_path, "love amazing", "en") == "positive"
    assert predict_sentiment_with(tmp_path, "génial merci", "fr") == "positive"
