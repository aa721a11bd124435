"""Sentiment of posts: negative, neutral or positive, with the probability of that label.

Chosen by measurement (bench/sentiment.py, bench/results/sentiment.md): one linear model per
language (French, English) over hashed character 1-5-grams, word uni- and bigrams with negation
scopes marked, a handful of lexicon features (VADER for English; VADER-fr and the
Pattern/textblob-fr adjectives for French) and the post's static embedding: the weighted mean of
its words' vectors, distilled once from a multilingual sentence transformer
(`clameur.nlp.embeddings`), which brings what the transformer knows of words the training tweets
never labelled. Trained here on the public TweetEval and UMSAB data
(`clameur.nlp.sentiment_train`). The English class biases are tuned on TweetEval validation for
macro-recall, and each model's probabilities calibrated on its validation split (a temperature).
Scoring is numpy only, for a whole batch at once: no scikit-learn, no pickle, no transformer,
well under 100 µs a post on one core.

Posts in another language, or of unknown language, get the mean of the two models'
probabilities: emoji, emoticons, punctuation and shared words carry across, and neither model is
favoured when the language is not known.
"""

from __future__ import annotations

import html
import json
import math
import re
import threading
import unicodedata
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clameur.nlp.embeddings import StaticEmbeddings

ENRICHER_NAME = "sentiment"
# Model family, training release, revision of the features below. Change it whenever the model
# files or the features change, so that stored results say what produced them.
ENRICHER_VERSION = "sentiment-linear-2026.11-2"

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
MODEL_LANGUAGES: tuple[str, ...] = ("en", "fr")
MODELS_DIR = Path(__file__).resolve().parent / "models"
MODEL_FILE = "sentiment-linear.npz"
META_FILE = "sentiment-linear.json"
LEXICON_FILE = "sentiment-lexicon.json"
EMBEDDINGS_FILE = "sentiment-embeddings.npz"
# The revision of the featurizer below; a model file trained with another one is refused.
FEATURES = "hash-c1-5-w1-2-neg-lex8-e5words-1"

