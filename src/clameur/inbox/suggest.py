"""Suggested replies: the past inbound messages most like this one, and how agents answered them.

Pure and in memory: a `ReplyMemory` per workspace is fed (inbound, reply) pairs as agents answer,
keeps the most recent `capacity` of them, and `suggest` returns the best distinct answers.

How it works:

- **Similarity** of inbound messages is a TF-IDF cosine over folded words (accents and case
  folded, French elisions dropped, by `clameur.kit.text`), word bigrams and character 4-grams
  of words (so "refund" meets "refunded", "rembourser" meets "remboursement"). @handles, links
  and long numbers are not features. Features are hashed to 64 bits and kept in a log-structured
  inverted index (`_Index`: sorted numpy blocks, no Python object per feature); a query gathers
  the postings of its features and sums them with one `numpy.bincount`. IDF moves as pairs
  arrive; a pair's norm is computed with the IDF of its arrival, and every norm again when the
  index is swept (after a quarter of the memory's size of new pairs), which also drops the
  postings of forgotten pairs. Not thread-safe: one writer, or a lock around the memory.
- **Templates**: in a suggested reply, the @handles that open it (the reply's addressees) and
  the inbound author's handle become `{customer}`; a name after a greeting ("Hi William,")
  becomes `{name}`. The agent's signature at the end ("^AB", "-Becky", "*JK") is **dropped**:
  the agent who sends the suggestion signs with their own. Links are kept as they were last
  written (a help-page link is part of the answer).
- **Grouping**: replies are grouped by their answer key: the template folded, without handles,
  links, numbers, signature, greeting name and punctuation. A group's `uses` counts the pairs in
  memory answered that way.
- **Ranking**: the `candidates` most similar pairs are grouped by answer; a group scores its best
  similarity plus `popularity` x log(1 + uses), so a common answer to a similar question beats a
  one-off answer to a slightly more similar one. The reply shown is the group's latest wording.
- **Bounded memory**: the oldest pairs are forgotten beyond `capacity` (50,000 by default).
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from clameur.kit.text import token_texts

__all__ = [
    "PastPair",
    "ReplyMemory",
    "Suggestion",
    "answer_key",
    "inbound_features",
    "reply_template",
]

DEFAULT_CAPACITY = 50_000
# How many of the most similar pairs are grouped into answers before ranking.
DEFAULT_CANDIDATES = 64
# Weight of log(1 + uses) against the cosine similarity (0..1) in the ranking score.
DEFAULT_POPULARITY = 0.05
# Character n-grams weigh less than words: there are many more of them per message.
_CHAR_WEIGHT = 0.5
_BIGRAM_WEIGHT = 1.0
_CHAR_N = 4

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# A handle, dots and dashes included (@ana.bsky.social), with its Mastodon server (@ana@mas.to);
# a dot that ends the sentence is not part of it.
_HANDLE_BODY = r"@\w+(?:[.-]\w+)*(?:@\w+(?:[.-]\w+)+)?"
_HANDLE = re.compile(rf"(?<![\w@]){_HANDLE_BODY}")
_LEADING_HANDLES = re.compile(rf"^\s*(?:\.?{_HANDLE_BODY}[\s,:]*)+")
# An agent's signature closing a reply: ^AB, *JK, -FR, - Matt, ~Becky, ^Inès (after trailing
# links).
_SIGNED = r"[A-ZÀ-Ý][A-Za-zÀ-ÿ]{0,14}"
_SIGNATURE = re.compile(rf"(?:\s+|^)(?:[\^*~]\s?{_SIGNED}|[-\u2013\u2014]\s?{_SIGNED})\s*$")
_TRAILING_URLS = re.compile(r"(?:\s+(?:https?://|www\.)\S+)+\s*$", re.IGNORECASE)
_GREETING = re.compile(
    r"\b((?i:hi|hello|hey|dear|good (?:morning|afternoon|evening|day)|bonjour|bonsoir|salut)"
    r"\s+)(?!There\b|Team\b|All\b|Everyone\b)([A-ZÀ-Ý][a-zà-ÿ'-]+)(?=\s*[,!.])"
)
_SPACES = re.compile(r"[ \t]+")
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class PastPair:
    """One answered message kept in memory: what the customer wrote and what the agent replied."""

    inbound: str
    reply: str
    brand: str | None = None
    author: str | None = None
    at: datetime | None = None
    lang: str | None = None
    conversation: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested reply: its template, the past message it answered, and why it ranks here.

    `answer` is the group's answer key (see `answer_key`), the same for every wording of it.
    """

    reply: str
    answer: str
    inbound: str
    similarity: float
    uses: int
    score: float
    past: PastPair


