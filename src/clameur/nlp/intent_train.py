"""Training and evaluation of the intent models; the numpy learner that hostility shares.

Recipe (complaint): hashed word 1-2-grams and within-word character 2-5-grams, tf-idf weighted
and L2-normalised per block, plus the bilingual cue counts of intent.py, standardised; L2
logistic regression with balanced class weights, fitted by L-BFGS (numpy, deterministic). The
regularisation C and the decision threshold are chosen by an inner stratified cross-validation of
the training texts only (never on the texts that evaluate the result), then the model is refitted
on all the training texts. The complaint threshold stays at 0.5 (class weights are balanced):
tuning it too scored lower in cross-validation (bench/results/intent.md).
Data: complaints-twitter (Preotiuc-Pietro et al. 2019), English.
Evaluation: the authors' protocol, 10-fold stratified cross-validation with a fixed seed, each
fold retraining with the whole recipe (tuning included); and, with the shipped model files,
twcs-topic-labels where its labels map to our intents (evaluation only: it is CC BY-NC-SA).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clameur.nlp import intent
from clameur.nlp.intent import (
    CUE_FEATURES,
    INTENTS,
    Features,
    LinearTextModel,
    featurize,
    text_key,
)

# <repo>/src/clameur/nlp/intent_train.py -> <repo>/../shared/data
DEFAULT_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
SEED = 20190728  # ACL 2019 opened on July 28th; any fixed number would do
BITS = 20
C_GRID = (3.0, 10.0, 30.0)
CUE_SCALE = 0.1  # standardised cues are scaled down so that n-grams dominate the norm
INNER_FOLDS = 3  # inner cross-validation of the training texts, to choose C and the threshold
FOLDS = 10
CORRECTION_WEIGHT = 5.0  # a user's correction weighs as much as five data-set examples


# --- the learner ---------------------------------------------------------------------------


@dataclass
class Design:
    """A sparse design matrix as coordinate arrays, and the buckets of its n-gram columns."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    n_rows: int
    n_cols: int
    buckets: np.ndarray  # bucket of each n-gram column; cue columns follow them
    idf: np.ndarray  # dense (2**bits,), 0 where unseen
    cue_mean: np.ndarray
    cue_scale: np.ndarray

    def dot(self, w: np.ndarray) -> np.ndarray:
        return np.bincount(self.rows, weights=self.vals * w[self.cols], minlength=self.n_rows)

    def tdot(self, g: np.ndarray) -> np.ndarray:
        return np.bincount(self.cols, weights=self.vals * g[self.rows], minlength=self.n_cols)


def build_design(
    features: Features, subset: np.ndarray, use_ngrams: bool = True, bits: int = BITS
) -> Design:
    """The training matrix of the texts at `subset`: idf and cue statistics from them only."""
    n = len(subset)
    local = np.full(features.n_texts, -1, dtype=np.int64)
    local[subset] = np.arange(n)
    cues = features.cues[subset].astype(np.float64)
    cue_mean = cues.mean(axis=0)
    cue_scale = CUE_SCALE / (cues.std(axis=0) + 1e-6)
    cue_vals = ((cues - cue_mean) * cue_scale).ravel()
    cue_rows = np.repeat(np.arange(n), len(CUE_FEATURES))
    cue_cols = np.tile(np.arange(len(CUE_FEATURES)), n)
    size = 1 << bits
    idf = np.zeros(size)
    if not use_ngrams:
        return Design(
            cue_rows,
            cue_cols,
            cue_vals,
            n,
            len(CUE_FEATURES),
            np.zeros(0, np.int64),
            idf,
            cue_mean,
            cue_scale,
        )
    keep = local[features.rows] >= 0
    row = local[features.rows[keep]]
    block = features.blocks[keep].astype(np.int64)
    bucket = features.buckets(bits)[keep]
    keys, counts = np.unique((row * 2 + block) * size + bucket, return_counts=True)
    row_block, bucket = np.divmod(keys, size)
    row = row_block // 2
    df = np.bincount(bucket, minlength=size)  # a bucket seldom falls in both blocks
    seen = df > 0
    idf[seen] = np.log((1 + n) / (1 + df[seen])) + 1
    weight = idf[bucket]
    norm = np.sqrt(np.bincount(row_block, weights=counts * weight * weight, minlength=2 * n))
    vals = counts * weight / norm[row_block]
    used, cols = np.unique(bucket, return_inverse=True)
    return Design(
        np.concatenate((row, cue_rows)),
        np.concatenate((cols, cue_cols + len(used))),
        np.concatenate((vals, cue_vals)),
        n,
        len(used) + len(CUE_FEATURES),
        used,
        idf,
        cue_mean,
        cue_scale,
    )


