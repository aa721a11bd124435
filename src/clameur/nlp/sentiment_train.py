"""Training and evaluation of the sentiment models of `clameur.nlp.sentiment`.

Deterministic: hashed features (no vocabulary order), scikit-learn's L-BFGS logistic regression on
one thread, fixed grids. Train splits train, validation splits choose (regularisation, class
biases, temperature), test splits only report. English trains on TweetEval train plus the UMSAB
English train tweets that are in no TweetEval or UMSAB validation or test split (UMSAB English
test lies inside TweetEval test, its train largely inside TweetEval validation). French trains on
UMSAB French train.

    python -m clameur.nlp.sentiment_train train [--data DIR] [--out DIR]
    python -m clameur.nlp.sentiment_train evaluate [--data DIR] [--models DIR]
    python -m clameur.nlp.sentiment_train lexicon DOWNLOADS [--out DIR]

Training needs scikit-learn (and scipy); the shipped model scores with numpy alone. The static
embedding table (sentiment-embeddings.npz) is taken from the output folder or the package; where
neither has one it is distilled first (`clameur.nlp.embeddings_distill`, the `train` extra).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import tarfile
import time
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from clameur.nlp import sentiment
from clameur.nlp.embeddings import StaticEmbeddings
from clameur.nlp.sentiment import (
    EMBEDDINGS_FILE,
    FEATURES,
    LABELS,
    LEXICON_FILE,
    META_FILE,
    MODEL_FILE,
    MODEL_LANGUAGES,
    N_DENSE,
    LinearModel,
    featurize,
    read_lexicons,
    softmax,
)

# <repo>/src/clameur/nlp/sentiment_train.py -> <repo>/../shared/data
DEFAULT_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
BITS = 20
# A person's correction counts as this many ordinary training posts of its class.
CORRECTION_WEIGHT = 5.0
# Lexicon features are few and dense: scaled up so that the L2 penalty weighs them lightly.
DENSE_SCALE = 2.0
# The static embedding (a mean of centred word vectors, norm about 0.15) scaled up so that the
# L2 penalty lets it speak; 0 leaves it out. Chosen on each language's validation split among
# 4, 7 and 12: TweetEval validation macro-recall after biases 72.1 / 71.1 / 70.8 (71.8 without
# embeddings), UMSAB French validation macro-F1 69.7 / 70.4 / 71.0 (67.3 without).
EMBEDDING_SCALE = {"en": 4.0, "fr": 12.0}
# Regularisation grids, chosen on validation (English is the slow one: one value).
C_GRID = {"en": (1.0,), "fr": (0.5, 1.0, 2.0, 4.0, 8.0)}
# L-BFGS iterations: English stops at 150 (about 100 s on one core; fully converged takes three
# times longer for no gain on validation), French converges.
MAX_ITER = {"en": 150, "fr": 500}
# Class biases are tuned on TweetEval validation (2,000 posts); on UMSAB French validation
# (324 posts) the tuned biases followed the noise of those few posts, so French keeps its own.
TUNE_BIASES = {"en": True, "fr": False}
BIAS_GRID = np.round(np.arange(-1.5, 1.5001, 0.05), 2)
TEMPERATURES = np.round(np.arange(0.3, 3.0001, 0.05), 2)
# What each language's biases maximise on validation: the benchmarks' official measures.
TARGET = {"en": "macro_recall", "fr": "macro_f1"}

TWEETEVAL = "tweeteval-sentiment"
UMSAB = "umsab-sentiment-fr-en"


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def add(self, text: str, label: int, weight: float = 1.0) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.weights.append(weight)


def read_csv(path: Path) -> Split:
    """A data file of the shared folder: text and label (0 negative, 1 neutral, 2 positive)."""
    split = Split()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            split.add(row["text"], int(row["label"]))
    return split


def dedup_key(text: str) -> str:
    """What makes two tweets the same tweet across data sets (case, mentions, links, spaces)."""
    return " ".join(re.sub(r"@\w+|https?\S*", " ", text.lower()).split())


def load_splits(data_dir: Path) -> dict[str, dict[str, Split]]:
    """Train, validation and test splits per model language, deduplicated as described above."""
    te = data_dir / TWEETEVAL
    um = data_dir / UMSAB
    english = {
        "train": read_csv(te / "train_reconstructed.csv"),
        "validation": read_csv(te / "validation.csv"),
        "test": read_csv(te / "test.csv"),
        "umsab_train": read_csv(um / "english_train.csv"),
        "umsab_validation": read_csv(um / "english_validation.csv"),
        "umsab_test": read_csv(um / "english_test.csv"),
    }
    french = {
        "train": read_csv(um / "french_train.csv"),
        "validation": read_csv(um / "french_validation.csv"),
        "test": read_csv(um / "french_test.csv"),
    }
    held_out = {
        dedup_key(text)
        for name in ("validation", "test", "umsab_validation", "umsab_test")
        for text in english[name].texts
    }
    train = Split()
    seen: set[str] = set()
    for name in ("train", "umsab_train"):
        for text, label in zip(english[name].texts, english[name].labels, strict=True):
            key = dedup_key(text)
            if key not in held_out and key not in seen:
                seen.add(key)
                train.add(text, label)
    english["train"] = train
    held_out_fr = {dedup_key(t) for n in ("validation", "test") for t in french[n].texts}
    french_train = Split()
    for text, label in zip(french["train"].texts, french["train"].labels, strict=True):
        if dedup_key(text) not in held_out_fr:
            french_train.add(text, label)
    french["train"] = french_train
    return {"en": english, "fr": french}


def add_corrections(
    splits: dict[str, dict[str, Split]], corrections: Sequence[tuple[str, str | None, str]]
) -> dict[str, int]:
    """Append people's corrections to the train split of their language (both if unknown)."""
    added = dict.fromkeys(MODEL_LANGUAGES, 0)
    for text, lang, label_name in corrections:
        if label_name not in LABELS:
            raise ValueError(f"unknown sentiment label {label_name!r} (expected one of {LABELS})")
        label = LABELS.index(label_name)
        for target in (lang,) if lang in MODEL_LANGUAGES else MODEL_LANGUAGES:
            splits[target]["train"].add(text, label, CORRECTION_WEIGHT)
            added[target] += 1
    return added