@dataclass(slots=True)
class _Answer:
    """A group of replies that say the same thing once handles, links and numbers are set aside."""

    key: str
    template: str
    uses: int
    latest: int


def _split_signature(text: str) -> tuple[str, str]:
    """The reply without its closing signature, and the signature ('' when there is none)."""
    links = _TRAILING_URLS.search(text)
    body, tail = (text[: links.start()], text[links.start() :]) if links else (text, "")
    match = _SIGNATURE.search(body.rstrip())
    if match is None or match.start() == 0:
        return text.strip(), ""
    return (body.rstrip()[: match.start()] + tail).strip(), match.group().strip()


def reply_template(reply: str, customer: str | None = None) -> str:
    """The reply as a template: addressees and the customer's handle -> {customer}, no signature.

    A name after a greeting becomes {name}; `customer` is the inbound author's handle.
    """
    text, _ = _split_signature(reply.strip())
    opening = _LEADING_HANDLES.match(text)
    if opening:
        text = "{customer} " + text[opening.end() :]
    if customer:
        handle = customer.lstrip("@")
        text = re.sub(rf"(?<![\w@])@{re.escape(handle)}\b", "{customer}", text, flags=re.I)
    text = _GREETING.sub(r"\1{name}", text)
    return _SPACES.sub(" ", text).strip()


def answer_key(reply: str) -> str:
    """What a reply says, for grouping: folded words, without handles, links, numbers, signature."""
    text, _ = _split_signature(reply.strip())
    text = _URL.sub(" ", _HANDLE.sub(" ", text))
    text = _GREETING.sub(r"\1", text)
    words, kinds = token_texts(text)
    return " ".join(
        w for w, k in zip(words, kinds, strict=True) if k == "word" and not _DIGITS.search(w)
    )


