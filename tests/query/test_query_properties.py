"""Properties of the query language, checked on generated queries and posts (Hypothesis)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from clameur.kit.text import Token, make_tokens
from clameur.query import PostDoc, QueryIndex, QuerySyntaxError, parse
from clameur.query.ast import (
    INTENTS,
    NETWORKS,
    SENTIMENTS,
    And,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Term,
    conjoin,
    disjoin,
    to_source,
)
from clameur.query.compiled import Query
from clameur.query.matcher import compile_node
from clameur.query.parser import parse_node

# A small vocabulary, so that generated queries and posts share words often.
WORDS = ["cafe", "caf", "the", "lait", "nul", "a", "ab", "rembourse"]
LANGS = ["fr", "en", "pt-br"]
AUTHORS = ["alice", "bob_2", "x.y"]

# -- generated queries --------------------------------------------------------------------------

word_texts = st.sampled_from(WORDS)


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """Pick a strategy with the given odds (st.one_of draws its branches evenly)."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(pool) - 1).flatmap(lambda index: pool[index])


@st.composite
def wildcard_texts(draw: st.DrawFn) -> str:
    chars = list(draw(word_texts))
    for _ in range(draw(st.integers(1, 2))):
        index = draw(st.integers(0, len(chars)))
        wildcard = draw(st.sampled_from("*?"))
        if wildcard == "?" and index < len(chars) and draw(st.booleans()):
            chars[index] = "?"
        else:
            chars.insert(index, wildcard)
    return "".join(chars)


wildcard_terms = wildcard_texts().filter(lambda text: text.strip("*?"))
kinds = st.sampled_from(["word"] * 6 + ["hashtag", "mention"])
terms = st.builds(Term, weighted((4, word_texts), (1, wildcard_terms)), kinds)
phrases = st.lists(terms, min_size=2, max_size=3).map(lambda items: Phrase(tuple(items)))
plain_terms = st.builds(Term, word_texts)
atoms = weighted((3, plain_terms), (1, terms), (1, phrases))
nears = st.builds(Near, atoms, atoms, st.integers(1, 4), st.booleans())
fields = st.one_of(
    st.builds(Field, st.just("lang"), st.sampled_from(LANGS)),
    st.builds(Field, st.just("network"), st.sampled_from(NETWORKS[:3])),
    st.builds(Field, st.just("author"), st.sampled_from(AUTHORS)),
    st.builds(Field, st.just("sentiment"), st.sampled_from(SENTIMENTS)),
    st.builds(Field, st.just("intent"), st.sampled_from(INTENTS)),
)
leaves = weighted((3, terms), (1, phrases), (1, nears), (1, fields))


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    groups = st.lists(children, min_size=2, max_size=3)
    return st.one_of(children.map(Not), groups.map(conjoin), groups.map(disjoin))


nodes = st.recursive(leaves, _extend, max_leaves=8)

# -- generated posts ----------------------------------------------------------------------------


def _concrete(term: Term) -> str:
    """A token text the term matches, with the term's sigil."""
    text = term.text.replace("*", "").replace("?", "e")
    return {"word": "", "hashtag": "#", "mention": "@"}[term.kind] + text


def _leaves_of(node: Node) -> list[Term | Field]:
    if isinstance(node, Term | Field):
        return [node]
    if isinstance(node, Phrase):
        return list(node.terms)
    if isinstance(node, Near):
        return _leaves_of(node.left) + _leaves_of(node.right)
    if isinstance(node, Not):
        return _leaves_of(node.operand)
    return [leaf for operand in node.operands for leaf in _leaves_of(operand)]


def _field_value(draw: st.DrawFn, name: str, values: list[str], own: list[Field]) -> str | None:
    mine = [field.value for field in own if field.name == name]
    if mine and draw(st.booleans()):
        return draw(st.sampled_from(mine))
    return draw(st.none() | st.sampled_from(values))