def class_balanced(split: Split) -> np.ndarray:
    """Sample weights giving each class the same total, times each post's own weight."""
    labels = np.asarray(split.labels)
    counts = np.bincount(labels, minlength=3).astype(np.float64)
    per_class = len(labels) / (3.0 * np.maximum(counts, 1.0))
    return per_class[labels] * np.asarray(split.weights, dtype=np.float64)


def dense_scales(embeddings: StaticEmbeddings | None, embedding_scale: float) -> np.ndarray:
    """What each dense column is multiplied by in training (and the weights by, after it)."""
    scales = [DENSE_SCALE] * N_DENSE
    if embeddings is not None:
        scales += [embedding_scale] * embeddings.dim
    return np.array(scales)


def design_matrix(
    texts: Sequence[str],
    lexicon: dict[str, float],
    columns: np.ndarray | None = None,
    embeddings: StaticEmbeddings | None = None,
    embedding_scale: float = 1.0,
) -> tuple[Any, np.ndarray]:
    """Sparse features as scikit-learn takes them; only the buckets seen in training."""
    from scipy import sparse

    posts, buckets, values, dense = featurize(texts, lexicon, BITS, embeddings)
    if columns is None:
        columns = np.unique(buckets)
    position = np.searchsorted(columns, buckets)
    position = np.minimum(position, len(columns) - 1)
    known = columns[position] == buckets
    hashed = sparse.csr_matrix(
        (values[known], (posts[known], position[known])),
        shape=(len(texts), len(columns)),
    )
    dense = dense * dense_scales(embeddings, embedding_scale)
    matrix = sparse.hstack([hashed, sparse.csr_matrix(dense)], format="csr")
    return matrix, columns