def _hashed(features: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Features as sorted unique 64-bit hashes (this process's str hash) and their weights."""
    keys = np.fromiter(map(hash, features), dtype=np.int64, count=len(features))
    weights = np.fromiter(features.values(), dtype=np.float64, count=len(features))
    order = np.argsort(keys)
    keys, weights = keys[order], weights[order]
    # Two features of one message hashing alike (unheard of with 64 bits) would merge.
    unique, first = np.unique(keys, return_index=True)
    if len(unique) < len(keys):
        weights = np.add.reduceat(weights, first)
    return unique, weights


def inbound_features(text: str) -> dict[str, float]:
    """The weighted features of a message: words, word bigrams, character 4-grams of words."""
    words, kinds = token_texts(_URL.sub(" ", text))
    kept = [
        w
        for w, k in zip(words, kinds, strict=True)
        if k != "mention" and not (len(w) > 2 and w.isdigit())
    ]
    counts: dict[str, float] = {}
    for word in kept:
        counts[word] = counts.get(word, 0.0) + 1.0
    for left, right in zip(kept, kept[1:], strict=False):
        key = f"{left} {right}"
        counts[key] = counts.get(key, 0.0) + _BIGRAM_WEIGHT
    for word in kept:
        if len(word) < _CHAR_N:
            continue
        padded = f"<{word}>"
        for start in range(len(padded) - _CHAR_N + 1):
            # A leading space keeps a 4-gram apart from a word of the same letters.
            key = " " + padded[start : start + _CHAR_N]
            counts[key] = counts.get(key, 0.0) + _CHAR_WEIGHT
    # Sublinear counts: a word said three times is not three times the topic.
    return {key: (1.0 + math.log(value)) if value > 1.0 else value for key, value in counts.items()}


class _Block:
    """Frozen postings: sorted unique feature hashes, their ranges, and (pair id, weight) pairs."""

    __slots__ = ("keys", "rows", "starts", "weights")

    def __init__(self, keys: np.ndarray, rows: np.ndarray, weights: np.ndarray) -> None:
        # A stable sort keeps each feature's pair ids in the order they came (oldest first).
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        self.rows = rows[order]
        self.weights = weights[order]
        self.keys, first = np.unique(keys, return_index=True)
        self.starts = np.append(first, len(keys)).astype(np.int64)

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and count of the postings of each (sorted, unique) query hash; count 0: absent."""
        if not len(self.keys):
            zeros = np.zeros(len(query), dtype=np.int64)
            return zeros, zeros
        index = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        found = self.keys[index] == query
        lo = np.where(found, self.starts[index], 0)
        return lo, np.where(found, self.starts[index + 1], 0) - lo


def _gather(lo: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The positions of the ranges [lo, lo + count), concatenated."""
    ends = np.cumsum(counts)
    return np.arange(ends[-1] if len(ends) else 0) + np.repeat(lo - (ends - counts), counts)


class _Index:
    """An inverted index of hashed features, log-structured: a few sorted blocks and a buffer.

    New postings go to a buffer; 128 pairs of it freeze into a block; a block merges into the
    one before it when it is at least half its size, so there are O(log n) blocks. `compact`
    merges everything, dropping the postings of forgotten pairs. No Python object per feature:
    50,000 pairs of ~100 features are ~5M postings of 8 bytes.
    """

    _BUFFER = 128

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self._keys: array[int] = array("q")
        self._rows: array[int] = array("i")
        self._weights: array[float] = array("f")
        self._buffered = 0

    def add(self, pair_id: int, keys: Sequence[int], weights: Sequence[float]) -> None:
        """Index one pair's features."""
        self._keys.extend(keys)
        self._rows.extend([pair_id] * len(keys))
        self._weights.extend(weights)
        self._buffered += 1
        if self._buffered >= self._BUFFER:
            self._freeze()

    def frequencies(self, query: np.ndarray) -> np.ndarray:
        """Document frequency of each sorted query hash in the frozen blocks (not the buffer)."""
        df = np.zeros(len(query), dtype=np.int64)
        for block in self.blocks:
            df += block.lookup(query)[1]
        return df

    def postings(self, query: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, ...]]]:
        """Document frequency of each sorted query hash, and per part (ranks, rows, weights)."""
        df = np.zeros(len(query), dtype=np.int64)
        parts: list[tuple[np.ndarray, ...]] = []
        for block in self.blocks:
            lo, counts = block.lookup(query)
            df += counts
            if counts.any():
                positions = _gather(lo, counts)
                ranks = np.repeat(np.arange(len(query)), counts)
                parts.append((ranks, block.rows[positions], block.weights[positions]))
        if self._buffered:
            keys = np.frombuffer(self._keys, dtype=np.int64)
            index = np.minimum(np.searchsorted(query, keys), len(query) - 1)
            hit = np.flatnonzero(query[index] == keys)
            if len(hit):
                ranks = index[hit]
                df += np.bincount(ranks, minlength=len(query))
                rows = np.frombuffer(self._rows, dtype=np.int32)[hit]
                parts.append((ranks, rows, np.frombuffer(self._weights, dtype=np.float32)[hit]))
        return df, parts

    def compact(self, first: int) -> _Block:
        """Merge everything into one block without the pairs before `first`; return it."""
        self._freeze()
        block = self._merge(self.blocks, first)
        self.blocks = [block]
        return block

    def _freeze(self) -> None:
        if not self._buffered:
            return
        self.blocks.append(
            _Block(
                np.array(self._keys, dtype=np.int64),
                np.array(self._rows, dtype=np.int32),
                np.array(self._weights, dtype=np.float32),
            )
        )
        self._keys, self._rows, self._weights = array("q"), array("i"), array("f")
        self._buffered = 0
        while len(self.blocks) > 1 and 2 * len(self.blocks[-1].rows) >= len(self.blocks[-2].rows):
            self.blocks[-2:] = [self._merge(self.blocks[-2:], None)]

    @staticmethod
    def _merge(blocks: Sequence[_Block], first: int | None) -> _Block:
        if not blocks:
            empty = np.zeros(0, dtype=np.int64)
            return _Block(empty, empty.astype(np.int32), empty.astype(np.float32))
        keys = np.concatenate([np.repeat(b.keys, np.diff(b.starts)) for b in blocks])
        rows = np.concatenate([b.rows for b in blocks])
        weights = np.concatenate([b.weights for b in blocks])
        if first is not None:
            live = rows >= first
            keys, rows, weights = keys[live], rows[live], weights[live]
        return _Block(keys, rows, weights)


