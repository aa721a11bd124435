"""The prefilter: thousands of saved queries, and only a few evaluated per post.

Each query registers one anchor key per clause of its requirement (see requirements): a post
that matches the query holds every key of some clause, so it holds that clause's anchor. A post
therefore only needs the queries anchored on its own words, prefixes and field values, plus the
queries with no requirement (such as `NOT spam`), which are always evaluated.

The anchor of a clause is the key least likely to be in a post: a word rather than a field, and
among words the one fewest indexed queries need ("france" in a thousand queries is common).

Many saved queries are an OR of plain terms and fields (`lueurs OR #lueursfest OR @lueursfest`).
Such an operand is its own exact key: a post holding the key matches the query, which is then
not evaluated at all. The other operands of the OR are anchored as above.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

from clameur.query.ast import Field, Node, Or, Term
from clameur.query.codegen import is_plain_prefix
from clameur.query.compiled import Query
from clameur.query.document import DocView, PostDoc
from clameur.query.matcher import Predicate
from clameur.query.requirements import MIN_PREFIX, Key, requirement

# Prefix anchors are cut to this length: a slightly coarser filter. A prefix term of an OR that
# is no longer is matched by its key alone.
MAX_PREFIX_ANCHOR = 4
# Token texts whose query ids are remembered; past this the memory starts again, empty.
MAX_REMEMBERED_TOKENS = 100_000

# What a key finds: the ids of the queries it matches outright, and of those to evaluate.
Found = tuple[tuple[int, ...], tuple[int, ...]]
_NOTHING: Found = ((), ())
_matched = itemgetter(0)
_to_evaluate = itemgetter(1)


class QueryIndex:
    """Saved queries indexed by the terms they need; `match` gives the ids a post matches."""

    def __init__(self, queries: Mapping[int, Query] | None = None) -> None:
        self._queries: dict[int, Query] = {}
        # The compiled tests of the queries evaluated so far (compiling is left to first use).
        self._predicates: dict[int, Predicate] = {}
        # Per query: the lookup keys it is registered under, exact ones and anchors.
        self._keys: dict[int, tuple[list[Key], list[Key]]] = {}
        self._exact: dict[Key, list[int]] = {}
        self._anchored: dict[Key, list[int]] = {}
        # Both, by kind of key then value, as the post's words and fields look them up.
        self._tables: dict[str, dict[str, Found]] = {}
        self._prefix_lengths: Counter[int] = Counter()
        self._lengths: tuple[int, ...] = ()
        # Token text -> what it finds as a word and through its prefixes; emptied on changes.
        self._by_token: dict[str, Found | tuple[()]] = {}
        # Whether keys other than words and prefixes (hashtags, fields) are indexed.
        self._other_kinds = False
        self._always: set[int] = set()
        # How many indexed queries need each key: common keys make poor anchors.
        self._key_counts: Counter[Key] = Counter()
        # Keys whose tables are out of date, rebuilt together once registering is done.
        self._changed: set[Key] = set()
        queries = dict(queries or {})
        for query in queries.values():
            self._key_counts.update(_keys(query))
        for query_id, query in queries.items():
            self._register(query_id, query)
        self._update_tables()

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
        self._update_tables()

    def _register(self, query_id: int, query: Query) -> None:
        self._queries[query_id] = query
        keys = self._lookup_keys(query)
        if keys is None:
            self._always.add(query_id)
            return
        self._keys[query_id] = keys
        exact, anchors = keys
        for key in exact:
            self._exact.setdefault(key, []).append(query_id)
        for key in anchors:
            self._anchored.setdefault(key, []).append(query_id)
        self._changed.update(exact, anchors)

    def _lookup_keys(self, query: Query) -> tuple[list[Key], list[Key]] | None:
        """The exact keys and the anchors of a query; None when it must always be evaluated."""
        clauses = query.requirement()
        if clauses is None:
            return None
        node = query.node
        operands = node.operands if isinstance(node, Or) else (node,)
        exact = {key for key in map(_exact_key, operands) if key is not None}
        if exact:
            # Anchor the other operands only: a post holding an exact key is matched anyway.
            clauses = []
            for operand in operands:
                if _exact_key(operand) is None:
                    need = requirement(operand)
                    if need is None:  # not when the whole OR has a requirement; kept safe
                        return None
                    clauses.extend(need)
        anchors = {_lookup(self._anchor(clause)) for clause in clauses}
        return sorted(exact), sorted(anchors)

    def remove(self, query_id: int) -> None:
        """Forget a query; unknown ids are ignored."""
        query = self._queries.pop(query_id, None)
        if query is None:
            return
        self._predicates.pop(query_id, None)
        self._key_counts.subtract(_keys(query))
        self._always.discard(query_id)
        exact, anchors = self._keys.pop(query_id, ([], []))
        for key in exact:
            _forget(self._exact, key, query_id)
        for key in anchors:
            _forget(self._anchored, key, query_id)
        self._changed.update(exact, anchors)
        self._update_tables()

    def _update_tables(self) -> None:
        """Rebuild what the changed keys find, so that matching only reads."""
        changed = self._changed
        if not changed:
            return
        tables = self._tables
        for key in changed:
            kind, value = key
            found = (tuple(self._exact.get(key, ())), tuple(self._anchored.get(key, ())))
            table = tables.setdefault(kind, {})
            known = value in table
            if found != _NOTHING:
                table[value] = found
            elif known:
                del table[value]
            if not table:
                del tables[kind]
            if kind == "prefix" and known != (found != _NOTHING):
                self._prefix_lengths[len(value)] += -1 if known else 1
        changed.clear()
        self._lengths = tuple(sorted(+self._prefix_lengths))
        self._other_kinds = any(kind not in _TOKEN_KINDS for kind in tables)
        self._by_token = {}

    def _anchor(self, clause: frozenset[Key]) -> Key:
        """The key of a clause least likely to be in a post."""
        return min(clause, key=self._rank)

    def _rank(self, key: Key) -> tuple[bool, int, int, int, Key]:
        kind, value = key
        # Words of one or two letters ("a", "le") are in most posts, whatever their kind.
        short = kind in ("word", "prefix") and len(value) < 3
        return (short, _KIND_RANKS.get(kind, 5), self._key_counts[key], -len(value), key)

    def candidates(self, doc: PostDoc) -> list[int]:
        """The ids of the queries the prefilter keeps for this post (matched or evaluated)."""
        found = self._found(doc.view())
        keep = self._always.union(*map(_matched, found))
        keep.update(*map(_to_evaluate, found))
        return sorted(keep)

    def _found(self, view: DocView) -> list[Found]:
        """What the post's words, prefixes, hashtags, mentions and field values find."""
        words = view.words
        by_token = self._by_token
        hits: list[Any] = list(map(by_token.get, words))
        if None in hits:
            hits = [
                self._token(text) if hit is None else hit
                for text, hit in zip(words, hits, strict=True)
            ]
        # Most words find nothing (an empty tuple): leave them out.
        found: list[Found] = list(filter(None, hits))
        if self._other_kinds:
            get = self._tables.get
            if view.tags and (table := get("tag")):
                found.extend(filter(None, map(table.get, view.tags)))
            if view.mentions and (table := get("mention")):
                found.extend(filter(None, map(table.get, view.mentions)))
            if view.langs and (table := get("lang")):
                found.extend(filter(None, map(table.get, view.langs)))
            if view.network and (table := get("network")) and (hit := table.get(view.network)):
                found.append(hit)
            if view.author and (table := get("author")) and (hit := table.get(view.author)):
                found.append(hit)
            if (
                view.sentiment
                and (table := get("sentiment"))
                and (hit := table.get(view.sentiment))
            ):
                found.append(hit)
            if view.intents and (table := get("intent")):
                found.extend(filter(None, map(table.get, view.intents)))
        return found

    def _token(self, text: str) -> Found | tuple[()]:
        """What a token text finds as a word and through its prefixes (remembered), or ()."""
        hit = _NOTHING
        tables = self._tables
        words = tables.get("word")
        if words:
            hit = words.get(text, _NOTHING)
        prefixes = tables.get("prefix")
        if prefixes:
            for length in self._lengths:
                if length > len(text):
                    break
                more = prefixes.get(text[:length])
                if more:
                    hit = (hit[0] + more[0], hit[1] + more[1])
        remembered = hit if hit != _NOTHING else ()
        if len(self._by_token) >= MAX_REMEMBERED_TOKENS:
            self._by_token = {}
        self._by_token[text] = remembered
        return remembered

    def match(self, doc: PostDoc) -> list[int]:
        """The ids of the queries the post matches, in order, evaluating only the candidates."""
        view = doc.view()
        found = self._found(view)
        matched: set[int] = set()
        matched.update(*map(_matched, found))
        pending = self._always.union(*map(_to_evaluate, found))
        if pending:
            pending.difference_update(matched)
            predicate = self._predicates.get
            compiled = self._predicate
            matched.update(
                [
                    query_id
                    for query_id in pending
                    if (predicate(query_id) or compiled(query_id))(view)
                ]
            )
        return sorted(matched)

    def _predicate(self, query_id: int) -> Predicate:
        """The compiled test of a query, kept at hand from its first use."""
        predicate = self._predicates[query_id] = self._queries[query_id].predicate
        return predicate

    def match_all_naive(self, doc: PostDoc) -> list[int]:
        """The same answer as `match`, evaluating every query (for tests and benchmarks)."""
        view = doc.view()
        return sorted(query_id for query_id in self._queries if self._predicate(query_id)(view))


