"""Text helpers that know nothing of the domain: folding, tokens, normalisation."""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from dataclasses import dataclass
from itertools import repeat

__all__ = [
    "APOSTROPHES",
    "ELISIONS",
    "Token",
    "fold",
    "make_tokens",
    "normalise",
    "split_tokens",
    "split_words",
    "token_kinds",
    "token_pattern",
    "token_texts",
    "tokenize",
]

# Letters that NFKD does not decompose but that people type without their mark, and the
# modifier-letter apostrophe, a letter for Unicode that French keyboards type for elisions.
_SPECIAL_FOLDS = (
    ("œ", "oe"), ("æ", "ae"), ("ø", "o"), ("ł", "l"), ("đ", "d"), ("ħ", "h"), ("ı", "i"),
    ("\u02bc", "'"),
)  # fmt: skip
_HAS_SPECIAL = re.compile("[" + "".join(a for a, _ in _SPECIAL_FOLDS) + "]")
# Apostrophes seen in the wild: typewriter, typographic, modifier letter, left quote.
APOSTROPHES = "'\u2019\u02bc\u2018"
# French elided words; the elided word is dropped from the tokens, so that "l'hôtel" tokenizes
# as ["hotel"] and phrases and NEAR distances ignore the article.
ELISIONS = frozenset(
    ("jusqu", "lorsqu", "puisqu", "quoiqu", "presqu", "quelqu", "qu")
    + ("l", "d", "j", "m", "n", "s", "t", "c")
)


def _mark_ranges() -> str:
    """A regex class body of the combining marks (Indic vowel signs...) that words may hold."""
    spans: list[tuple[int, int]] = []
    for code in range(0x0300, 0x2000):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if spans and spans[-1][1] == code - 1:
                spans[-1] = (spans[-1][0], code)
            else:
                spans.append((code, code))
    return "".join(f"\\u{a:04x}-\\u{b:04x}" if a != b else f"\\u{a:04x}" for a, b in spans)


_MARKS = _mark_ranges()
_HAS_MARK = re.compile(f"[{_MARKS}]")
# Marks that NFKD splits off Latin, Greek and Cyrillic letters (and a few others) are dropped.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def token_pattern(extra: str = "", marks: bool = False) -> re.Pattern[str]:
    """The token regex: a match is a #hashtag, an @mention, or a word and its elision apostrophe.

    `extra` adds characters to words (the query language adds * and ?); `marks` lets words hold
    combining marks (slower, only needed for scripts such as Devanagari).
    """
    more = re.escape(extra) + (_MARKS if marks else "")
    letter = f"(?:[^\\W_]|[{more}])" if more else "[^\\W_]"
    tag = f"(?:\\w|[{more}])" if more else "\\w"
    return re.compile(
        # A hashtag or mention: a sigil that does not follow a word character (not an e-mail).
        f"[#@](?<![\\w{re.escape(extra)}][#@]){tag}+"
        # A word, and the apostrophe that follows it when a letter comes next (an elision).
        f"|{letter}+(?:[{APOSTROPHES}](?={letter}))?"
    )


def _text_pattern(marks: bool) -> re.Pattern[str]:
    """The tokens of token_pattern, but a match is the token's text: no sigil, no apostrophe.

    An elided word is not matched at all; the look-behind keeps a match from starting inside a
    word, which the elision test could otherwise cause ("qu'il" must not give "u").
    """
    letter = f"(?:[^\\W_]|[{_MARKS}])" if marks else "[^\\W_]"
    tag = f"(?:\\w|[{_MARKS}])" if marks else "\\w"
    single = "".join(sorted(word for word in ELISIONS if len(word) == 1))
    longer = "|".join(sorted((word for word in ELISIONS if len(word) > 1), key=len, reverse=True))
    return re.compile(
        f"(?<=[#@])(?<![\\w][#@]){tag}+"
        f"|(?<!{letter})(?!(?:[{single}]|{longer})[{APOSTROPHES}]{letter}){letter}+"
    )


def _sigil_pattern(marks: bool) -> re.Pattern[str]:
    """The hashtags and mentions of token_pattern, with their sigils."""
    tag = f"(?:\\w|[{_MARKS}])" if marks else "\\w"
    return re.compile(f"[#@](?<![\\w][#@]){tag}+")


