"""DRAFT (moved into intent.py later)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np

from clameur.kit.text import fold

_URL = re.compile(r"https?://\S+|https?\b|www\.\S+|\b[\w-]+\.(?:com|fr|ly|co|io|net|org)/\S*")
_MENTION = re.compile(r"(?<![\w@])@\w+")
_TOKEN = re.compile(
    r"(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)'"  # French elisions, their own token
    r"|[@#]?\w+(?:'\w+)*"
    r"|[?!]"
    r"|[\U0001f000-\U0001faff\u2600-\u27bf]"
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "`": "'"})


def canonical(text: str, keep_mentions: bool = False) -> str:
    """Lower-cased, accent-free tokens joined by single spaces: what n-grams are taken from."""
    if "&" in text:
        text = html.unescape(text)
    text = fold(text.translate(_APOSTROPHES))
    if "http" in text or "www." in text or "/" in text:
        text = _URL.sub(" @url ", text)
    if "@" in text and not keep_mentions:
        text = _MENTION.sub(lambda m: m.group(0) if m.group(0) == "@url" else "@user", text)
    return " ".join(_TOKEN.findall(text))


def _splitmix64(seed: int, count: int) -> np.ndarray:
    """`count` pseudo-random 64-bit words, the same on every machine and numpy version."""
    with np.errstate(over="ignore"):
        z = (np.arange(1, count + 1, dtype=np.uint64) + np.uint64(seed)) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


MAX_CHAR = 5
WORD_SPAN = 24
# One row of random words per position inside an n-gram (characters) or a word (tokens).
_CHAR_TABLE = _splitmix64(1, MAX_CHAR * 256).reshape(MAX_CHAR, 256)
_WORD_TABLE = _splitmix64(2, WORD_SPAN * 256).reshape(WORD_SPAN, 256)
_SALTS = _splitmix64(3, 16)
_SPACE, _NEWLINE = 32, 10


@dataclass
class Occurrences:
    """Hashed features of a batch: for each occurrence its text (row), block and 64-bit hash."""

    rows: np.ndarray  # int32
    blocks: np.ndarray  # int8: 0 words, 1 characters
    hashes: np.ndarray  # uint64
    n_texts: int


def hash_ngrams(canons: list[str], char_min: int = 2, char_max: int = 5, words: int = 2) -> Occurrences:
    """Word 1..`words`-grams and within-word character n-grams of canonical texts, hashed."""
    n_texts = len(canons)
    buffer = np.frombuffer(
        ("\n " + " \n ".join(canons) + " \n").encode("utf-8", "surrogatepass"), dtype=np.uint8
    )
    size = len(buffer)
    is_newline = buffer == _NEWLINE
    row_of = np.cumsum(is_newline, dtype=np.int32) - 1  # row of each byte (separators: previous)
    is_space = (buffer == _SPACE) | is_newline
    rows_out, blocks_out, hashes_out = [], [], []
    with np.errstate(over="ignore"):
        # Character n-grams inside " word " (spaces on both sides, as scikit-learn's char_wb):
        # no newline anywhere, no space except at the first and last positions.
        spaces_before = np.concatenate(([0], np.cumsum(is_space, dtype=np.int32)))
        newlines_before = np.concatenate(([0], np.cumsum(is_newline, dtype=np.int32)))
        acc = np.zeros(size, dtype=np.uint64)
        for n in range(1, char_max + 1):
            last = size - n + 1
            if last <= 0:
                break
            acc = acc[:last] + _CHAR_TABLE[n - 1][buffer[n - 1 : n - 1 + last]]
            if n < char_min:
                continue
            ok = newlines_before[n : n + last] == newlines_before[:last]
            if n == 1:
                ok &= ~is_space[:last]
            elif n >= 3:
                ok &= spaces_before[n - 1 : n - 1 + last] == spaces_before[1 : 1 + last]
            pick = np.flatnonzero(ok)
            rows_out.append(row_of[pick])
            blocks_out.append(np.ones(len(pick), dtype=np.int8))
            hashes_out.append(acc[pick] ^ _SALTS[n])
        # Words: bytes between spaces, hashed by position inside the word.
        is_char = ~is_space
        starts = np.flatnonzero(is_char & np.concatenate(([True], is_space[:-1])))
        if len(starts):
            ends = np.flatnonzero(is_char & np.concatenate((is_space[1:], [True])))
            lengths = ends - starts + 1
            chars = np.flatnonzero(is_char)
            word_of = np.repeat(np.arange(len(starts)), lengths)
            offset = np.minimum(chars - starts[word_of], WORD_SPAN - 1)
            word_hash = np.add.reduceat(_WORD_TABLE[offset, buffer[chars]], np.concatenate(([0], np.cumsum(lengths)[:-1])))
            word_row = row_of[starts]
            rows_out.append(word_row)
            blocks_out.append(np.zeros(len(starts), dtype=np.int8))
            hashes_out.append(word_hash ^ _SALTS[8])
            if words >= 2 and len(starts) > 1:
                same = np.flatnonzero(word_row[1:] == word_row[:-1])
                pair = word_hash[same] * np.uint64(0x9E3779B97F4A7C15) + (word_hash[same + 1] ^ _SALTS[9])
                rows_out.append(word_row[same])
                blocks_out.append(np.zeros(len(same), dtype=np.int8))
                hashes_out.append(pair)
    return Occurrences(
        np.concatenate(rows_out), np.concatenate(blocks_out), np.concatenate(hashes_out), n_texts
    )