CHAR_MIN, CHAR_MAX = 1, 5

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?:/*\S*|\bhttps?\b|www\.\S+", re.IGNORECASE)
_REPEAT = re.compile(r"(.)\1{3,}")
_NOT = re.compile(r"n't\b")
# French elisions keep their apostrophe ("n'", "j'"): "n'" opens a negation scope.
_TOKEN = re.compile(r"\w+'|\w+|[^\w\s]")
# Words that open a negation scope; the scope runs to the next punctuation or "but"/"mais".
NEGATORS = frozenset(
    "not no never nothing nobody none nor neither cannot without nowhere dont doesnt didnt isnt "
    "wasnt werent arent cant couldnt wont wouldnt shouldnt aint "
    "ne n' pas jamais rien aucun aucune aucunement nullement sans ni".split()
)
_SCOPE_ENDS = frozenset(".,!?;:") | {"but", "mais"}
_CONTRASTS = frozenset(("but", "mais", "however", "cependant", "pourtant"))
_NEGATED = "~"
N_DENSE = 8

# 64-bit FNV-1a steps over code points, then a 64-bit finaliser (splitmix64): stable across
# platforms and Python runs, unlike hash(). numpy integer arrays wrap on overflow.
_FNV_PRIME = np.uint64(0x100000001B3)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_MIX = np.uint64(0xBF58476D1CE4E5B9)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_WORD_SEED = np.uint64(0x5BD1E995)
_BIGRAM_SEED = np.uint64(7)


def normalize(text: str) -> str:
    """Lowercase, @mentions to '@user', links to 'http', long letter runs cut to three."""
    if "\\u" in text:  # literal escapes left in some exports (UMSAB English)
        text = _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    if "&" in text:
        text = html.unescape(text)
    if "\x00" in text:  # the separator of posts in a batch (char_ngrams)
        text = text.replace("\x00", " ")
    text = text.replace("\u2019", "'").replace("\ufe0f", "").replace("\u200d", "")
    if "@" in text:
        text = _MENTION.sub(" @user ", text)
    if "http" in text or "www." in text or "HTTP" in text:
        text = _URL.sub(" http ", text)
    text = _REPEAT.sub(r"\1\1\1", text.lower())
    if "n't" in text:
        text = _NOT.sub(" not", text)
    return " ".join(text.split())


def tokenize(normalized: str) -> list[str]:
    """Word and punctuation tokens; those inside a negation scope carry a '~' prefix."""
    tokens = _TOKEN.findall(normalized)
    if NEGATORS.isdisjoint(tokens):
        return tokens
    marked: list[str] = []
    scope = False
    for token in tokens:
        if token in _SCOPE_ENDS:
            scope = False
            marked.append(token)
            continue
        marked.append(_NEGATED + token if scope else token)
        if token in NEGATORS:
            scope = True
    return marked


def _mix(hashes: np.ndarray, bits: int) -> np.ndarray:
    hashes = hashes ^ (hashes >> np.uint64(31))
    hashes = hashes * _MIX
    hashes = hashes ^ (hashes >> np.uint64(29))
    return (hashes >> np.uint64(64 - bits)).astype(np.intp)


def char_ngrams(texts: Sequence[str], bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(post index, bucket) of every character 1..5-gram of ' text ', for all texts at once."""
    joined = "\x00".join(f" {text} " for text in texts)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    codes = codes.astype(np.uint64)
    separator = codes == 0
    owner = np.cumsum(separator)
    size = len(codes)
    hashes = np.full(size, _FNV_OFFSET, dtype=np.uint64)
    clean = ~separator  # n-gram starting here holds no separator
    posts: list[np.ndarray] = []
    buckets: list[np.ndarray] = []
    for n in range(1, CHAR_MAX + 1):
        m = size - n + 1
        if m <= 0:
            break
        hashes = (hashes[:m] ^ codes[n - 1 : n - 1 + m]) * _FNV_PRIME
        clean = clean[:m] & ~separator[n - 1 : n - 1 + m]
        if n >= CHAR_MIN:
            at = np.flatnonzero(clean)
            posts.append(owner[at])
            buckets.append(_mix(hashes[at] ^ np.uint64(n), bits))
    if not posts:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    return np.concatenate(posts).astype(np.intp), np.concatenate(buckets)


_word_hashes: dict[str, int] = {}


def _word_hash(token: str) -> int:
    value = _word_hashes.get(token)
    if value is None:
        value = zlib.crc32(token.encode("utf-8", "surrogatepass"))
        if len(_word_hashes) < 500_000:  # bounded: a stream of new words must not grow it forever
            _word_hashes[token] = value
    return value


def word_ngrams(token_lists: Sequence[list[str]], bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(post index, bucket) of every word unigram and bigram."""
    lengths = np.fromiter((len(tokens) for tokens in token_lists), np.intp, len(token_lists))
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    get = _word_hashes.get
    hashes = np.fromiter(
        (get(t) or _word_hash(t) for tokens in token_lists for t in tokens), np.uint64, total
    )
    owner = np.repeat(np.arange(len(token_lists)), lengths)
    pair = np.flatnonzero(owner[1:] == owner[:-1])  # bigram (i, i+1) inside one post
    bigrams = hashes[pair] * _GOLDEN + hashes[pair + 1] + _BIGRAM_SEED
    posts = np.concatenate((owner, owner[pair]))
    return posts, _mix(np.concatenate((hashes, bigrams)) ^ _WORD_SEED, bits)


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii")


def lexicon_features(tokens: list[str], lexicon: dict[str, float]) -> list[float]:
    """Eight numbers from a polarity lexicon (valences in -4..4) and punctuation."""
    positive = negative = 0.0
    last = 0.0
    weight = 1.0
    negated = False
    for token in tokens:
        if token[0] == _NEGATED:
            negated = True
            token = token[1:]
            flip = -0.74  # VADER's scalar for a negated word
        else:
            flip = 1.0
        if token in _CONTRASTS:  # VADER: what follows "but" counts more than what precedes it
            positive *= 0.5
            negative *= 0.5
            weight = 1.5
            continue
        valence = lexicon.get(token)
        if valence is None:
            continue
        valence *= flip * weight
        last = valence
        if valence > 0:
            positive += valence
        else:
            negative -= valence
    balance = positive - negative
    return [
        math.log1p(positive),
        math.log1p(negative),
        balance / math.sqrt(balance * balance + 15.0),  # VADER's compound normalisation
        last / 4.0,
        1.0 if "!" in tokens else 0.0,
        1.0 if "?" in tokens else 0.0,
        1.0 if negated else 0.0,
        1.0 if "http" in tokens else 0.0,
    ]


def featurize(
    texts: Sequence[str],
    lexicon: dict[str, float],
    bits: int,
    embeddings: StaticEmbeddings | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hashed features of texts: (post, bucket, value) triples and a dense block.

    A post's character n-grams share a weight of 1 (each counts 1/sqrt(count)), and so do its
    word n-grams: the same L2-style scale whatever the length, with no per-post sorting. The
    dense block holds the N_DENSE lexicon features, then the post's static embedding (the
    weighted mean of its words' vectors) when a table is given.
    """
    posts, buckets, values, dense, token_lists = _featurize(texts, lexicon, bits)
    if embeddings is not None:
        dense = np.hstack((dense, embeddings.embed(token_lists)))
    return posts, buckets, values, dense


def _featurize(
    texts: Sequence[str], lexicon: dict[str, float], bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[list[str]]]:
    normalized = [normalize(text) for text in texts]
    token_lists = [tokenize(text) for text in normalized]
    char_posts, char_buckets = char_ngrams(normalized, bits)
    word_posts, word_buckets = word_ngrams(token_lists, bits)
    n = len(texts)
    char_scale = 1.0 / np.sqrt(np.maximum(np.bincount(char_posts, minlength=n), 1))
    word_scale = 1.0 / np.sqrt(np.maximum(np.bincount(word_posts, minlength=n), 1))
    posts = np.concatenate((char_posts, word_posts))
    buckets = np.concatenate((char_buckets, word_buckets))
    values = np.concatenate((char_scale[char_posts], word_scale[word_posts]))
    dense = np.array(
        [lexicon_features(tokens, lexicon) for tokens in token_lists], dtype=np.float64
    ).reshape(n, N_DENSE)
    return posts, buckets, values, dense, token_lists


class LinearModel:
    """One language's weights: hashed buckets -> 3 logits, a dense block, biases, temperature.

    The dense block weighs the lexicon features and, with an embedding table, the post's
    static embedding. That embedding is a weighted mean of word vectors, so its share of the
    logits is the same weighted mean of per-word scores, computed once at load (`project`).
    """

    def __init__(
        self,
        weights: np.ndarray,
        dense: np.ndarray,
        bias: np.ndarray,
        temperature: float,
        lexicon: dict[str, float],
        bits: int,
        embeddings: StaticEmbeddings | None = None,
    ) -> None:
        # One contiguous float32 column per class: a gather and a bincount each, no 2-D fancy
        # indexing (twice as slow on a batch).
        self.columns = [np.ascontiguousarray(weights[:, k], dtype=np.float32) for k in range(3)]
        dense = np.asarray(dense, dtype=np.float64)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.temperature = float(temperature)
        self.lexicon = lexicon
        self.bits = bits
        self.embeddings = embeddings
        expected = N_DENSE + (embeddings.dim if embeddings is not None else 0)
        if dense.shape != (expected, 3):
            raise ValueError(f"dense weights of shape {dense.shape}, expected ({expected}, 3)")
        self.dense = dense[:N_DENSE]
        self.word_scores: list[np.ndarray] = []
        if embeddings is not None:
            projected = embeddings.project(dense[N_DENSE:])
            self.word_scores = [np.ascontiguousarray(projected[:, k]) for k in range(3)]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw class scores (bias included, before temperature), shape (len(texts), 3)."""
        posts, buckets, values, dense, token_lists = _featurize(texts, self.lexicon, self.bits)
        n = len(texts)
        scores = dense @ self.dense + self.bias
        for k, column in enumerate(self.columns):
            scores[:, k] += np.bincount(posts, weights=column[buckets] * values, minlength=n)
        if self.embeddings is not None:
            owners, rows = self.embeddings.lookup(token_lists)
            totals = np.bincount(owners, weights=self.embeddings.weights[rows], minlength=n)
            totals = np.maximum(totals, 1e-12)
            for k, word_scores in enumerate(self.word_scores):
                scores[:, k] += np.bincount(owners, weights=word_scores[rows], minlength=n) / totals
        return scores

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities, shape (len(texts), 3)."""
        return softmax(self.logits(texts) / self.temperature)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)


def read_lexicons(model_dir: Path) -> dict[str, dict[str, float]]:
    """The polarity lexicons shipped beside the models, keyed by language."""
    data = json.loads((model_dir / LEXICON_FILE).read_text("utf-8"))
    return {lang: data["words"][lang] for lang in MODEL_LANGUAGES}


def load_models(model_dir: Path) -> dict[str, LinearModel]:
    """Read the model files of a folder (numpy arrays and JSON; nothing executable)."""
    meta = json.loads((model_dir / META_FILE).read_text("utf-8"))
    if meta.get("features") != FEATURES:
        raise RuntimeError(
            f"sentiment model in {model_dir} was trained with features {meta.get('features')!r},"
            f" this code computes {FEATURES!r}: retrain it (clameur models train)"
        )
    lexicons = read_lexicons(model_dir)
    bits = int(meta["bits"])
    embeddings = None
    if meta.get("embeddings"):
        embeddings = StaticEmbeddings.load(model_dir / meta["embeddings"])
    models: dict[str, LinearModel] = {}
    with np.load(model_dir / MODEL_FILE, allow_pickle=False) as arrays:
        for lang in MODEL_LANGUAGES:
            dense = arrays[f"{lang}_dense"]
            # A language whose dense weights stop at the lexicon features was trained without
            # the embeddings.
            uses_embeddings = embeddings is not None and len(dense) > N_DENSE
            weights = np.zeros((1 << bits, 3), dtype=np.float32)
            weights[arrays[f"{lang}_buckets"]] = arrays[f"{lang}_weights"].astype(np.float32)
            models[lang] = LinearModel(
                weights,
                dense,
                arrays[f"{lang}_bias"],
                float(meta["models"][lang]["temperature"]),
                lexicons[lang],
                bits,
                embeddings if uses_embeddings else None,
            )
    return models


_models: dict[str, LinearModel] | None = None
_load_lock = threading.Lock()


def _get_models() -> dict[str, LinearModel]:
    global _models
    if _models is None:
        with _load_lock:
            if _models is None:
                _models = load_models(MODELS_DIR)
    return _models


def predict_probabilities(
    texts: Sequence[str], langs: Sequence[str | None], models: dict[str, LinearModel] | None = None
) -> np.ndarray:
    """Class probabilities (negative, neutral, positive) for each text, shape (len(texts), 3)."""
    if len(texts) != len(langs):
        raise ValueError(f"{len(texts)} texts but {len(langs)} languages")
    models = models or _get_models()
    result = np.zeros((len(texts), 3), dtype=np.float64)
    other = [i for i, lang in enumerate(langs) if lang not in models]
    for lang, model in models.items():
        rows = [i for i, code in enumerate(langs) if code == lang]
        if rows:
            result[rows] = model.probabilities([texts[i] for i in rows])
        if other:
            result[other] += model.probabilities([texts[i] for i in other]) / len(models)
    return result


def predict_sentiment(texts: list[str], langs: list[str | None]) -> list[tuple[str, float]]:
    """Label (negative, neutral, positive) and its probability for each text, in one batch."""
    if not texts:
        return []
    probabilities = predict_probabilities(texts, langs)
    best = probabilities.argmax(axis=1)
    confidence = probabilities[np.arange(len(texts)), best]
    return [
        (LABELS[label], round(float(p), 4))
        for label, p in zip(best.tolist(), confidence.tolist(), strict=True)
    ]


def train_sentiment(
    data_dir: Path,
    out_dir: Path = MODELS_DIR,
    corrections: list[tuple[str, str | None, str]] | None = None,
) -> dict[str, Any]:
    """Train the shipped models from the public data (and people's corrections); write them."""
    from clameur.nlp.sentiment_train import train

    metrics = train(data_dir, out_dir, corrections)
    if Path(out_dir).resolve() == MODELS_DIR:
        reset()
    return metrics


def evaluate_sentiment(data_dir: Path, model_dir: Path | None = None) -> dict[str, Any]:
    """Test-split scores of the model files (TweetEval, UMSAB French and English) and speed."""
    from clameur.nlp.sentiment_train import evaluate

    return evaluate(data_dir, model_dir or MODELS_DIR)


def reset() -> None:
    """Forget the loaded models (after training new ones in place)."""
    global _models
    with _load_lock:
        _models = None