_TOKEN = token_pattern()
_TOKEN_WITH_MARKS = token_pattern(marks=True)
_TEXT = _text_pattern(marks=False)
_TEXT_WITH_MARKS = _text_pattern(marks=True)
_SIGIL = _sigil_pattern(marks=False)
_SIGIL_WITH_MARKS = _sigil_pattern(marks=True)
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
_KINDS = {"#": "hashtag", "@": "mention"}
# A text without sigils or apostrophes holds only words: its matches are its tokens as they are.
_SIGIL_OR_APOSTROPHE = re.compile(f"[#@{APOSTROPHES}]")


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a text: folded text, kind (word, hashtag, mention) and index."""

    text: str
    kind: str
    position: int


_new = object.__new__
_set_text = vars(Token)["text"].__set__
_set_kind = vars(Token)["kind"].__set__
_set_position = vars(Token)["position"].__set__


def fold(text: str) -> str:
    """Lower-case and strip accents, so that 'Café' and 'cafe' compare equal."""
    if text.isascii():
        return text.lower()
    # Decompose first: compatibility forms such as 'ℌ' decompose to capitals.
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()
    if _HAS_SPECIAL.search(text):
        for letter, plain in _SPECIAL_FOLDS:
            text = text.replace(letter, plain)
    return text


def split_tokens(folded: str, pattern: re.Pattern[str] = _TOKEN) -> tuple[list[str], list[str]]:
    """Token texts and kinds of already folded text, elided words dropped."""
    if _SIGIL_OR_APOSTROPHE.search(folded) is None:
        words: list[str] = pattern.findall(folded)
        return words, ["word"] * len(words)
    texts: list[str] = []
    kinds: list[str] = []
    add_text = texts.append
    add_kind = kinds.append
    for match in pattern.findall(folded):
        first = match[0]
        if first in _KINDS:
            add_text(match[1:])
            add_kind(_KINDS[first])
        elif match[-1] in APOSTROPHES:
            word = match[:-1]
            if word not in ELISIONS:
                add_text(word)
                add_kind("word")
        else:
            add_text(match)
            add_kind("word")
    return texts, kinds


def token_texts(text: str, pattern: re.Pattern[str] | None = None) -> tuple[list[str], list[str]]:
    """Fold text and split it into token texts and kinds; `pattern` comes from token_pattern."""
    folded = fold(text)
    if pattern is None:
        pattern = _TOKEN_WITH_MARKS if _needs_marks(folded) else _TOKEN
    return split_tokens(folded, pattern)


def _needs_marks(folded: str) -> bool:
    return not folded.isascii() and _HAS_MARK.search(folded) is not None


def split_words(folded: str) -> tuple[list[str], list[str]]:
    """The token texts of folded text, as token_texts gives them, and its sigil tokens.

    Faster than split_tokens, for the matcher: kinds are not listed, but the #hashtags and
    @mentions are given apart, sigil included, in order. `token_kinds` gives the kinds.
    """
    if _needs_marks(folded):
        texts, sigil = _TEXT_WITH_MARKS, _SIGIL_WITH_MARKS
    else:
        texts, sigil = _TEXT, _SIGIL
    if "#" in folded or "@" in folded:
        return texts.findall(folded), sigil.findall(folded)
    return texts.findall(folded), []


def token_kinds(folded: str) -> list[str]:
    """The kinds of the tokens of folded text, in the order split_words gives their texts."""
    return split_tokens(folded, _TOKEN_WITH_MARKS if _needs_marks(folded) else _TOKEN)[1]


def tokenize(text: str) -> list[Token]:
    """Split text into folded tokens: words, #hashtags and @mentions, elisions removed."""
    return make_tokens(*token_texts(text))


def make_tokens(texts: list[str], kinds: list[str]) -> list[Token]:
    """Tokens from parallel lists of texts and kinds, numbered from 0."""
    # Built through the slot descriptors: much faster than the frozen __init__, which matters
    # because every post is tokenized.
    count = len(texts)
    tokens = list(map(_new, repeat(Token, count)))
    deque(map(_set_text, tokens, texts), 0)
    deque(map(_set_kind, tokens, kinds), 0)
    deque(map(_set_position, tokens, range(count)), 0)
    return tokens


def normalise(text: str) -> str:
    """Normalise text for storage and language identification: NFC, one space, no zero-widths."""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text).strip()
