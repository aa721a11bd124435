"""The prefilter: thousands of saved queries, and only a few evaluated per post.

Each query registers one anchor key per clause of its requirement (see requirements): a post
that matches the query holds every key of some clause, so it holds that clause's anchor. A post
therefore only needs the queries anchored on its own words, prefixes and field values, plus the
queries with no requirement (such as `NOT spam`), which are always evaluated.

The anchor of a clause is the key least likely to be in a post: a word rather than a field, and
among words the one fewest indexed queries need ("france" in a thousand queries is common).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from clameur.query.compiled import Query
from clameur.query.document import DocView, PostDoc
from clameur.query.requirements import Key

# Prefix anchors are cut to this length: one or two lookups per token, a slightly coarser filter.
MAX_PREFIX_ANCHOR = 4


class QueryIndex:
    """Saved queries indexed by the terms they need; `match` gives the ids a post matches."""

    def __init__(self, queries: Mapping[int, Query] | None = None) -> None:
        self._queries: dict[int, Query] = {}
        self._anchors: dict[int, list[Key]] = {}
        self._by_word: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        self._by_field: dict[Key, list[int]] = {}
        self._prefix_lengths: Counter[int] = Counter()
        self._lengths: tuple[int, ...] = ()
        self._always: set[int] = set()
        # How many indexed queries need each key: common keys make poor anchors.
        self._key_counts: Counter[Key] = Counter()
        queries = dict(queries or {})
        for query in queries.values():
            self._key_counts.update(_keys(query))
        for query_id, query in queries.items():
            self._register(query_id, query)

    def __len__(self) -> int:
        return len(self._queries)

    def __contains__(self, query_id: object) -> bool:
        return query_id in self._queries

    def add(self, query_id: int, query: Query) -> None:
        """Index a query under its id, replacing any query already there."""
        if query_id in self._queries:
            self.remove(query_id)
        self._key_counts.update(_keys(query))
        self._register(query_id, query)

    def _register(self, query_id: int, query: Query) -> None:
        self._queries[query_id] = query
        clauses = query.requirement()
        if clauses is None:
            self._always.add(query_id)
            return
        anchors = sorted({self._anchor(clause) for clause in clauses})
        self._anchors[query_id] = anchors
        for key in anchors:
            self._table(key).setdefault(_lookup(key), []).append(query_id)
            if key[0] == "prefix":
                self._prefix_lengths[len(_lookup(key))] += 1
        self._lengths = tuple(sorted(self._prefix_lengths))

    def remove(self, query_id: int) -> None:
        """Forget a query; unknown ids are ignored."""
        query = self._queries.pop(query_id, None)
        if query is None:
            return
        self._key_counts.subtract(_keys(query))
        self._always.discard(query_id)
        for key in self._anchors.pop(query_id, []):
            table = self._table(key)
            lookup = _lookup(key)
            table[lookup].remove(query_id)
            if not table[lookup]:
                del table[lookup]
            if key[0] == "prefix":
                length = len(lookup)
                self._prefix_lengths[length] -= 1
                if not self._prefix_lengths[length]:
                    del self._prefix_lengths[length]
        self._lengths = tuple(sorted(self._prefix_lengths))

    def _anchor(self, clause: frozenset[Key]) -> Key:
        """The key of a clause least likely to be in a post."""
        return min(clause, key=self._rank)

    def _rank(self, key: Key) -> tuple[bool, int, int, int, Key]:
        kind, value = key
        # Words of one or two letters ("a", "le") are in most posts, whatever their kind.
        short = kind in ("word", "prefix") and len(value) < 3
        return (short, _KIND_RANKS.get(kind, 5), self._key_counts[key], -len(value), key)

    def _table(self, key: Key) -> dict[Any, list[int]]:
        if key[0] == "word":
            return self._by_word
        if key[0] == "prefix":
            return self._by_prefix
        return self._by_field

    def candidates(self, doc: PostDoc) -> list[int]:
        """The ids of the queries the prefilter keeps for this post, in order."""
        return sorted(self._candidates(doc.view()))

    def _candidates(self, view: DocView) -> set[int]:
        found = set(self._always)
        by_word = self._by_word
        words = view.words
        for text in words.keys() & by_word.keys():
            found.update(by_word[text])
        if self._lengths:
            by_prefix = self._by_prefix
            for length in self._lengths:
                heads = {text[:length] for text in words if len(text) >= length}
                for head in heads & by_prefix.keys():
                    found.update(by_prefix[head])
        by_field = self._by_field
        if by_field:
            for key in _field_keys(view):
                ids = by_field.get(key)
                if ids:
                    found.update(ids)
        return found

    def match(self, doc: PostDoc) -> list[int]:
        """The ids of the queries the post matches, in order, evaluating only the candidates."""
        view = doc.view()
        queries = self._queries
        return [
            query_id
            for query_id in sorted(self._candidates(view))
            if queries[query_id].predicate(view)
        ]

    def match_all_naive(self, doc: PostDoc) -> list[int]:
        """The same answer as `match`, evaluating every query (for tests and benchmarks)."""
        view = doc.view()
        return sorted(
            query_id for query_id, query in self._queries.items() if query.predicate(view)
        )


def _keys(query: Query) -> set[Key]:
    clauses = query.requirement()
    return set().union(*clauses) if clauses else set()


# Kinds of keys from the most to the least selective; a field such as lang:fr holds for most posts.
_KIND_RANKS = {"word": 0, "author": 0, "prefix": 1, "intent": 2, "sentiment": 3, "network": 4}


def _lookup(key: Key) -> str | Key:
    kind, value = key
    if kind == "word":
        return value
    if kind == "prefix":
        return value[:MAX_PREFIX_ANCHOR]
    return key


def _field_keys(view: DocView) -> list[Key]:
    keys: list[Key] = []
    if view.lang:
        keys.append(("lang", view.lang))
        if "-" in view.lang:
            # lang:pt matches a post in pt-br.
            parts = view.lang.split("-")
            keys.extend(("lang", "-".join(parts[:end])) for end in range(1, len(parts)))
    if view.network:
        keys.append(("network", view.network))
    if view.author:
        keys.append(("author", view.author))
    if view.sentiment:
        keys.append(("sentiment", view.sentiment))
    keys.extend(("intent", intent) for intent in view.intents)
    return keys