def _keys(query: Query) -> set[Key]:
    clauses = query.requirement()
    return set().union(*clauses) if clauses else set()


def _forget(table: dict[Key, list[int]], key: Key, query_id: int) -> None:
    ids = table[key]
    ids.remove(query_id)
    if not ids:
        del table[key]


# Kinds of keys from the most to the least selective; a field such as lang:fr holds for most posts.
_KIND_RANKS = {"word": 0, "author": 0, "prefix": 1, "intent": 2, "sentiment": 3, "network": 4}
_TERM_KEYS = {"word": "word", "hashtag": "tag", "mention": "mention"}
# Keys looked up through a post's token texts.
_TOKEN_KINDS = ("word", "prefix")


def _lookup(key: Key) -> Key:
    kind, value = key
    if kind == "prefix":
        return (kind, value[:MAX_PREFIX_ANCHOR])
    return key


def _exact_key(node: Node) -> Key | None:
    """The key whose presence in a post is exactly the node matching, if it has one."""
    if isinstance(node, Field):
        return (node.name, node.value)
    if not isinstance(node, Term):
        return None
    if not node.wildcard:
        return (_TERM_KEYS[node.kind], node.text)
    # A prefix is looked up whole only up to MAX_PREFIX_ANCHOR characters.
    if node.kind == "word" and is_plain_prefix(node.text):
        prefix = node.text[:-1]
        if MIN_PREFIX <= len(prefix) <= MAX_PREFIX_ANCHOR:
            return ("prefix", prefix)
    return None