@st.composite
def docs(draw: st.DrawFn, node: Node | None = None) -> PostDoc:
    """A post; given a query, its words are drawn from the query's terms half of the time."""
    leaves = _leaves_of(node) if node is not None else []
    own = [_concrete(leaf) for leaf in leaves if isinstance(leaf, Term)]
    own_fields = [leaf for leaf in leaves if isinstance(leaf, Field)]
    vocabulary = st.sampled_from(own) if own else word_texts
    parts = []
    for _ in range(draw(weighted((1, st.integers(0, 2)), (4, st.integers(3, 14))))):
        if own and draw(st.booleans()):
            word = draw(vocabulary)
        else:
            word = draw(st.sampled_from(["", "", "", "", "", "#", "@"])) + draw(word_texts)
        separator = draw(st.sampled_from([" ", " ", " ", ", ", "-", " l'"]))
        parts.append(separator + word)
    return PostDoc.from_fields(
        "".join(parts),
        lang=_field_value(draw, "lang", LANGS + ["pt", "pt-br-x"], own_fields),
        network=_field_value(draw, "network", list(NETWORKS[:3]), own_fields),
        author=_field_value(draw, "author", AUTHORS, own_fields),
        sentiment=_field_value(draw, "sentiment", list(SENTIMENTS), own_fields),
        intents=[
            value
            for value in [_field_value(draw, "intent", list(INTENTS), own_fields)]
            + draw(st.lists(st.sampled_from(INTENTS), max_size=1))
            if value
        ],
    )


def node_and_doc(strategy: st.SearchStrategy[Node]) -> st.SearchStrategy[tuple[Node, PostDoc]]:
    """A query and a post that often shares its words."""
    return strategy.flatmap(lambda node: st.tuples(st.just(node), docs(node)))


# -- a reference interpreter: slow, obvious, independent of the compiled closures --------------


def _token_matches(term: Term, token: Token) -> bool:
    if term.kind != "word" and token.kind != term.kind:
        return False
    pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in term.text)
    return re.fullmatch(pattern, token.text) is not None


def _spans(atom: Term | Phrase, tokens: list[Token]) -> list[tuple[int, int]]:
    sequence = atom.terms if isinstance(atom, Phrase) else (atom,)
    width = len(sequence)
    return [
        (start, start + width - 1)
        for start in range(len(tokens) - width + 1)
        if all(_token_matches(t, tokens[start + i]) for i, t in enumerate(sequence))
    ]


def reference(node: Node, doc: PostDoc) -> bool:
    if isinstance(node, Term | Phrase):
        return bool(_spans(node, doc.tokens))
    if isinstance(node, Near):
        for left_first, left_last in _spans(node.left, doc.tokens):
            for right_first, right_last in _spans(node.right, doc.tokens):
                if 1 <= right_first - left_last <= node.distance:
                    return True
                if not node.ordered and 1 <= left_first - right_last <= node.distance:
                    return True
        return False
    if isinstance(node, Field):
        if node.name == "lang":
            return doc.lang is not None and (
                doc.lang == node.value or doc.lang.startswith(node.value + "-")
            )
        if node.name == "intent":
            return node.value in doc.intents
        return getattr(doc, node.name) == node.value
    if isinstance(node, Not):
        return not reference(node.operand, doc)
    if isinstance(node, And):
        return all(reference(operand, doc) for operand in node.operands)
    assert isinstance(node, Or)
    return any(reference(operand, doc) for operand in node.operands)


def query_of(node: Node) -> Query:
    return Query(to_source(node), node)


def satisfies(doc: PostDoc, clause: list[tuple[str, bool]]) -> bool:
    texts = {token.text for token in doc.tokens}
    return all(
        any(text.startswith(term) for text in texts) if prefix else term in texts
        for term, prefix in clause
    )


# -- parsing ------------------------------------------------------------------------------------

FRAGMENTS = [
    "cafe", "Thé", "l'hôtel", "AND", "OR", "NOT", "and", "-", "-cafe", "(", ")", '"', '"a b"',
    "«", "»", "NEAR/2", "NEAR/0", "NEAR/2f", "NEAR", "rembours*", "c?fe", "*", "#fyre", "@fyre",
    "lang:fr", "lang:", "author:@x", "foo:bar", "sentiment:bad", ":", "&&", "é", "\t", "",
]  # fmt: skip