def fit(matrix: Any, labels: Sequence[int], weights: np.ndarray, c: float, max_iter: int) -> Any:
    """Multinomial logistic regression (L-BFGS): deterministic for a given input."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    model = LogisticRegression(C=c, max_iter=max_iter, tol=1e-4)
    # One BLAS thread: the same sums in the same order on every machine, and one core used.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)  # English stops early on purpose
        model.fit(matrix, np.asarray(labels), sample_weight=weights)
    return model


def macro_scores(
    labels: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray
) -> dict[str, float]:
    """Macro recall, macro F1 and accuracy over the three classes."""
    y = np.asarray(labels)
    p = np.asarray(predicted)
    confusion = np.zeros((3, 3), dtype=np.float64)
    np.add.at(confusion, (y, p), 1.0)
    hits = np.diag(confusion)
    recall = hits / np.maximum(confusion.sum(axis=1), 1.0)
    precision = hits / np.maximum(confusion.sum(axis=0), 1.0)
    f1 = np.where(recall + precision > 0, 2 * recall * precision / (recall + precision + 1e-12), 0)
    return {
        "macro_recall": round(float(recall.mean()), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "accuracy": round(float(hits.sum() / max(len(y), 1)), 4),
    }


def tune_biases(logits: np.ndarray, labels: Sequence[int], target: str) -> np.ndarray:
    """Additive class biases (neutral fixed at 0) that maximise the target on validation."""
    y = np.asarray(labels)
    best = (-1.0, 0.0, np.zeros(3))
    for negative in BIAS_GRID:
        for positive in BIAS_GRID:
            bias = np.array([negative, 0.0, positive])
            score = macro_scores(y, (logits + bias).argmax(axis=1))[target]
            # Ties go to the smaller shift: the least departure from what training learned.
            key = (score, -abs(negative) - abs(positive))
            if key > best[:2]:
                best = (key[0], key[1], bias)
    return best[2]


def tune_temperature(logits: np.ndarray, labels: Sequence[int]) -> float:
    """The temperature that minimises the validation log-loss."""
    y = np.asarray(labels)
    losses = [
        -np.log(softmax(logits / t)[np.arange(len(y)), y] + 1e-12).mean() for t in TEMPERATURES
    ]
    return float(TEMPERATURES[int(np.argmin(losses))])


def train_language(
    lang: str,
    splits: dict[str, Split],
    lexicon: dict[str, float],
    embeddings: StaticEmbeddings | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Fit one language's model, choose C, biases and temperature on validation."""
    train, validation = splits["train"], splits["validation"]
    scale = EMBEDDING_SCALE[lang]
    if not scale:
        embeddings = None
    matrix, columns = design_matrix(train.texts, lexicon, None, embeddings, scale)
    val_matrix, _ = design_matrix(validation.texts, lexicon, columns, embeddings, scale)
    weights = class_balanced(train)
    target = TARGET[lang]
    tried = []
    best: tuple[float, Any, float] | None = None
    for c in C_GRID[lang]:
        model = fit(matrix, train.labels, weights, c, MAX_ITER[lang])
        score = macro_scores(validation.labels, model.predict(val_matrix))[target]
        tried.append({"C": c, target: score})
        if best is None or score > best[0]:
            best = (score, model, c)
    assert best is not None
    _, model, c = best
    coef = model.coef_.T  # (features, 3)
    hashed = coef[: len(columns)]
    dense = coef[len(columns) :] * dense_scales(embeddings, scale)[:, None]
    logits = val_matrix @ model.coef_.T + model.intercept_
    bias_shift = np.zeros(3)
    if TUNE_BIASES[lang]:
        bias_shift = tune_biases(logits, validation.labels, target)
    temperature = tune_temperature(logits + bias_shift, validation.labels)
    keep = np.flatnonzero(np.abs(hashed).max(axis=1) > 0)
    arrays = {
        f"{lang}_buckets": columns[keep].astype(np.uint32),
        f"{lang}_weights": hashed[keep].astype(np.float16),
        f"{lang}_dense": dense.astype(np.float32),
        f"{lang}_bias": (model.intercept_ + bias_shift).astype(np.float32),
    }
    predicted = (logits + bias_shift).argmax(axis=1)
    info = {
        "train_posts": len(train.texts),
        "train_labels": np.bincount(train.labels, minlength=3).tolist(),
        "C": c,
        "C_tried": tried,
        "embedding_scale": scale if embeddings is not None else 0.0,
        "iterations": int(np.max(model.n_iter_)),
        "bias_shift": bias_shift.round(3).tolist(),
        "temperature": temperature,
        "buckets_used": int(len(keep)),
        "validation": {
            "before_bias": macro_scores(validation.labels, logits.argmax(axis=1)),
            "after_bias": macro_scores(validation.labels, predicted),
        },
    }
    return arrays, info


