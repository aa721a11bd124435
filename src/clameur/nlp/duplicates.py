"""Near-duplicate posts: retweets, copy-paste campaigns and bot waves, grouped under one original.

Streaming, deterministic and bounded in memory.

Each post's text is normalised: folded (`clameur.kit.text.fold`: lower case, no accents), then
"RT @user:", the @mentions it starts with and links dropped (copies carry different t.co links),
and cut into words (runs of letters and digits, so '#' and '@' fall away). Two posts are
near-duplicates when the Jaccard similarity of their sets of words is at least `threshold`. A
post that ends with "…" (a truncated copy) and has at least `2 * min_words` words is compared by
containment instead, when it is the shorter: the share of its words found in the other post. A
post of fewer than `min_words` distinct words only matches exact copies (after normalisation); a
post without words matches nothing.

Candidates are found by MinHash LSH: 32 hash functions, in 8 bands of 4 minima, plus the post's
first five words (which find truncated copies), index each post in fixed-size hash tables of two
entries per bucket (when both are taken, that index of the new post is skipped). Each candidate
is then compared exactly, on the post's words kept as 32-bit hashes; a post of more than 64
distinct words keeps the 64 smallest hashes, a bottom-k sketch whose similarity is an estimate.
At most `capacity` posts are held; the oldest goes first, except that a post which received a
duplicate since the clock hand last passed gets a second round (the CLOCK policy), so that a live
retweet wave keeps its group. Chosen and measured in bench/duplicates.py
(bench/results/duplicates.md).

A duplicate points at its group's first post. A duplicate that is not a near-exact copy of the
post it matched (similarity under 0.9) is held too, pointing at the same original, so that a
duplicate of a duplicate joins the first original's group.
"""

from __future__ import annotations

import re
import threading
import zlib
from array import array
from collections.abc import Iterable, Sequence

import numpy as np

from clameur.kit.text import fold

ENRICHER_NAME = "duplicates"
# Normalisation, words, LSH and comparison. Change it whenever any of them changes, so that
# stored results say what produced them.
ENRICHER_VERSION = "words-lsh8x4+opening5-exact64-clock-1"

ROWS = 4  # minima per LSH band: four 16-bit minima make one 64-bit band key
OPENING_WORDS = 5  # posts that start with the same words are compared (truncated copies)
SKETCH_WORDS = 64  # words kept per post for the comparison; beyond, the 64 smallest hashes
# A duplicate at least this close to the post it matched adds nothing to the index.
NEAR_EXACT = 0.9

# "RT @user:", "RT: @user", ".@user", "@a @b", repeated ("RT @a: RT @b: ...") at the start,
# also after emoji or punctuation ("🔥 @a @b look").
_LEAD = re.compile(r"^(?:[^\w@]*(?:rt\b|@\w+))+[\s:,]*")
_ELLIPSIS = ("…", "...")
# ASCII bytes that are not letters or digits become spaces; other bytes are kept.
_SEPARATORS = bytes(c if chr(c).isalnum() or c >= 0x80 else 0x20 for c in range(256))
_SPLIT_NON_WORD = re.compile(r"[\W_]+").split
_SEED = 0x5EED_D00B
_WORDS_AT_ONCE = 32_768  # words hashed in one numpy operation (8 MiB per 32 functions)

# What one batch of posts gives the detector: per post None (no words), its words (a short
# post) or (row, number of words, truncated); then per long post (by row) its word hashes (the
# sketch), its table positions and fingerprints.
_Kind = None | bytes | tuple[int, int, bool]
_Prepared = tuple[list[_Kind], list[bytes], list[list[int]], list[list[int]]]


def _splitmix64(seed: int, count: int) -> np.ndarray:
    """`count` pseudo-random 64-bit words, the same on every machine and numpy version."""
    with np.errstate(over="ignore"):
        z = (np.arange(1, count + 1, dtype=np.uint64) + np.uint64(seed)) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _without_links(folded: str) -> str:
    """Folded text without its links; "and/or" and "24/7" stay."""
    kept = []
    for chunk in folded.split():
        if "http" in chunk:
            chunk = chunk[: chunk.index("http")]  # the link, and a word glued to it
        elif chunk.startswith("www.") or ("/" in chunk and "." in chunk.split("/", 1)[0]):
            continue
        kept.append(chunk)
    return " ".join(kept)