@given(st.text())
def test_parse_raises_only_query_syntax_errors_on_any_text(source):
    try:
        parse(source)
    except QuerySyntaxError as error:
        assert 1 <= error.position <= len(source) + 1


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=10), st.sampled_from([" ", ""]))
def test_parse_raises_only_query_syntax_errors_on_query_like_text(fragments, joiner):
    source = joiner.join(fragments)
    try:
        parse(source)
    except QuerySyntaxError as error:
        assert 1 <= error.position <= len(source) + 1
        assert str(error).startswith(f"{error.message} at position {error.position}")


@given(nodes)
def test_a_printed_query_parses_back_to_the_same_tree(node):
    assert parse_node(to_source(node)) == node


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8))
def test_the_canonical_form_of_a_parsed_query_parses_to_the_same_tree(fragments):
    try:
        query = parse(" ".join(fragments))
    except QuerySyntaxError:
        return
    assert parse(query.canonical()).node == query.node


# -- matching -----------------------------------------------------------------------------------


@settings(max_examples=150)
@given(node_and_doc(nodes))
def test_the_compiled_matcher_agrees_with_the_reference_interpreter(case):
    node, doc = case
    assert query_of(node).matches(doc) == reference(node, doc)


@settings(max_examples=150)
@given(node_and_doc(st.one_of(nears, phrases)))
def test_phrases_and_near_agree_with_the_reference_interpreter(case):
    node, doc = case
    assert query_of(node).matches(doc) == reference(node, doc)


pairs = st.tuples(nodes, nodes).flatmap(
    lambda pair: st.tuples(st.just(pair[0]), st.just(pair[1]), docs(disjoin(pair)))
)


@settings(max_examples=60)
@given(pairs)
def test_and_matches_when_both_sides_match(case):
    left, right, doc = case
    both = parse(f"({to_source(left)}) AND ({to_source(right)})")
    assert both.matches(doc) == (query_of(left).matches(doc) and query_of(right).matches(doc))


@settings(max_examples=60)
@given(pairs)
def test_or_matches_when_either_side_matches(case):
    left, right, doc = case
    either = parse(f"({to_source(left)}) OR ({to_source(right)})")
    assert either.matches(doc) == (query_of(left).matches(doc) or query_of(right).matches(doc))


@settings(max_examples=60)
@given(node_and_doc(nodes))
def test_not_matches_exactly_when_the_operand_does_not(case):
    node, doc = case
    assert parse(f"NOT ({to_source(node)})").matches(doc) != query_of(node).matches(doc)
    assert parse(f"-({to_source(node)})").matches(doc) != query_of(node).matches(doc)


@settings(max_examples=60)
@given(pairs)
def test_de_morgan_laws_hold(case):
    left, right, doc = case
    a, b = to_source(left), to_source(right)
    assert parse(f"NOT (({a}) OR ({b}))").matches(doc) == parse(f"NOT ({a}) NOT ({b})").matches(doc)
    assert parse(f"NOT (({a}) AND ({b}))").matches(doc) == parse(f"NOT ({a}) OR NOT ({b})").matches(
        doc
    )


@settings(max_examples=60)
@given(pairs)
def test_side_by_side_terms_mean_and(case):
    left, right, doc = case
    a, b = to_source(left), to_source(right)
    assert parse(f"({a}) ({b})").matches(doc) == parse(f"({a}) AND ({b})").matches(doc)


# -- prefilters ---------------------------------------------------------------------------------


@settings(max_examples=150)
@given(node_and_doc(nodes))
def test_fts_clauses_hold_every_post_the_query_matches(case):
    node, doc = case
    query = query_of(node)
    clauses = query.fts_clauses()
    if clauses is not None and query.matches(doc):
        assert any(satisfies(doc, clause) for clause in clauses)