def fit_logistic(
    design: Design,
    labels: np.ndarray,
    sample_weight: np.ndarray,
    c: float,
    start: np.ndarray | None = None,
    max_iter: int = 400,
    tol: float = 1e-4,
    memory: int = 10,
) -> np.ndarray:
    """L2 logistic regression by L-BFGS: minimises C * sum(weight * log loss) + |w|^2 / 2.

    Returns the weights with the intercept (not penalised) last. Deterministic.
    """
    d = design.n_cols
    signs = 2.0 * labels - 1.0

    def value_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[:d]
        margin = signs * (design.dot(w) + theta[d])
        value = c * _dot(sample_weight, np.logaddexp(0.0, -margin)) + 0.5 * _dot(w, w)
        slope = -c * sample_weight * signs * np.exp(-np.logaddexp(0.0, margin))
        gradient = np.empty(d + 1)
        gradient[:d] = design.tdot(slope) + w
        gradient[d] = slope.sum()
        return value, gradient

    theta = np.zeros(d + 1) if start is None else start.copy()
    value, gradient = value_and_gradient(theta)
    first_norm = max(1.0, _norm(gradient))
    steps: list[np.ndarray] = []
    changes: list[np.ndarray] = []
    for _ in range(max_iter):
        if _norm(gradient) <= tol * first_norm:
            break
        direction = -_two_loop(gradient, steps, changes)
        slope = _dot(gradient, direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            steps.clear()
            changes.clear()
            direction = -gradient
            slope = -_dot(gradient, gradient)
        step = 1.0 if steps else min(1.0, 1.0 / _norm(gradient))
        while True:  # backtracking until the Armijo condition holds
            candidate = theta + step * direction
            new_value, new_gradient = value_and_gradient(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = candidate - theta, new_gradient - gradient
        if _dot(s, y) > 1e-12:
            steps.append(s)
            changes.append(y)
            if len(steps) > memory:
                steps.pop(0)
                changes.pop(0)
        theta, value, gradient = candidate, new_value, new_gradient
    return theta


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # Not BLAS: its threads spin against each other on a busy machine (40x slower here), and
    # a plain sum is as fast for vectors of this size.
    return float(np.multiply(a, b).sum())


def _norm(a: np.ndarray) -> float:
    return _dot(a, a) ** 0.5


def _two_loop(
    gradient: np.ndarray, steps: list[np.ndarray], changes: list[np.ndarray]
) -> np.ndarray:
    q = gradient.copy()
    alphas = []
    for s, y in zip(reversed(steps), reversed(changes), strict=True):
        rho = 1.0 / _dot(y, s)
        alpha = rho * _dot(s, q)
        q -= alpha * y
        alphas.append((alpha, rho))
    if steps:
        q *= _dot(steps[-1], changes[-1]) / _dot(changes[-1], changes[-1])
    for (s, y), (alpha, rho) in zip(
        zip(steps, changes, strict=True), reversed(alphas), strict=True
    ):
        q += s * (alpha - rho * _dot(y, q))
    return q


def to_model(
    design: Design, theta: np.ndarray, threshold: float, bits: int = BITS
) -> LinearTextModel:
    """The runtime model of weights fitted on `design`."""
    n_ngrams = len(design.buckets)
    use_ngrams = n_ngrams > 0
    weights = np.zeros(1 << bits, dtype=np.float32) if use_ngrams else np.zeros(0, np.float32)
    if use_ngrams:
        weights[design.buckets] = theta[:n_ngrams]
    return LinearTextModel(
        bits=bits,
        idf=design.idf.astype(np.float32) if use_ngrams else np.zeros(0, np.float32),
        weights=weights,
        cue_mean=design.cue_mean.astype(np.float32),
        cue_scale=design.cue_scale.astype(np.float32),
        cue_weights=theta[n_ngrams:-1].astype(np.float32),
        bias=float(theta[-1]),
        threshold=threshold,
    )


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """scikit-learn's class_weight='balanced': each class weighs half of the total."""
    counts = np.bincount(labels.astype(np.int64), minlength=2).astype(np.float64)
    per_class = len(labels) / (2.0 * np.maximum(counts, 1.0))
    return per_class[labels.astype(np.int64)]


# --- metrics and splits --------------------------------------------------------------------


def binary_scores(
    truth: Sequence[bool] | np.ndarray, predicted: Sequence[bool] | np.ndarray
) -> dict[str, float]:
    """Precision, recall and F1 of the positive class, macro-F1 over both classes, counts."""
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    tp, fp, fn = int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum())
    tn = len(t) - tp - fp - fn

    def f1(a: int, b: int, c: int) -> float:
        return 2 * a / (2 * a + b + c) if a else 0.0

    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": f1(tp, fp, fn),
        "macro_f1": (f1(tp, fp, fn) + f1(tn, fn, fp)) / 2,
        "positives": tp + fn,
        "predicted": tp + fp,
        "n": len(t),
    }


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    return binary_scores(truth, predicted)["macro_f1"]