def words(text: str) -> tuple[list[bytes], bool]:
    """The normalised words of a post (UTF-8), and whether it looks truncated (ends with "…").

    Plain string and bytes operations rather than `clameur.kit.text.tokenize`: this runs on
    every post, and the regex tokenizer costs more than the rest of the detector.
    """
    folded = fold(text)
    if "@" in folded or folded.lstrip().startswith("rt"):
        folded = _LEAD.sub("", folded, count=1)
    if "/" in folded or "http" in folded or "www." in folded:
        folded = _without_links(folded)
    folded = folded.rstrip()
    truncated = folded.endswith(_ELLIPSIS)
    tokens = folded.encode().translate(_SEPARATORS).split()
    if not folded.isascii():
        # Emoji, typographic quotes and other non-ASCII separators, only where they are.
        split: list[bytes] = []
        for token in tokens:
            if token.isascii():
                split.append(token)
            else:
                split.extend(part.encode() for part in _SPLIT_NON_WORD(token.decode()) if part)
        tokens = split
    if truncated and tokens and folded.rstrip(".…")[-1:].isalnum():
        tokens.pop()  # cut inside or right after a word: that word may be partial
    return tokens, truncated


def _similarity(mine: set[int], theirs: bytes, size: int, other: int) -> tuple[float, int]:
    """The Jaccard similarity of two posts' words and the number they share (estimated from the
    sketches when one post has more than SKETCH_WORDS words)."""
    their_words = memoryview(theirs).cast("I")
    shared = len(mine.intersection(their_words))
    if size <= SKETCH_WORDS and other <= SKETCH_WORDS:
        return shared / (size + other - shared), shared
    # Bottom-k: among the k smallest hashes of the union, the share found in both posts.
    union = sorted(mine.union(their_words))[:SKETCH_WORDS]
    both = mine.intersection(their_words)
    jaccard = sum(value in both for value in union) / len(union)
    return jaccard, round(jaccard * (size + other) / (1.0 + jaccard))


