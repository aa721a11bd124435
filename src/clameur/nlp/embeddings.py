"""Static word vectors distilled from a sentence transformer: a post's vector in microseconds.

The model2vec recipe at word level: every word of a fixed vocabulary was run once, alone, through
a multilingual sentence transformer (`clameur.nlp.embeddings_distill`); a post's vector is the
mean of its known words' vectors, each weighted by a/(a + p(word)) (smooth inverse frequency:
frequent words count less). French and English words share one space, so what a model learns
from English posts carries over to French words it never saw labelled.

The post vector is a weighted mean, so a linear model on top of it is a weighted mean of
per-word scores: `project` turns the table into one score row per word once, and scoring a post
costs a few dictionary look-ups. Stored as int8 rows with one float32 scale per word: numpy only,
nothing executable, a quarter of the float32 size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

NEGATED = "~"


class StaticEmbeddings:
    """A vocabulary of words, their int8 vectors, row scales and word weights."""

    def __init__(
        self,
        words: Sequence[str],
        vectors: np.ndarray,
        scales: np.ndarray,
        weights: np.ndarray,
    ) -> None:
        if not len(words) == len(vectors) == len(scales) == len(weights):
            raise ValueError("words, vectors, scales and weights must have the same length")
        self.words = list(words)
        self.index = {word: i for i, word in enumerate(self.words)}
        self.vectors = np.ascontiguousarray(vectors, dtype=np.int8)
        self.scales = np.asarray(scales, dtype=np.float32)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.dim = int(self.vectors.shape[1])

    @classmethod
    def load(cls, path: Path) -> StaticEmbeddings:
        """Read a table written by `save` (numpy arrays; no pickle)."""
        with np.load(path, allow_pickle=False) as arrays:
            words = str(arrays["words"]).split("\n")
            return cls(words, arrays["vectors"], arrays["scales"], arrays["weights"])

    def save(self, path: Path) -> None:
        """Write the table: words joined by newlines, int8 vectors, scales and weights."""
        np.savez_compressed(
            path,
            words=np.array("\n".join(self.words)),
            vectors=self.vectors,
            scales=self.scales,
            weights=self.weights.astype(np.float32),
        )

    def lookup(self, token_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(post index, word row) of every known token, in post order.

        A token marked as negated ('~word') counts as the word itself: the linear model on top
        has the negation scopes in its n-gram features.
        """
        get = self.index.get
        rows: list[int] = []
        owners: list[int] = []
        for post, tokens in enumerate(token_lists):
            for token in tokens:
                row = get(token)
                if row is None and token[:1] == NEGATED:
                    row = get(token[1:])
                if row is not None:
                    rows.append(row)
                    owners.append(post)
        return np.asarray(owners, dtype=np.intp), np.asarray(rows, dtype=np.intp)

    def embed(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Weighted mean of each post's known word vectors, shape (posts, dim); zeros where a
        post has no known word. Training uses it; scoring goes through `project`."""
        owners, rows = self.lookup(token_lists)
        n = len(token_lists)
        result = np.zeros((n, self.dim), dtype=np.float64)
        if len(rows):
            vectors = self.vectors[rows].astype(np.float64)
            vectors *= (self.scales[rows] * self.weights[rows])[:, None]
            starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
            result[owners[starts]] = np.add.reduceat(vectors, starts, axis=0)
            totals = np.bincount(owners, weights=self.weights[rows], minlength=n)
            result /= np.maximum(totals, 1e-12)[:, None]
        return result

    def project(self, matrix: np.ndarray) -> np.ndarray:
        """Each word's vector times matrix (dim, k), times the word's weight: shape (words, k)."""
        vectors = self.vectors.astype(np.float32) * self.scales[:, None]
        return (vectors @ np.asarray(matrix, dtype=np.float32)) * self.weights[:, None]


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and each row's scale (its largest magnitude / 127)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    scales = np.abs(vectors).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    return np.round(vectors / scales[:, None]).astype(np.int8), scales.astype(np.float32)
