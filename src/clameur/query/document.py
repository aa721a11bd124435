"""A post as the matcher sees it: its tokens and the metadata fields a query can test."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from clameur.kit.text import Token, fold, make_tokens, token_texts


@dataclass(slots=True)
class PostDoc:
    """Tokens and fields of one post; field values are normalised (lower-case, author folded).

    Read-only once matched: the lookup tables the matcher reads are built once, on first use.
    """

    tokens: list[Token]
    lang: str | None = None
    network: str | None = None
    author: str | None = None
    sentiment: str | None = None
    intents: tuple[str, ...] = ()
    _view: DocView | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.lang is not None:
            self.lang = _lower(self.lang.replace("_", "-"))
        if self.network is not None:
            self.network = _lower(self.network)
            if self.network == "twitter":
                self.network = "x"
        if self.author is not None:
            author = self.author.strip()
            self.author = fold(author[1:] if author.startswith("@") else author) or None
        if self.sentiment is not None:
            self.sentiment = _lower(self.sentiment)
        if self.intents:
            self.intents = tuple(
                intent.strip().lower().replace(" ", "_").replace("-", "_")
                for intent in self.intents
            )
        else:
            self.intents = ()

    @classmethod
    def from_fields(
        cls,
        text: str,
        lang: str | None = None,
        network: str | None = None,
        author: str | None = None,
        sentiment: str | None = None,
        intents: Iterable[str] = (),
    ) -> PostDoc:
        """Tokenize a post's text and keep the fields a query can test."""
        texts, kinds = token_texts(text)
        doc = cls(make_tokens(texts, kinds), lang, network, author, sentiment, tuple(intents))
        doc._view = DocView(doc, texts, kinds)
        return doc

    def view(self) -> DocView:
        """The lookup tables the compiled queries read, built once per post."""
        view = self._view
        if view is None:
            view = self._view = DocView(self)
        return view


_EMPTY: frozenset[str] = frozenset()


def _lower(value: str) -> str | None:
    return value.strip().lower() or None


class DocView:
    """The token texts of a post as sets and sequences, and its fields, for compiled queries.

    Few objects per post: posts are matched by the thousand, and every container allocated is
    work for the garbage collector. Positions are found by scanning, only for phrases and NEAR.
    """

    __slots__ = (
        "texts",
        "kinds",
        "words",
        "tags",
        "mentions",
        "lang",
        "network",
        "author",
        "sentiment",
        "intents",
        "_sorted",
    )

    def __init__(
        self, doc: PostDoc, texts: list[str] | None = None, kinds: list[str] | None = None
    ) -> None:
        if texts is None or kinds is None:
            texts = [token.text for token in doc.tokens]
            kinds = [token.kind for token in doc.tokens]
        self.texts = texts
        self.kinds = kinds
        # Every token text, whatever its kind: a plain term matches words, hashtags, mentions.
        self.words: dict[str, None] = dict.fromkeys(texts)
        self.tags: frozenset[str] = _EMPTY
        self.mentions: frozenset[str] = _EMPTY
        if "hashtag" in kinds:
            self.tags = frozenset(t for t, k in zip(texts, kinds, strict=True) if k == "hashtag")
        if "mention" in kinds:
            self.mentions = frozenset(
                t for t, k in zip(texts, kinds, strict=True) if k == "mention"
            )
        self.lang = doc.lang
        self.network = doc.network
        self.author = doc.author
        self.sentiment = doc.sentiment
        self.intents = doc.intents
        self._sorted: list[str] | None = None

    def positions(self, text: str, kind: str = "word") -> list[int]:
        """Positions of the tokens with this text; of this kind too unless kind is "word"."""
        texts = self.texts
        if kind == "word":
            return [index for index, token in enumerate(texts) if token == text]
        kinds = self.kinds
        return [
            index for index, token in enumerate(texts) if token == text and kinds[index] == kind
        ]

    def with_prefix(self, prefix: str) -> list[str]:
        """The distinct token texts that start with `prefix`, in order."""
        keys = self._sorted
        if keys is None:
            keys = self._sorted = sorted(self.words)
        start = bisect_left(keys, prefix)
        end = start
        while end < len(keys) and keys[end].startswith(prefix):
            end += 1
        return keys[start:end]

    def has_prefix(self, prefix: str) -> bool:
        """Whether some token text starts with `prefix`."""
        keys = self._sorted
        if keys is None:
            keys = self._sorted = sorted(self.words)
        start = bisect_left(keys, prefix)
        return start < len(keys) and keys[start].startswith(prefix)