def stratified_folds(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold number of each example: classes spread evenly, order shuffled with `seed`."""
    rng = np.random.default_rng(seed)
    folds = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        members = members[rng.permutation(len(members))]
        folds[members] = (np.arange(len(members)) + offset) % k
        offset += len(members)
    return folds


def stratified_split(labels: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (train, held out) with `share` of each class held out."""
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        members = members[rng.permutation(len(members))]
        held.append(members[: int(round(share * len(members)))])
    out = np.zeros(len(labels), dtype=bool)
    out[np.concatenate(held)] = True
    return np.flatnonzero(~out), np.flatnonzero(out)


def best_threshold(truth: np.ndarray, proba: np.ndarray) -> tuple[float, float]:
    """The threshold (on a 0.05 grid) with the best macro-F1, and that macro-F1.

    Ties go to the threshold nearest 0.5, so that a flat region does not drift to an edge.
    """
    grid = np.round(np.arange(0.2, 0.81, 0.05), 2)
    scores = [macro_f1(truth, proba >= t) for t in grid]
    best = max(scores)
    candidates = [t for t, s in zip(grid, scores, strict=True) if s >= best - 1e-9]
    chosen = min(candidates, key=lambda t: abs(t - 0.5))
    return float(chosen), best


# --- the recipe ----------------------------------------------------------------------------


@dataclass
class Fitted:
    model: LinearTextModel
    c: float
    threshold: float
    inner_macro_f1: float


def fit_recipe(
    features: Features,
    subset: np.ndarray,
    labels: np.ndarray,
    extra_weight: np.ndarray | None = None,
    use_ngrams: bool = True,
    c_grid: Sequence[float] = C_GRID,
    tune_threshold: bool = True,
    seed: int = SEED,
    bits: int = BITS,
    judged: np.ndarray | None = None,
    forced: np.ndarray | None = None,
) -> Fitted:
    """Choose C and the threshold by inner cross-validation of `subset`, then fit on all of it.

    `labels`, `extra_weight`, `judged` and `forced` are indexed like `features` (one per
    text); only the `judged` texts (default: all) count when C and the threshold are chosen,
    and the `forced` ones count as predicted positive whatever the model says (a rule's hits).
    """
    y = labels[subset].astype(np.float64)
    extra = np.ones(len(subset)) if extra_weight is None else extra_weight[subset]
    chosen = (c_grid[0], 0.5, -1.0)
    if len(c_grid) > 1 or tune_threshold:
        # Out-of-fold probabilities of every training text for every C, from an inner
        # stratified k-fold split of `subset` alone: steadier than one small validation part.
        inner = stratified_folds(labels[subset], INNER_FOLDS, seed)
        grid = sorted(c_grid)
        proba = np.zeros((len(grid), len(subset)))
        for k in range(INNER_FOLDS):
            fit_rows, val_rows = np.flatnonzero(inner != k), np.flatnonzero(inner == k)
            design = build_design(features, subset[fit_rows], use_ngrams, bits)
            weight = balanced_weights(y[fit_rows]) * extra[fit_rows]
            theta = None
            for j, c in enumerate(grid):  # warm start along the path
                theta = fit_logistic(design, y[fit_rows], weight, c, start=theta)
                logit = to_model(design, theta, 0.5, bits).decision(features, subset[val_rows])
                proba[j, val_rows] = 1 / (1 + np.exp(-logit))
        counted = np.ones(len(subset), dtype=bool) if judged is None else judged[subset]
        truth = y.astype(bool)[counted]
        if forced is not None:
            proba[:, forced[subset]] = 1.0
        for j, c in enumerate(grid):
            threshold, score = (
                best_threshold(truth, proba[j][counted])
                if tune_threshold
                else (0.5, macro_f1(truth, proba[j][counted] >= 0.5))
            )
            if score > chosen[2] + 1e-9:
                chosen = (c, threshold, score)
    c, threshold, score = chosen
    design = build_design(features, subset, use_ngrams, bits)
    theta = fit_logistic(design, y, balanced_weights(y) * extra, c)
    return Fitted(to_model(design, theta, threshold, bits), c, threshold, score)


# --- data ----------------------------------------------------------------------------------


def read_complaints(data_dir: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Texts, labels (1 = complaint) and domains of complaints-twitter."""
    path = data_dir / "complaints-twitter" / "complaints.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return (
        [row["text"] for row in rows],
        np.array([int(row["label"]) for row in rows], dtype=np.int64),
        [row["domain"] for row in rows],
    )


def read_twcs_inbound(data_dir: Path) -> list[dict[str, Any]]:
    """twcs-topic-labels inbound customer tweets: brand, text, set of topic labels."""
    path = data_dir / "twcs-topic-labels" / "inbound_customer_topics.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            {
                "brand": row["brand"],
                "text": row["text"],
                "labels": {label for label in row["labels"].split("|") if label},
            }
            for row in csv.DictReader(handle)
        ]


# twcs-topic-labels has topic labels, not intents; only these map onto ours. Each entry:
# intent -> (brand whose label set has the label, label). "Bad Support" tweets are complaints
# about the service; tweets about a late delivery are complaints too but carry no such label,
# so complaint precision measured this way is a lower bound.
TWCS_MAPPING: dict[str, tuple[str, str]] = {
    "complaint": ("AmazonHelp", "Bad Support"),
    "praise": ("AmazonHelp", "Service Praise"),
}


# --- training and evaluation ---------------------------------------------------------------


def train(
    data_dir: Path,
    out_dir: Path,
    corrections: list[tuple[str, str | None, list[str]]] | None = None,
) -> dict[str, Any]:
    """Fit the shipped complaint models on all of complaints-twitter (+ corrections)."""
    started = time.perf_counter()
    texts, labels, _ = read_complaints(data_dir)
    weights = np.ones(len(texts))
    corrections = corrections or []
    if corrections:
        texts = texts + [text for text, _, _ in corrections]
        labels = np.concatenate(
            (labels, np.array([int("complaint" in found) for _, _, found in corrections]))
        )
        weights = np.concatenate((weights, np.full(len(corrections), CORRECTION_WEIGHT)))
    features = featurize(texts)
    everything = np.arange(len(texts))
    full = fit_recipe(features, everything, labels, weights, True, tune_threshold=False)
    cues = fit_recipe(features, everything, labels, weights, False, tune_threshold=False)
    overrides = {}
    for (_, _, found), canon in zip(
        corrections, features.canons[len(texts) - len(corrections) :], strict=True
    ):
        key = text_key(canon)
        overrides[str(key)] = [name for name in INTENTS if name in found]
        full.model.overrides[key] = "complaint" in found
        cues.model.overrides[key] = "complaint" in found
    out_dir.mkdir(parents=True, exist_ok=True)
    full.model.save(out_dir / intent.COMPLAINT_FILE)
    cues.model.save(out_dir / intent.COMPLAINT_CUES_FILE)
    report = {
        "trained_on": {
            "data_set": "complaints-twitter (Preotiuc-Pietro, Gaman & Aletras, ACL 2019), "
            "repository danielpreotiuc/complaints-social-media; licence: none stated "
            "(tweets under the Twitter terms of service)",
            "texts": len(texts) - len(corrections),
            "complaints": int(labels[: len(texts) - len(corrections)].sum()),
            "corrections": len(corrections),
            "language": "en (the cue model carries over to French through bilingual cues)",
        },
        "recipe": {
            "features": "hashed word 1-2-grams + char_wb 2-5-grams (tf-idf, L2 per block, "
            f"2**{BITS} buckets) + {len(CUE_FEATURES)} bilingual cue counts",
            "learner": "L2 logistic regression, balanced class weights, L-BFGS (numpy)",
            "tuning": f"C in {list(C_GRID)} by stratified {INNER_FOLDS}-fold inner "
            f"cross-validation of the training texts (seed {SEED}); threshold 0.5 (balanced "
            "class weights)",
        },
        "complaint": {
            "c": full.c,
            "threshold": full.threshold,
            "inner_macro_f1": full.inner_macro_f1,
        },
        "complaint_cues": {
            "c": cues.c,
            "threshold": cues.threshold,
            "inner_macro_f1": cues.inner_macro_f1,
        },
        "enricher_version": intent.ENRICHER_VERSION,
        "seconds": round(time.perf_counter() - started, 1),
    }
    meta = {**report, "corrections": overrides}
    (out_dir / intent.INTENT_META_FILE).write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return report


def cross_validate(
    texts: list[str],
    labels: np.ndarray,
    use_ngrams: bool = True,
    c_grid: Sequence[float] = C_GRID,
    tune_threshold: bool = False,
    folds: int = FOLDS,
    seed: int = SEED,
) -> dict[str, Any]:
    """The recipe under k-fold stratified CV: tuning inside each training part only."""
    features = featurize(texts)
    fold_of = stratified_folds(labels, folds, seed)
    proba = np.zeros(len(texts))
    predicted = np.zeros(len(texts), dtype=bool)
    per_fold, chosen = [], []
    for k in range(folds):
        train_rows = np.flatnonzero(fold_of != k)
        test_rows = np.flatnonzero(fold_of == k)
        fitted = fit_recipe(
            features, train_rows, labels, None, use_ngrams, c_grid, tune_threshold, seed + k
        )
        proba[test_rows] = 1 / (1 + np.exp(-fitted.model.decision(features, test_rows)))
        predicted[test_rows] = proba[test_rows] >= fitted.threshold
        per_fold.append(macro_f1(labels[test_rows].astype(bool), predicted[test_rows]))
        chosen.append({"c": fitted.c, "threshold": fitted.threshold})
    pooled = binary_scores(labels.astype(bool), predicted)
    return {
        "macro_f1_mean_of_folds": float(np.mean(per_fold)),
        "macro_f1_std_of_folds": float(np.std(per_fold)),
        "macro_f1_pooled": pooled["macro_f1"],
        "complaint_precision": pooled["precision"],
        "complaint_recall": pooled["recall"],
        "complaint_f1": pooled["f1"],
        "per_fold": [round(score, 4) for score in per_fold],
        "chosen": chosen,
        "proba": proba,
    }


def evaluate(data_dir: Path, model_dir: Path | None = None) -> dict[str, Any]:
    """Complaints 10-fold CV of the recipe (full and cue-only models) and twcs figures."""
    started = time.perf_counter()
    texts, labels, _ = read_complaints(data_dir)
    full = cross_validate(texts, labels, use_ngrams=True)
    cues = cross_validate(texts, labels, use_ngrams=False)
    for result in (full, cues):
        result.pop("proba")
    return {
        "complaints_cv": {
            "protocol": f"{FOLDS}-fold stratified CV, seed {SEED}; C chosen by "
            f"{INNER_FOLDS}-fold CV inside each training part, threshold 0.5",
            "recipe": full,
            "cue_model": cues,
            "references": REFERENCES,
        },
        "twcs": evaluate_twcs(data_dir, model_dir),
        "seconds": round(time.perf_counter() - started, 1),
    }


REFERENCES = {
    "preotiuc_pietro_2019": "up to 79 F1 (feature-based and neural models, distant supervision)",
    "jin_aletras_2020": "up to 87 macro-F1 (transformers)",
}


def evaluate_twcs(data_dir: Path, model_dir: Path | None = None) -> dict[str, Any]:
    """Per-intent precision/recall/F1 of the shipped models where twcs labels map to intents,
    and the share of inbound tweets given each intent (all brands)."""
    tweets = read_twcs_inbound(data_dir)
    texts = [tweet["text"] for tweet in tweets]
    found = intent.predict_intents(texts, ["en"] * len(texts), model_dir)
    scores: dict[str, Any] = {}
    for name, (brand, label) in TWCS_MAPPING.items():
        rows = [i for i, tweet in enumerate(tweets) if tweet["brand"] == brand]
        truth = [label in tweets[i]["labels"] for i in rows]
        predicted = [name in found[i] for i in rows]
        scores[name] = {"brand": brand, "label": label, **binary_scores(truth, predicted)}
    shares = {name: round(sum(name in f for f in found) / len(found), 4) for name in INTENTS}
    by_topic: dict[str, dict[str, float]] = {}
    for topic in ("Delivery", "Refund", "Unresponsive/Freezing Device", "Order Cancellation"):
        rows = [i for i, tweet in enumerate(tweets) if topic in tweet["labels"]]
        if rows:
            by_topic[topic] = {
                "tweets": len(rows),
                "complaint_share": round(sum("complaint" in found[i] for i in rows) / len(rows), 4),
            }
    return {
        "mapped": scores,
        "unmapped": [name for name in INTENTS if name not in TWCS_MAPPING],
        "share_of_inbound_tweets": shares,
        "complaint_share_by_topic": by_topic,
        "tweets": len(tweets),
    }
