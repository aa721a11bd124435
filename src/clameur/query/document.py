"""A post as the matcher sees it: its tokens and the metadata fields a query can test."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from clameur.kit.text import Token, fold, make_tokens, split_words, token_kinds

# Joins the token texts of a post into one string, so that a prefix or a phrase of words is one
# substring search. Tokens never hold it; hand-built ones that do get no joined string.
SEPARATOR = "\x00"


class PostDoc:
    """Tokens and fields of one post; field values are normalised (lower-case, author folded).

    Read-only once matched: the lookup tables the matcher reads are built once, on first use.
    A post built by `from_fields` makes its Token objects only if they are asked for.
    """

    __slots__ = ("_tokens", "lang", "network", "author", "sentiment", "intents", "_view")

    def __init__(
        self,
        tokens: list[Token],
        lang: str | None = None,
        network: str | None = None,
        author: str | None = None,
        sentiment: str | None = None,
        intents: Iterable[str] = (),
    ) -> None:
        self._tokens: list[Token] | None = tokens
        self._view: DocView | None = None
        self._keep_fields(lang, network, author, sentiment, intents)

    def _keep_fields(
        self,
        lang: str | None,
        network: str | None,
        author: str | None,
        sentiment: str | None,
        intents: Iterable[str],
    ) -> None:
        self.lang = None if lang is None else _lower(lang.replace("_", "-"))
        if network is not None:
            network = _lower(network)
            if network == "twitter":
                network = "x"
        self.network = network
        if author is not None:
            author = author.strip()
            author = fold(author[1:] if author.startswith("@") else author) or None
        self.author = author
        self.sentiment = None if sentiment is None else _lower(sentiment)
        self.intents: tuple[str, ...] = (
            tuple(intent.strip().lower().replace(" ", "_").replace("-", "_") for intent in intents)
            if intents
            else ()
        )

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
        doc = cls.__new__(cls)
        doc._tokens = None
        doc._keep_fields(lang, network, author, sentiment, intents)
        folded = fold(text)
        texts, sigils = split_words(folded)
        view = DocView.__new__(DocView)
        view.texts = texts
        view.words = set(texts)
        view.padded = SEPARATOR + SEPARATOR.join(texts) + SEPARATOR
        if sigils:
            view.tags = frozenset([token[1:] for token in sigils if token[0] == "#"])
            view.mentions = frozenset([token[1:] for token in sigils if token[0] == "@"])
        else:
            view.tags = view.mentions = _EMPTY
        view._kinds = None
        view._folded = folded
        view._sorted = None
        view._keep_fields(doc)
        doc._view = view
        return doc

    @property
    def tokens(self) -> list[Token]:
        """The tokens of the post, in order."""
        tokens = self._tokens
        if tokens is None:
            view = self.view()
            tokens = self._tokens = make_tokens(view.texts, view.kinds)
        return tokens

    @tokens.setter
    def tokens(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._view = None

    def view(self) -> DocView:
        """The lookup tables the compiled queries read, built once per post."""
        view = self._view
        if view is None:
            view = self._view = DocView(self)
        return view

    def _fields(self) -> tuple[Any, ...]:
        return (self.tokens, self.lang, self.network, self.author, self.sentiment, self.intents)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, PostDoc)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"PostDoc(tokens={self.tokens!r}, lang={self.lang!r}, network={self.network!r}, "
            f"author={self.author!r}, sentiment={self.sentiment!r}, intents={self.intents!r})"
        )


_EMPTY: frozenset[str] = frozenset()


def _lower(value: str) -> str | None:
    return value.strip().lower() or None


class DocView:
    """The token texts of a post as sets and strings, and its fields, for compiled queries.

    Few objects per post: posts are matched by the thousand, and every container allocated is
    work for the garbage collector. Token kinds and positions are only found for the queries
    that need them (phrases with hashtags, NEAR).
    """

    __slots__ = (
        "texts",
        "words",
        "tags",
        "mentions",
        "padded",
        "lang",
        "langs",
        "network",
        "author",
        "sentiment",
        "intents",
        "_kinds",
        "_folded",
        "_sorted",
    )

    texts: list[str]
    # Every token text, whatever its kind: a plain term matches words, hashtags, mentions.
    words: set[str]
    tags: frozenset[str]
    mentions: frozenset[str]
    # The texts between separators, one at each end too; None when a text holds the separator.
    padded: str | None
    lang: str | None
    # The language and the languages it refines: ("pt-br", "pt") (lang:pt matches pt-br).
    langs: tuple[str, ...]
    network: str | None
    author: str | None
    sentiment: str | None
    intents: tuple[str, ...]
    _kinds: list[str] | None
    _folded: str | None
    _sorted: list[str] | None

    def __init__(self, doc: PostDoc) -> None:
        tokens = doc.tokens
        texts = self.texts = [token.text for token in tokens]
        kinds = self._kinds = [token.kind for token in tokens]
        self._folded = None
        self._sorted = None
        self.words = set(texts)
        self.tags = self.mentions = _EMPTY
        if "hashtag" in kinds:
            self.tags = frozenset(t for t, k in zip(texts, kinds, strict=True) if k == "hashtag")
        if "mention" in kinds:
            self.mentions = frozenset(
                t for t, k in zip(texts, kinds, strict=True) if k == "mention"
            )
        joined = SEPARATOR.join(texts)
        clean = joined.count(SEPARATOR) == max(len(texts) - 1, 0)
        self.padded = SEPARATOR + joined + SEPARATOR if clean else None
        self._keep_fields(doc)

    def _keep_fields(self, doc: PostDoc) -> None:
        lang = self.lang = doc.lang
        if lang is None:
            self.langs = ()
        elif "-" in lang:
            self.langs = (lang, *(lang[:at] for at, char in enumerate(lang) if char == "-"))
        else:
            self.langs = (lang,)
        self.network = doc.network
        self.author = doc.author
        self.sentiment = doc.sentiment
        self.intents = doc.intents

    @property
    def kinds(self) -> list[str]:
        """The kind of each token (word, hashtag, mention), found on first use."""
        kinds = self._kinds
        if kinds is None:
            assert self._folded is not None
            kinds = self._kinds = token_kinds(self._folded)
        return kinds

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
