"""Language identification of posts: which language each post is written in.

Chosen by measurement (bench/langid.py, bench/results/langid.md): py3langid restricted to the
languages a French/English brand meets, on cleaned text. Its model is scored here with numpy over a
whole batch at once instead of py3langid's per-byte Python loop: the same answers, several times
faster. lingua's high-accuracy mode is no better on short posts and twenty times slower; as a
fallback for the posts py3langid is unsure of it gains under a point (see the bench).
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Sequence

import numpy as np

ENRICHER_NAME = "language"
# Detector and model release, the languages it may answer, the cleaning revision. Change it
# whenever any of them changes, so that stored results say what produced them.
ENRICHER_VERSION = "py3langid-0.4+fr-en-es-de-it-pt-nl+clean-1"

# French and English first: the languages Clameur's users listen in. The others are the ones a
# French/English brand meets most; limiting the choice to them removes most of the absurd answers
# (Latin, Malagasy, ...) that an unrestricted detector gives on a few words.
LANGUAGES: tuple[str, ...] = ("fr", "en", "es", "de", "it", "pt", "nl")

_RT = re.compile(r"^\s*[Rr][Tt]\b:?|\b[Rr][Tt]:?(?=\s*@)")
# The '@' comes first so that the scan jumps from '@' to '@'; not an e-mail address (a@b.fr).
_MENTION = re.compile(r"@(?<![\w@]@)\w+:?")
# Full URLs (also glued to the word before), the bare "http" that data sets leave in their place,
# and short links (bit.ly/x).
_URL = re.compile(
    r"(?:https?:/*\S*|https?\b|www\.\S+|[^\s/]+\.[a-z]{2,6}/\S*)(?:\s*…)?", re.IGNORECASE
)
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, flags, supplemental symbols
    "\u2190-\u21ff"  # arrows
    "\u2300-\u23ff"  # technical symbols (watch, hourglass)
    "\u2460-\u24ff"  # enclosed alphanumerics
    "\u25a0-\u27bf"  # shapes, misc symbols, dingbats
    "\u2900-\u297f"  # supplemental arrows
    "\u2b00-\u2bff"  # misc symbols and arrows (stars, squares)
    "\u3030\u303d\u3297\u3299"
    "\ufe00-\ufe0f"  # variation selectors
    "\u200d"  # zero-width joiner
    "\u20e3"  # combining keycap
    "\U000e0020-\U000e007f"  # tag characters (subdivision flags)
    "\ufffd"  # replacement character: mojibake of emoji in exported data
    "]+"
)
_LETTER = re.compile(r"[^\W\d_]")

# A byte that never occurs in UTF-8; on it py3langid's n-gram automaton goes back to its start.
_SEPARATOR = 0xFF


def clean_for_language(text: str) -> str:
    """Strip what carries no language (URLs, @mentions, '#', emoji, RT) and squeeze spaces."""
    # Each pattern runs only when its trigger is there: this runs on every ingested post.
    if "&" in text:
        text = html.unescape(text)
    if "@" in text or text.lstrip()[:2] in ("RT", "Rt", "rt"):
        text = _MENTION.sub(" ", _RT.sub(" ", text))
    if "/" in text or "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if not text.isascii():
        text = _EMOJI.sub(" ", text)
    return " ".join(text.replace("#", " ").split())


class _NgramModel:
    """py3langid's model restricted to `languages`, scored for many texts at once.

    py3langid walks an automaton over the UTF-8 bytes, one Python step per byte; a state stands
    for the longest n-gram prefix just read, so it depends only on the last `window` bytes (the
    longest n-gram). Walking `window` bytes from the start for every position at once gives the
    same states with a handful of numpy operations for a whole batch.
    """

    def __init__(self, languages: Sequence[str]) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
        if not hasattr(identifier, "tk_row"):
            raise RuntimeError("clameur's language detector needs py3langid >= 0.4")
        identifier.set_languages(list(languages))
        self.languages: list[str] = list(identifier.nb_classes)
        self.weights = np.ascontiguousarray(identifier.nb_ptc, dtype=np.float32)
        self.priors = np.asarray(identifier.nb_pc, dtype=np.float32)
        moves = np.asarray(identifier.tk_nextmove)  # state -> row of 256 next states
        row_start = np.asarray(identifier.tk_row, dtype=np.int32) << 8
        feature = np.asarray(identifier.tk_output, dtype=np.int32)
        if np.any(moves[row_start + _SEPARATOR] != 0) or feature[0] >= 0:
            raise RuntimeError("py3langid's model no longer resets on byte 0xFF")
        self.window = _longest_ngram(moves, row_start)
        self.n_features = int(feature.max()) + 1
        self.start = int(row_start[0])
        # Indexed by (row start of the current state + byte): where the next state's row starts,
        # and the n-gram feature the next state completes (-1 if none). One lookup per step.
        self.next_row = row_start[moves]
        self.next_feature = feature[moves]

    def classify(self, texts: list[bytes]) -> list[tuple[str | None, float]]:
        """Most likely language and its probability, for each UTF-8 text; None if no n-gram."""
        if not texts:
            return []
        separator = bytes([_SEPARATOR])
        joined = separator.join(texts)
        n = len(joined)
        buffer = np.frombuffer(separator * (self.window - 1) + joined, dtype=np.uint8)
        buffer = buffer.astype(np.int32)
        # Position i is walked over bytes i-window+1..i; the separator (and the padding before
        # the first text) sends the automaton back to its start, so texts do not mix.
        at = buffer[:n] + self.start
        for k in range(1, self.window):
            at = self.next_row[at] + buffer[k : k + n]
        feature = self.next_feature[at]
        hit = np.flatnonzero(feature >= 0)
        keys = feature[hit].astype(np.int64)
        if len(texts) > 1:
            # Text number of each position = separators before it; key = (text, feature).
            text_of = np.cumsum(buffer[self.window - 1 :] == _SEPARATOR)
            keys += text_of[hit] * self.n_features
        if not len(keys):
            return [(None, 0.0)] * len(texts)
        keys.sort()
        first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        counts = np.diff(np.append(first, len(keys))).astype(np.float32)
        keys = keys[first]
        owner = keys // self.n_features
        terms = np.log1p(counts)[:, None] * self.weights[keys - owner * self.n_features]
        scores = np.zeros((len(texts), len(self.languages)), dtype=np.float32)
        judged = np.zeros(len(texts), dtype=bool)
        starts = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
        scores[owner[starts]] = np.add.reduceat(terms, starts, axis=0)
        judged[owner[starts]] = True
        scores += self.priors
        # py3langid's calibration: a temperature of sqrt(bytes) before the softmax.
        sizes = np.array([len(t) or 1 for t in texts], dtype=np.float32)
        scores /= np.sqrt(sizes)[:, None]
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        best = scores.argmax(axis=1)
        confidence = scores[np.arange(len(texts)), best] / scores.sum(axis=1)
        return [
            (self.languages[b], round(c, 4)) if ok else (None, 0.0)
            for b, c, ok in zip(best.tolist(), confidence.tolist(), judged.tolist(), strict=True)
        ]


def _longest_ngram(moves: np.ndarray, row_start: np.ndarray) -> int:
    """Depth of the automaton's trie (breadth-first from the start): its longest n-gram."""
    seen = np.zeros(len(row_start), dtype=bool)
    seen[0] = True
    frontier = np.array([0], dtype=np.intp)
    depth = 0
    while True:
        reached = np.unique(moves[(row_start[frontier][:, None] + np.arange(256)).ravel()])
        reached = reached[~seen[reached]]
        if not len(reached):
            return depth
        seen[reached] = True
        frontier = reached
        depth += 1


