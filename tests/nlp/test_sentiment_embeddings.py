from collections import Counter

import numpy as np
import pytest

from clameur.nlp import sentiment
from clameur.nlp.embeddings import StaticEmbeddings, quantize
from clameur.nlp.embeddings_distill import sif_weights, vocabulary
from clameur.nlp.sentiment import N_DENSE, LinearModel, featurize


def make_table(words=("good", "bad", "film", "the"), dim=4, seed=0) -> StaticEmbeddings:
    rng = np.random.default_rng(seed)
    vectors, scales = quantize(rng.normal(size=(len(words), dim)))
    weights = np.linspace(1.0, 0.25, len(words))
    return StaticEmbeddings(words, vectors, scales, weights)


def dequantized(table: StaticEmbeddings) -> np.ndarray:
    return table.vectors.astype(np.float64) * table.scales.astype(np.float64)[:, None]


def test_a_post_vector_is_the_weighted_mean_of_its_known_words():
    table = make_table()
    vectors = dequantized(table)
    [post] = table.embed([["good", "film", "unknown"]])
    w_good, w_film = table.weights[0], table.weights[2]
    expected = (w_good * vectors[0] + w_film * vectors[2]) / (w_good + w_film)
    np.testing.assert_allclose(post, expected, rtol=1e-6)


def test_a_negated_word_counts_as_the_word_itself():
    table = make_table()
    np.testing.assert_allclose(table.embed([["~good", "film"]]), table.embed([["good", "film"]]))


def test_a_post_without_known_words_gets_zeros():
    table = make_table()
    result = table.embed([["nothing", "known"], [], ["bad"]])
    assert not result[0].any() and not result[1].any()
    assert result[2].any()


def test_projected_word_scores_give_the_same_logits_as_the_post_vector():
    table = make_table(dim=6)
    matrix = np.random.default_rng(1).normal(size=(6, 3))
    token_lists = [["good", "film"], ["bad", "bad", "the"], ["zzz"], ["film"]]
    owners, rows = table.lookup(token_lists)
    projected = table.project(matrix)
    totals = np.maximum(np.bincount(owners, weights=table.weights[rows], minlength=4), 1e-12)
    fast = np.stack(
        [np.bincount(owners, weights=projected[rows, k], minlength=4) / totals for k in range(3)],
        axis=1,
    )
    np.testing.assert_allclose(fast, table.embed(token_lists) @ matrix, rtol=1e-5, atol=1e-6)


def test_a_table_survives_saving_and_loading_without_pickle(tmp_path):
    table = make_table()
    table.save(tmp_path / "table.npz")
    with np.load(tmp_path / "table.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    loaded = StaticEmbeddings.load(tmp_path / "table.npz")
    assert loaded.words == table.words
    np.testing.assert_array_equal(loaded.vectors, table.vectors)
    np.testing.assert_allclose(loaded.embed([["good", "bad"]]), table.embed([["good", "bad"]]))


def test_quantisation_keeps_each_vector_within_half_a_step():
    vectors = np.random.default_rng(2).normal(size=(50, 16))
    quantized, scales = quantize(vectors)
    assert quantized.dtype == np.int8
    error = np.abs(quantized * scales[:, None].astype(np.float64) - vectors)
    assert (error <= scales[:, None] * 0.5 + 1e-6).all()


def test_the_linear_model_scores_embeddings_as_training_saw_them():
    """The fast path (per-word scores) equals the training features times the weights."""
    table = make_table(words=("love", "hate", "film", "the", "!"), dim=8)
    rng = np.random.default_rng(3)
    bits = 10
    weights = rng.normal(size=(1 << bits, 3)).astype(np.float32)
    dense = rng.normal(size=(N_DENSE + 8, 3))
    bias = np.array([0.1, 0.0, -0.2])
    lexicon = {"love": 3.0, "hate": -3.0}
    model = LinearModel(weights, dense, bias, 1.0, lexicon, bits, table)
    texts = ["I love the film!", "hate hate hate", "nothing known here", "", "the film"]
    posts, buckets, values, features = featurize(texts, lexicon, bits, table)
    expected = features @ dense + bias
    for k in range(3):
        expected[:, k] += np.bincount(
            posts, weights=weights[buckets, k].astype(np.float64) * values, minlength=len(texts)
        )
    np.testing.assert_allclose(model.logits(texts), expected, rtol=1e-4, atol=1e-4)


def test_dense_weights_must_match_the_embedding_width():
    table = make_table(dim=8)
    with pytest.raises(ValueError):
        LinearModel(np.zeros((16, 3)), np.zeros((N_DENSE + 4, 3)), np.zeros(3), 1.0, {}, 4, table)


def test_the_vocabulary_keeps_corpus_words_then_the_strongest_lexicon_words():
    counts = {
        "en": Counter({"great": 5, "once": 1, "film": 2}),
        "fr": Counter({"nul": 1}),
    }
    lexicons = {"en": {"superb": 3.1, "meh": -0.5, "awful": -2.5}, "fr": {"horrible": -2.5}}
    assert vocabulary(counts, lexicons, max_words=10) == sorted(
        ["great", "film", "nul", "superb", "meh", "awful", "horrible"]
    )
    # English words seen once are left out; the room left goes to the strongest valences.
    assert vocabulary(counts, lexicons, max_words=5) == sorted(
        ["great", "film", "nul", "superb", "awful"]
    )


def test_frequent_words_weigh_less():
    counts = {"en": Counter({"the": 10_000, "superb": 3}), "fr": Counter()}
    weights = sif_weights(["superb", "the"], counts)
    assert weights[0] > 5 * weights[1]


def test_the_shipped_table_is_small_and_bilingual():
    path = sentiment.MODELS_DIR / sentiment.EMBEDDINGS_FILE
    assert path.stat().st_size < 15_000_000
    table = StaticEmbeddings.load(path)
    for word in ("love", "hate", "génial", "nul", "déteste", "merci"):
        assert word in table.index
    vectors = table.embed([["génial"], ["excellent"], ["horrible"]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # French and English share one space: "génial" lies nearer "excellent" than "horrible".
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