class DuplicateDetector:
    """Streaming near-duplicate grouping with bounded memory (see the module docstring).

    `check` and `check_many` answer, for each post, the key of the original it nearly
    duplicates, or None (and the post is remembered as a potential original). Deterministic:
    the same posts in the same order give the same answers, whatever the batches. Thread-safe.

    `bands` trades speed for recall; `table_load` is the share of the hash tables that
    `capacity` posts fill.
    """

    def __init__(
        self,
        capacity: int = 200_000,
        threshold: float = 0.8,
        *,
        min_words: int = 4,
        bands: int = 8,
        table_load: float = 0.4,
        batch_size: int = 512,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if min_words < 1:
            raise ValueError("min_words must be at least 1")
        if bands < 1:
            raise ValueError("bands must be at least 1")
        self.capacity = capacity
        self.threshold = threshold
        self.min_words = min_words
        self.bands = bands
        self.batch_size = batch_size
        self._lock = threading.Lock()

        # The LSH bands, then the opening words.
        self._indexes = indexes = bands + 1
        permutations = bands * ROWS
        randoms = _splitmix64(_SEED, 2 * permutations + 2 * indexes)
        self._multipliers = randoms[:permutations] | np.uint64(1)
        self._offsets = randoms[permutations : 2 * permutations]
        mixers = randoms[2 * permutations :] | np.uint64(1)
        self._bucket_mixers, self._fingerprint_mixers = mixers[:indexes], mixers[indexes:]
        # One hash table per index, all in one array: buckets of two entries, each entry
        # fingerprint << slot bits | slot + 1, 0 when free. The fingerprint (a few bits of the
        # key, 11 at least) spares most comparisons with posts that only share the bucket.
        buckets = 1
        while 2 * buckets * table_load < capacity:
            buckets *= 2
        self._bucket_bits = buckets.bit_length() - 1
        self._index_starts = np.arange(indexes, dtype=np.int64) * (2 * buckets)
        self._slot_bits = capacity.bit_length()
        self._slot_mask = (1 << self._slot_bits) - 1
        typecode, width = ("i", 31) if self._slot_bits <= 20 else ("q", 63)
        self._fingerprint_bits = min(32, width - self._slot_bits)
        self._table = array(typecode, bytes(array(typecode).itemsize * 2 * buckets * indexes))

        # Per slot: the post's key, its group's original, its word hashes (None for a short
        # post), its number of words, whether it was truncated, whether it got a duplicate since
        # the clock hand passed, and where it sits in the tables (-1: not indexed).
        self._keys: list[str | None] = [None] * capacity
        self._roots: list[str | None] = [None] * capacity
        self._words: list[bytes | None] = [None] * capacity
        self._sizes = array("H", bytes(2 * capacity))
        self._truncated = bytearray(capacity)
        self._referenced = bytearray(capacity)
        self._placed = array("i", bytes(4 * indexes * capacity))
        # Short posts: their normalised words -> slot, and back.
        self._exact: dict[bytes, int] = {}
        self._exact_words: dict[int, bytes] = {}
        # Groups of two posts or more: original key -> [posts in the group, slots it holds].
        self._groups: dict[str, list[int]] = {}
        self._hand = 0
        self._held = 0

    # -- public API ---------------------------------------------------------------------------

    def check(self, key: str, text: str) -> str | None:
        """The key of the original that `text` nearly duplicates, or None (then it is kept).

        Checking a held post again gives the same answer and counts nothing; a duplicate that
        was not held (a near-exact copy) is counted again.
        """
        return self.check_many([(key, text)])[0]

    def check_many(self, items: Sequence[tuple[str, str]]) -> list[str | None]:
        """`check` for each (key, text), in order; faster than one by one."""
        found: list[str | None] = []
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            kinds, sketches, positions, fingerprints = self._prepare([t for _, t in chunk])
            with self._lock:
                for (key, _), kind in zip(chunk, kinds, strict=True):
                    if kind is None:
                        found.append(None)
                    elif isinstance(kind, bytes):
                        found.append(self._check_short(key, kind))
                    else:
                        row, size, truncated = kind
                        found.append(
                            self._check_long(
                                key,
                                sketches[row],
                                size,
                                truncated,
                                positions[row],
                                fingerprints[row],
                            )
                        )
        return found

    def seed(self, items: Iterable[tuple[str, str]]) -> None:
        """Pre-load recent posts (after a restart), oldest first, as if they had been checked."""
        batch: list[tuple[str, str]] = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.batch_size:
                self.check_many(batch)
                batch = []
        if batch:
            self.check_many(batch)

    def group_size(self, key: str) -> int:
        """How many posts were grouped under the original `key` so far (1 for a lone post).

        A group is counted as long as one of its posts is held; an unknown key gives 1.
        """
        group = self._groups.get(key)
        return group[0] if group else 1

    def __len__(self) -> int:
        """The number of posts held (originals, and the duplicates kept for chaining)."""
        return self._held

    # -- internals ----------------------------------------------------------------------------

    def _prepare(self, texts: list[str]) -> _Prepared:
        """Words, sketches and table positions of a batch of texts (no state is touched)."""
        kinds: list[_Kind] = []
        flat: list[int] = []
        starts: list[int] = []
        sizes: list[int] = []
        openings: list[int] = []
        crc = zlib.crc32
        for text in texts:
            tokens, truncated = words(text)
            distinct = set(tokens)
            if len(distinct) >= self.min_words:
                kinds.append((len(starts), len(distinct), truncated))
                starts.append(len(flat))
                sizes.append(len(distinct))
                flat.extend(map(crc, distinct))
                opening = b" ".join(tokens[:OPENING_WORDS])
                openings.append(crc(opening) << 32 | crc(opening, _SEED))
            elif distinct:
                kinds.append(b" ".join(tokens))
            else:
                kinds.append(None)
        if not starts:
            return kinds, [], [], []
        values = np.array(flat, dtype=np.uint64)
        bounds = np.array([*starts, len(flat)])
        minima = np.empty((len(starts), len(self._multipliers)), dtype=np.uint64)
        first = np.empty(len(flat), dtype=np.uint32)
        group = 0
        while group < len(starts):
            # Posts by groups of about _WORDS_AT_ONCE words: long texts (articles) would
            # otherwise make the words x functions array huge.
            end = max(group + 1, int(np.searchsorted(bounds, bounds[group] + _WORDS_AT_ONCE)) - 1)
            low, high = bounds[group], bounds[end]
            with np.errstate(over="ignore"):
                # Multiply-add-shift hashing: the high 32 bits of a * x + b (mod 2**64).
                hashed = values[low:high, None] * self._multipliers + self._offsets
            hashed >>= np.uint64(32)
            minima[group:end] = np.minimum.reduceat(hashed, bounds[group:end] - low, axis=0)
            first[low:high] = hashed[:, 0]
            group = end
        # The sketches: each post's word hashes (by the first function), smallest first.
        post_of = np.repeat(np.arange(len(starts)), sizes)
        ordered = first[np.lexsort((first, post_of))].tobytes()
        sketches = [
            ordered[4 * start : 4 * (start + min(size, SKETCH_WORDS))]
            for start, size in zip(starts, sizes, strict=True)
        ]
        keys = np.empty((len(starts), self._indexes), dtype=np.uint64)
        keys[:, : self.bands] = minima.astype(np.uint16).view(np.uint64)
        keys[:, self.bands] = openings
        with np.errstate(over="ignore"):
            buckets = (keys * self._bucket_mixers) >> np.uint64(64 - self._bucket_bits)
            fingerprints = (keys * self._fingerprint_mixers) >> np.uint64(
                64 - self._fingerprint_bits
            )
        positions = buckets.astype(np.int64) * 2 + self._index_starts
        return kinds, sketches, positions.tolist(), fingerprints.astype(np.int64).tolist()

    def _check_short(self, key: str, text: bytes) -> str | None:
        slot = self._exact.get(text)
        if slot is not None:
            return self._join(key, slot)
        slot = self._store(key, key)
        self._exact[text] = slot
        self._exact_words[slot] = text
        return None

    def _check_long(
        self,
        key: str,
        sketch: bytes,
        size: int,
        truncated: bool,
        positions: list[int],
        fingerprints: list[int],
    ) -> str | None:
        table = self._table
        shift, mask = self._slot_bits, self._slot_mask
        candidates: list[int] = []
        for position, fingerprint in zip(positions, fingerprints, strict=True):
            entry = table[position]
            if entry and entry >> shift == fingerprint:
                candidates.append((entry & mask) - 1)
            entry = table[position + 1]
            if entry and entry >> shift == fingerprint:
                candidates.append((entry & mask) - 1)
        best, best_similarity = -1, 0.0
        if candidates:
            best, best_similarity = self._best(candidates, sketch, size, truncated)
        if best_similarity >= self.threshold:
            root = self._join(key, best)
            if root is None or best_similarity >= NEAR_EXACT:
                return root
            # A variant: held too, so that its own near-duplicates reach the same original.
            # Counted in its group first, so that the group outlives the eviction it may cause.
            self._groups[root][1] += 1
            self._insert(key, root, sketch, size, truncated, positions, fingerprints)
            return root
        self._insert(key, key, sketch, size, truncated, positions, fingerprints)
        return None

    def _best(
        self, candidates: list[int], sketch: bytes, size: int, truncated: bool
    ) -> tuple[int, float]:
        """The most similar of the candidate slots, and its similarity."""
        mine = set(memoryview(sketch).cast("I"))
        best, best_similarity = -1, 0.0
        for slot in dict.fromkeys(candidates):
            theirs = self._words[slot]
            assert theirs is not None
            other = self._sizes[slot]
            similarity, shared = _similarity(mine, theirs, size, other)
            if truncated != bool(self._truncated[slot]):
                # A truncated post, if it is the shorter one and long enough to tell (a short
                # post ending with "…" is more often a style than a cut): containment.
                shorter, longer = (size, other) if truncated else (other, size)
                if shorter <= longer and shorter >= 2 * self.min_words:
                    similarity = max(similarity, shared / shorter)
            if similarity > best_similarity:
                best, best_similarity = slot, similarity
        return best, best_similarity

    def _join(self, key: str, slot: int) -> str | None:
        """Count `key` in the group of the post at `slot` and answer its original (None when
        `key` is that original: the same post checked again)."""
        root = self._roots[slot]
        assert root is not None
        if key == root:
            return None
        if key == self._keys[slot]:
            return root  # a held duplicate checked again: already counted
        self._referenced[slot] = 1
        group = self._groups.get(root)
        if group is None:
            self._groups[root] = [2, 1]
        else:
            group[0] += 1
        return root

    def _insert(
        self,
        key: str,
        root: str,
        sketch: bytes,
        size: int,
        truncated: bool,
        positions: list[int],
        fingerprints: list[int],
    ) -> None:
        slot = self._store(key, root)
        self._words[slot] = sketch
        self._sizes[slot] = min(size, 0xFFFF)
        self._truncated[slot] = truncated
        table = self._table
        placed = self._placed
        at = slot * self._indexes
        value = slot + 1
        shift = self._slot_bits
        for position, fingerprint in zip(positions, fingerprints, strict=True):
            if not table[position]:
                table[position] = fingerprint << shift | value
                placed[at] = position
            elif not table[position + 1]:
                table[position + 1] = fingerprint << shift | value
                placed[at] = position + 1
            else:
                placed[at] = -1  # a full bucket: the older posts keep it
            at += 1

    def _store(self, key: str, root: str) -> int:
        """A slot for `key`, freed by the CLOCK policy if need be; its key and root set."""
        keys = self._keys
        referenced = self._referenced
        capacity = self.capacity
        hand = self._hand
        while keys[hand] is not None and referenced[hand]:
            referenced[hand] = 0
            hand = hand + 1 if hand + 1 < capacity else 0
        if keys[hand] is None:
            self._held += 1
        else:
            self._evict(hand)
        keys[hand] = key
        self._roots[hand] = root
        self._hand = hand + 1 if hand + 1 < capacity else 0
        return hand

    def _evict(self, slot: int) -> None:
        root = self._roots[slot]
        assert root is not None
        group = self._groups.get(root)
        if group is not None:
            group[1] -= 1
            if group[1] <= 0:
                del self._groups[root]
        if self._words[slot] is not None:
            table = self._table
            value = slot + 1
            mask = self._slot_mask
            at = slot * self._indexes
            for position in self._placed[at : at + self._indexes]:
                if position >= 0 and table[position] & mask == value:
                    table[position] = 0
            self._words[slot] = None
        else:
            del self._exact[self._exact_words.pop(slot)]