def train(
    data_dir: Path,
    out_dir: Path,
    corrections: Sequence[tuple[str, str | None, str]] | None = None,
) -> dict[str, Any]:
    """Train both languages' models and write the model files to out_dir; validation metrics."""
    started = time.perf_counter()
    splits = load_splits(Path(data_dir))
    added = add_corrections(splits, corrections or [])
    out = Path(out_dir)
    lexicons = read_lexicons(_lexicon_dir(out))
    embeddings_path = _embeddings_path(Path(data_dir), out)
    embeddings = StaticEmbeddings.load(embeddings_path)
    arrays: dict[str, np.ndarray] = {}
    models: dict[str, Any] = {}
    for lang in MODEL_LANGUAGES:
        lang_arrays, info = train_language(lang, splits[lang], lexicons[lang], embeddings)
        info["corrections"] = added[lang]
        arrays.update(lang_arrays)
        models[lang] = info
    out.mkdir(parents=True, exist_ok=True)
    if embeddings_path.resolve() != (out / EMBEDDINGS_FILE).resolve():
        (out / EMBEDDINGS_FILE).write_bytes(embeddings_path.read_bytes())
    if (out / LEXICON_FILE).resolve() != (_lexicon_dir(out) / LEXICON_FILE).resolve():
        (out / LEXICON_FILE).write_bytes((_lexicon_dir(out) / LEXICON_FILE).read_bytes())
    np.savez_compressed(out / MODEL_FILE, **arrays)  # type: ignore[arg-type]  # numpy's stubs
    meta = {
        "version": sentiment.ENRICHER_VERSION,
        "features": FEATURES,
        "bits": BITS,
        "labels": list(LABELS),
        "dense_features": N_DENSE,
        "embeddings": EMBEDDINGS_FILE,
        "embedding_words": len(embeddings.words),
        "embedding_dim": embeddings.dim,
        "trained_on": {
            "en": "TweetEval train (reconstructed) + UMSAB English train, minus every tweet of "
            "TweetEval/UMSAB validation and test",
            "fr": "UMSAB French train",
        },
        "chosen_on": {"en": "TweetEval validation", "fr": "UMSAB French validation"},
        "models": models,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return {
        lang: {"validation": info["validation"]["after_bias"], "C": info["C"]}
        for lang, info in models.items()
    } | {"train_seconds": meta["train_seconds"]}


def _lexicon_dir(out_dir: Path) -> Path:
    """Where the lexicon file is read from: out_dir if it has one, else the package's."""
    return out_dir if (out_dir / LEXICON_FILE).is_file() else sentiment.MODELS_DIR


def _embeddings_path(data_dir: Path, out_dir: Path) -> Path:
    """The static embedding table: out_dir's, else the package's, else distilled into out_dir
    (about 10 CPU-minutes; `python -m clameur.nlp.embeddings_distill` redoes it on purpose)."""
    for folder in (out_dir, sentiment.MODELS_DIR):
        if (folder / EMBEDDINGS_FILE).is_file():
            return folder / EMBEDDINGS_FILE
    from clameur.nlp.embeddings_distill import distill

    distill(data_dir, out_dir)
    return out_dir / EMBEDDINGS_FILE


def evaluate(data_dir: Path, model_dir: Path) -> dict[str, Any]:
    """Test-split scores of the model files in model_dir, and their speed on one core."""
    models = sentiment.load_models(Path(model_dir))
    splits = load_splits(Path(data_dir))

    def score(split: Split, lang: str | None) -> dict[str, float]:
        probabilities = sentiment.predict_probabilities(
            split.texts, [lang] * len(split.texts), models
        )
        return macro_scores(split.labels, probabilities.argmax(axis=1))

    english, french = splits["en"], splits["fr"]
    return {
        "version": sentiment.ENRICHER_VERSION,
        "tweeteval_test": score(english["test"], "en"),
        "umsab_french_test": score(french["test"], "fr"),
        "umsab_english_test": score(english["umsab_test"], "en"),
        "unknown_language": {
            "tweeteval_test": score(english["test"], None),
            "umsab_french_test": score(french["test"], None),
            "umsab_english_test": score(english["umsab_test"], None),
        },
        "speed": measure_speed(english["test"].texts + french["test"].texts, models),
    }


def measure_speed(
    texts: list[str], models: dict[str, LinearModel], batch: int = 1000
) -> dict[str, float]:
    """CPU time per post of predict on batches (best of 3 passes; the machine may be shared)."""
    from clameur.nlp.language import detect_languages

    langs = [lang for lang, _ in detect_languages(texts)]
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for i in range(0, len(texts), batch):
            sentiment.predict_probabilities(texts[i : i + batch], langs[i : i + batch], models)
        best = min(best, time.process_time() - start)
    per_post = best / max(len(texts), 1)
    return {
        "posts": len(texts),
        "batch": batch,
        "us_per_post": round(per_post * 1e6, 1),
        "posts_per_s": round(1 / per_post) if per_post else 0,
    }


# --- the lexicon file: built once from three PyPI distributions, shipped as JSON ----------------

LEXICON_SOURCES = {
    "vaderSentiment": "vaderSentiment 3.3.2 (PyPI), vader_lexicon.txt and emoji_utf8_lexicon.txt; "
    "MIT, C.J. Hutto",
    "vaderSentiment_fr": "vadersentiment-fr 1.3.4 (PyPI), fr_lexicon.txt; MIT",
    "textblob_fr": "textblob-fr 0.2.0 (PyPI, MIT), fr-sentiment.xml: French adjectives by "
    "T. De Smedt & W. Daelemans (Pattern), PDDL",
}


def _member(folder: Path, pattern: str, inner: str) -> str:
    """A text file inside the one archive (wheel or sdist) of folder matching pattern."""
    matches = sorted(folder.glob(pattern))
    if not matches:
        raise FileNotFoundError(f"no {pattern} in {folder}: pip download --no-deps it there")
    archive = matches[-1]
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zipped:
            name = next(n for n in zipped.namelist() if n.endswith(inner))
            return zipped.read(name).decode("utf-8")
    with tarfile.open(archive) as tarred:
        member = next(m for m in tarred.getmembers() if m.name.endswith(inner))
        handle = tarred.extractfile(member)
        assert handle is not None
        return io.TextIOWrapper(handle, encoding="utf-8").read()


def build_lexicon(downloads: Path) -> dict[str, Any]:
    """The polarity lexicons (valence -4..4) from the PyPI distributions in `downloads`.

    `pip download --no-deps -d DIR vaderSentiment==3.3.2 vadersentiment-fr==1.3.4
    textblob-fr==0.2.0` fills the folder; emoji valences are VADER's score of their name.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    english: dict[str, float] = {}
    for line in _member(downloads, "vaderSentiment-3*", "vader_lexicon.txt").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and " " not in parts[0]:
            english[parts[0].lower()] = float(parts[1])
    analyzer = SentimentIntensityAnalyzer()
    emoji: dict[str, float] = {}
    for line in _member(downloads, "vaderSentiment-3*", "emoji_utf8_lexicon.txt").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and len(parts[0]) == 1:
            valence = round(4 * analyzer.polarity_scores(parts[1])["compound"], 2)
            if valence:
                emoji[parts[0]] = valence
    french_sums: dict[str, list[float]] = {}
    for line in _member(downloads, "vaderSentiment_fr-*", "fr_lexicon.txt").splitlines():
        word, _, number = line.rpartition("->")
        if word and " " not in word:
            french_sums.setdefault(word.lower(), []).append(float(number))
    adjectives: dict[str, list[float]] = {}
    xml = _member(downloads, "textblob_fr-*", "fr-sentiment.xml")
    for node in ElementTree.fromstring(xml).iter("word"):
        form = (node.get("form") or "").lower()
        if form and " " not in form:
            adjectives.setdefault(form, []).append(4 * float(node.get("polarity") or 0))
    for form, values in adjectives.items():
        french_sums.setdefault(form, []).append(sum(values) / len(values))
    french = {word: sum(v) / len(v) for word, v in french_sums.items()}
    # Tweets often drop accents: the folded form too, where it names no other word.
    for word, value in list(french.items()):
        folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii")
        if folded and folded not in french:
            french[folded] = value
    words = {
        "en": {w: round(v, 3) for w, v in sorted((english | emoji).items()) if v},
        "fr": {w: round(v, 3) for w, v in sorted((french | emoji).items()) if v},
    }
    return {"sources": LEXICON_SOURCES, "scale": "valence -4..4", "words": words}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clameur.nlp.sentiment_train")
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="train the models, write the model files")
    train_cmd.add_argument("--data", type=Path, default=DEFAULT_DATA)
    train_cmd.add_argument("--out", type=Path, default=sentiment.MODELS_DIR)
    eval_cmd = commands.add_parser("evaluate", help="test-split scores of the model files")
    eval_cmd.add_argument("--data", type=Path, default=DEFAULT_DATA)
    eval_cmd.add_argument("--models", type=Path, default=sentiment.MODELS_DIR)
    lex_cmd = commands.add_parser("lexicon", help="build the lexicon file from PyPI downloads")
    lex_cmd.add_argument("downloads", type=Path)
    lex_cmd.add_argument("--out", type=Path, default=sentiment.MODELS_DIR)
    args = parser.parse_args(argv)
    if args.command == "train":
        result = train(args.data, args.out)
    elif args.command == "evaluate":
        result = evaluate(args.data, args.models)
    else:
        lexicon = build_lexicon(args.downloads)
        args.out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(lexicon, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        (args.out / LEXICON_FILE).write_text(text + "\n", "utf-8")
        result = {lang: len(words) for lang, words in lexicon["words"].items()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