class ReplyMemory:
    """A workspace's answered messages, most recent `capacity` kept, searchable by similarity."""

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        *,
        candidates: int = DEFAULT_CANDIDATES,
        popularity: float = DEFAULT_POPULARITY,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.candidates = candidates
        self.popularity = popularity
        # Pair ids grow forever; the live ones are [_first, _next). Slot = id % capacity.
        self._next = 0
        self._first = 0
        self._pairs: list[PastPair | None] = [None] * min(capacity, 1024)
        self._answer_of: list[_Answer | None] = [None] * len(self._pairs)
        self._answers: dict[str, _Answer] = {}
        self._index = _Index()
        # Per pair id from _base: squared norm (IDF as it was; exact again at each sweep), language.
        self._base = 0
        self._norms: array[float] = array("d")
        self._langs: array[int] = array("h")
        self._lang_codes: dict[str, int] = {}
        self._since_sweep = 0

    def __len__(self) -> int:
        return self._next - self._first

    def add(
        self,
        inbound: str,
        reply: str,
        *,
        brand: str | None = None,
        author: str | None = None,
        at: datetime | None = None,
        lang: str | None = None,
        conversation: str | None = None,
    ) -> None:
        """Remember that `reply` answered `inbound`; forget the oldest pair beyond capacity."""
        pair = PastPair(inbound, reply, brand, author, at, lang, conversation)
        key = answer_key(reply)
        if not key:
            return  # a reply of only handles, links or an emoji says nothing to reuse
        if len(self) >= self.capacity:
            self._forget_oldest()
        elif len(self) >= len(self._pairs):
            self._grow()
        pair_id = self._next
        self._next += 1
        slot = self._slot(pair_id)
        template = reply_template(reply, author)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = _Answer(key, template, 0, pair_id)
        answer.uses += 1
        answer.template = template
        answer.latest = pair_id
        self._pairs[slot] = pair
        self._answer_of[slot] = answer

        keys, weights = _hashed(inbound_features(inbound))
        norm = 0.0
        if len(keys):
            # The IDF of the frozen blocks (the last <128 pairs aside): exact again at the sweep.
            df = self._index.frequencies(keys)
            idf = np.log((2 + len(self)) / (2 + df)) + 1.0  # this pair counted in
            norm = float(((weights * idf) ** 2).sum())
            self._index.add(pair_id, keys.tolist(), weights.tolist())
        self._norms.append(norm)
        self._langs.append(self._lang_code(lang))
        self._since_sweep += 1
        if self._since_sweep >= max(1, len(self) // 4):
            self._sweep()

    def suggest(
        self,
        inbound: str,
        k: int = 3,
        lang: str | None = None,
        *,
        exclude_conversation: str | None = None,
        min_similarity: float = 0.0,
    ) -> list[Suggestion]:
        """The `k` best distinct replies for `inbound`, from past pairs in `lang` if given.

        Pairs of `exclude_conversation` are left out (the conversation being answered), and
        pairs less similar than `min_similarity` (what is shown would be off the subject).
        """
        if k < 1 or not len(self):
            return []
        scores = self._similarities(inbound)
        if scores is None:
            return []
        offset = self._first - self._base
        scores = scores[offset:]
        if lang is not None:
            code = self._lang_codes.get(lang)
            if code is None:
                return []
            langs = np.frombuffer(self._langs, dtype=np.int16)[offset:]
            scores = np.where(langs == code, scores, 0.0)
        wanted = min(len(scores), self.candidates + (8 if exclude_conversation else 0))
        top = np.argpartition(-scores, wanted - 1)[:wanted] if wanted < len(scores) else None
        order = np.arange(len(scores)) if top is None else top
        order = order[np.argsort(-scores[order], kind="stable")]

        best: dict[str, tuple[float, int]] = {}
        taken = 0
        for index in order.tolist():
            # Norms lag the IDF between sweeps: a cosine may overshoot 1 a little.
            similarity = min(float(scores[index]), 1.0)
            if similarity <= 0.0 or similarity < min_similarity or taken >= self.candidates:
                break
            pair_id = self._first + index
            slot = self._slot(pair_id)
            pair = self._pairs[slot]
            answer = self._answer_of[slot]
            if pair is None or answer is None:
                continue
            if exclude_conversation is not None and pair.conversation == exclude_conversation:
                continue
            taken += 1
            if answer.key not in best:
                best[answer.key] = (similarity, pair_id)
        ranked = []
        for key, (similarity, pair_id) in best.items():
            answer = self._answers[key]
            score = similarity + self.popularity * math.log1p(answer.uses)
            ranked.append((score, similarity, answer.latest, key, pair_id))
        ranked.sort(reverse=True)
        suggestions = []
        for score, similarity, _, key, pair_id in ranked[:k]:
            answer = self._answers[key]
            past = self._pairs[self._slot(pair_id)]
            assert past is not None
            suggestions.append(
                Suggestion(
                    reply=answer.template,
                    answer=key,
                    inbound=past.inbound,
                    similarity=round(similarity, 4),
                    uses=answer.uses,
                    score=round(score, 4),
                    past=past,
                )
            )
        return suggestions

    def _similarities(self, inbound: str) -> np.ndarray | None:
        """Cosine of `inbound` with every pair id from _base; None if it shares no feature."""
        keys, weights = _hashed(inbound_features(inbound))
        if not len(keys):
            return None
        df, parts = self._index.postings(keys)
        if not parts:
            return None
        idf = np.log((1 + len(self)) / (1 + df)) + 1.0
        query = weights * idf
        query_norm = float((query**2).sum())
        # A posting's share of the dot product: query weight x its own weight x IDF.
        factor = query * idf
        ids = np.concatenate([rows for _, rows, _ in parts]) - self._base
        products = np.concatenate([factor[ranks] * w for ranks, _, w in parts])
        dots = np.bincount(ids, products, minlength=len(self._norms))
        norms = np.frombuffer(self._norms, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            similarity = dots / np.sqrt(norms * query_norm)
        return np.nan_to_num(similarity, copy=False, nan=0.0, posinf=0.0)

    def _idf(self, df: int) -> float:
        """Smoothed IDF over the live pairs."""
        return math.log((1 + len(self)) / (1 + df)) + 1.0

    def _slot(self, pair_id: int) -> int:
        return pair_id % len(self._pairs)

    def _lang_code(self, lang: str | None) -> int:
        if lang is None:
            return 0
        code = self._lang_codes.get(lang)
        if code is None:
            code = self._lang_codes[lang] = len(self._lang_codes) + 1
        return code

    def _forget_oldest(self) -> None:
        slot = self._slot(self._first)
        answer = self._answer_of[slot]
        if answer is not None:
            answer.uses -= 1
            if answer.uses <= 0:
                del self._answers[answer.key]
        self._pairs[slot] = None
        self._answer_of[slot] = None
        self._first += 1

    def _grow(self) -> None:
        """Double the ring (up to capacity), keeping each live pair at its id's new slot."""
        size = min(self.capacity, len(self._pairs) * 2)
        pairs: list[PastPair | None] = [None] * size
        answers: list[_Answer | None] = [None] * size
        for pair_id in range(self._first, self._next):
            old = pair_id % len(self._pairs)
            pairs[pair_id % size] = self._pairs[old]
            answers[pair_id % size] = self._answer_of[old]
        self._pairs, self._answer_of = pairs, answers

    def _sweep(self) -> None:
        """Drop forgotten pairs from the index; recompute the norms with the current IDF."""
        self._since_sweep = 0
        first = self._first
        block = self._index.compact(first)
        del self._norms[: first - self._base]
        del self._langs[: first - self._base]
        self._base = first
        counts = np.diff(block.starts)
        idf = np.log((1 + len(self)) / (1 + counts)) + 1.0
        squared = (block.weights * np.repeat(idf, counts)) ** 2
        norms = np.bincount(block.rows - first, squared, minlength=len(self._norms))
        self._norms = array("d", norms.astype(np.float64).tobytes())