_ngram_model: _NgramModel | None = None
_load_lock = threading.Lock()


def _get_ngram_model() -> _NgramModel:
    global _ngram_model
    if _ngram_model is None:
        with _load_lock:
            if _ngram_model is None:
                _ngram_model = _NgramModel(LANGUAGES)
    return _ngram_model


def _encode(cleaned: str) -> bytes:
    # As py3langid does: all-caps text is lowered, then NFC, then UTF-8. The spaces around give
    # the first and last words the word-boundary n-grams every other word has: on short posts
    # that is worth 2 to 3 points (bench/langid.py).
    if cleaned.isupper():
        cleaned = cleaned.lower()
    text = unicodedata.normalize("NFC", f" {cleaned} ")
    return text.encode("utf-8", errors="surrogatepass")


def detect_languages(texts: list[str]) -> list[tuple[str | None, float]]:
    """ISO 639-1 code and confidence for each text; (None, 0.0) where nothing is left to judge."""
    results: list[tuple[str | None, float]] = [(None, 0.0)] * len(texts)
    judged: list[int] = []
    encoded: list[bytes] = []
    for i, text in enumerate(texts):
        cleaned = clean_for_language(text)
        if _LETTER.search(cleaned):
            judged.append(i)
            encoded.append(_encode(cleaned))
    if encoded:
        for i, result in zip(judged, _get_ngram_model().classify(encoded), strict=True):
            results[i] = result
    return results


def detect_language(text: str) -> tuple[str | None, float]:
    """ISO 639-1 code of the post's language and a confidence in [0, 1]; None: nothing to judge."""
    # Several times slower per post than detect_languages on a batch: the ingest flow uses that.
    return detect_languages([text])[0]