@given(nodes)
def test_fts_clauses_are_few_folded_and_long_enough(node):
    clauses = query_of(node).fts_clauses()
    if clauses is None:
        return
    assert 0 < len(clauses) <= 32
    for clause in clauses:
        assert clause
        for term, prefix in clause:
            assert "*" not in term and "?" not in term
            assert not prefix or len(term) >= 2


@settings(max_examples=80)
@given(st.lists(nodes, min_size=1, max_size=12), st.data())
def test_the_index_matches_the_same_queries_as_naive_evaluation(query_nodes, data):
    posts = data.draw(st.lists(docs(disjoin(query_nodes)), min_size=1, max_size=4))
    index = QueryIndex({number: query_of(node) for number, node in enumerate(query_nodes)})
    for doc in posts:
        assert index.match(doc) == index.match_all_naive(doc)


@settings(max_examples=50)
@given(st.lists(nodes, min_size=2, max_size=8), st.data())
def test_the_index_stays_exact_after_removals(query_nodes, data):
    doc = data.draw(docs(disjoin(query_nodes)))
    index = QueryIndex({number: query_of(node) for number, node in enumerate(query_nodes)})
    for number in data.draw(st.sets(st.integers(0, len(query_nodes) - 1))):
        index.remove(number)
    assert index.match(doc) == index.match_all_naive(doc)


# -- fast paths ---------------------------------------------------------------------------------

# Plain prefixes of every length around the ones the index looks up whole (2 to 4 characters).
prefix_terms = st.builds(
    lambda word, length: Term(word[:length] + "*"), word_texts, st.integers(1, 6)
).filter(lambda term: term.text != "*")
exact_atoms = st.one_of(st.builds(Term, word_texts, kinds), prefix_terms, fields)
# An OR of terms and fields is matched through its keys, without evaluation; mixed in are
# operands that must be evaluated.
or_queries = st.lists(weighted((4, exact_atoms), (1, nodes)), min_size=1, max_size=4).map(disjoin)


@settings(max_examples=150)
@given(st.lists(or_queries, min_size=1, max_size=8), st.data())
def test_queries_matched_through_their_keys_are_those_the_reference_matches(query_nodes, data):
    posts = data.draw(st.lists(docs(disjoin(query_nodes)), min_size=1, max_size=4))
    index = QueryIndex({number: query_of(node) for number, node in enumerate(query_nodes)})
    for doc in posts:
        expected = [number for number, node in enumerate(query_nodes) if reference(node, doc)]
        assert index.match(doc) == expected


@st.composite
def hand_built_docs(draw: st.DrawFn, node: Node) -> PostDoc:
    """A post built from tokens, some holding characters a tokenizer never gives."""
    own = [_concrete(leaf).lstrip("#@") for leaf in _leaves_of(node) if isinstance(leaf, Term)]
    odd = ["a\x00b", "\x00", "ca\nfe", "caf\x00e", ""]
    texts = draw(st.lists(st.sampled_from(WORDS + own + odd), max_size=8))
    kinds = draw(
        st.lists(
            st.sampled_from(["word", "word", "hashtag", "mention"]),
            min_size=len(texts),
            max_size=len(texts),
        )
    )
    return PostDoc(
        make_tokens(texts, kinds),
        lang=draw(st.none() | st.sampled_from(LANGS)),
        network=draw(st.none() | st.sampled_from(list(NETWORKS[:3]))),
        author=draw(st.none() | st.sampled_from(AUTHORS)),
    )


@settings(max_examples=150)
@given(nodes.flatmap(lambda node: st.tuples(st.just(node), hand_built_docs(node))))
def test_generated_queries_agree_with_the_reference_on_hand_built_tokens(case):
    node, doc = case
    assert query_of(node).matches(doc) == reference(node, doc)


@settings(max_examples=150)
@given(node_and_doc(nodes))
def test_generated_queries_agree_with_the_compiled_closures(case):
    node, doc = case
    assert query_of(node).predicate(doc.view()) is compile_node(node)(doc.view())
