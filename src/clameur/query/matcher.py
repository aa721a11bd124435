"""Compile a query tree into closures over a DocView: no tree walking when a post arrives."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from clameur.query.ast import WILDCARDS, And, Atom, Field, Near, Node, Not, Phrase, Term
from clameur.query.document import DocView

Predicate = Callable[[DocView], bool]
Spans = Callable[[DocView], list[tuple[int, int]]]  # (first, last) token positions, inclusive


def compile_node(node: Node) -> Predicate:
    """A function telling whether a post (its DocView) matches the node."""
    if isinstance(node, Term):
        return _term(node)
    if isinstance(node, Phrase):
        phrase_spans = _phrase_spans(node)
        return lambda view: bool(phrase_spans(view))
    if isinstance(node, Near):
        return _near(node)
    if isinstance(node, Field):
        return _field(node)
    if isinstance(node, Not):
        inner = compile_node(node.operand)
        return lambda view: not inner(view)
    # Cheap, selective operands first: AND and OR are commutative and operands have no effects.
    operands = sorted(node.operands, key=cost)
    return _balanced([compile_node(operand) for operand in operands], isinstance(node, And))


def cost(node: Node) -> int:
    """A rough evaluation cost, used to test cheap operands first."""
    if isinstance(node, Field):
        return 1
    if isinstance(node, Term):
        return 8 if node.wildcard else 2
    if isinstance(node, Phrase):
        return 10
    if isinstance(node, Near):
        return 20
    if isinstance(node, Not):
        return cost(node.operand) + 1
    return sum(cost(operand) for operand in node.operands) + 1


def _balanced(predicates: list[Predicate], conjunction: bool) -> Predicate:
    # A balanced tree of two-way closures keeps the call depth logarithmic for long ORs.
    if len(predicates) == 1:
        return predicates[0]
    middle = len(predicates) // 2
    first = _balanced(predicates[:middle], conjunction)
    second = _balanced(predicates[middle:], conjunction)
    if conjunction:
        return lambda view: first(view) and second(view)
    return lambda view: first(view) or second(view)


# -- terms --------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _wildcard_regex(text: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    )


def _literal_prefix(text: str) -> str:
    cut = min((text.index(c) for c in WILDCARDS if c in text), default=len(text))
    return text[:cut]


def _is_plain_prefix(text: str) -> bool:
    return text.endswith("*") and not any(c in WILDCARDS for c in text[:-1])


def _term(term: Term) -> Predicate:
    text = term.text
    if term.kind == "word":
        if not term.wildcard:
            return lambda view: text in view.words
        if _is_plain_prefix(text):
            prefix = text[:-1]
            return lambda view: view.has_prefix(prefix)
        prefix = _literal_prefix(text)
        fullmatch = _wildcard_regex(text).fullmatch
        return lambda view: any(fullmatch(key) for key in view.with_prefix(prefix))
    if not term.wildcard:
        if term.kind == "hashtag":
            return lambda view: text in view.tags
        return lambda view: text in view.mentions
    fullmatch = _wildcard_regex(text).fullmatch
    if term.kind == "hashtag":
        return lambda view: any(fullmatch(key) for key in view.tags)
    return lambda view: any(fullmatch(key) for key in view.mentions)


def _positions(term: Term) -> Callable[[DocView], list[int]]:
    """Positions of the tokens that match a term."""
    text = term.text
    kind = term.kind
    if not term.wildcard:
        table = {"word": "words", "hashtag": "tags", "mention": "mentions"}[kind]

        def exact_positions(view: DocView) -> list[int]:
            if text not in getattr(view, table):
                return []
            return view.positions(text, kind)

        return exact_positions
    fullmatch = _wildcard_regex(text).fullmatch
    if kind == "word":
        prefix = _literal_prefix(text)

        def word_positions(view: DocView) -> list[int]:
            found = {key for key in view.with_prefix(prefix) if fullmatch(key)}
            if not found:
                return []
            return [index for index, token in enumerate(view.texts) if token in found]

        return word_positions

    def tag_positions(view: DocView) -> list[int]:
        kinds = view.kinds
        return [
            index
            for index, token in enumerate(view.texts)
            if kinds[index] == kind and fullmatch(token)
        ]

    return tag_positions


def _token_test(term: Term) -> Callable[[str, str], bool]:
    """Whether the token (text, kind) at one position matches the term."""
    text = term.text
    kind = term.kind
    if term.wildcard:
        fullmatch = _wildcard_regex(text).fullmatch
        if kind == "word":
            return lambda token, _kind: fullmatch(token) is not None
        return lambda token, token_kind: token_kind == kind and fullmatch(token) is not None
    if kind == "word":
        return lambda token, _kind: token == text
    return lambda token, token_kind: token == text and token_kind == kind


# -- phrases and proximity ------------------------------------------------------------------------


def _phrase_spans(phrase: Phrase) -> Spans:
    first = _positions(phrase.terms[0])
    rest = [_token_test(term) for term in phrase.terms[1:]]
    width = len(phrase.terms)
    # Every exact word of the phrase must be in the post: a cheap test before the scan.
    required = tuple({term.text for term in phrase.terms if not term.wildcard})

    def spans(view: DocView) -> list[tuple[int, int]]:
        words = view.words
        for text in required:
            if text not in words:
                return []
        texts = view.texts
        kinds = view.kinds
        last_start = len(texts) - width
        found = []
        for start in first(view):
            if start > last_start:
                break
            position = start + 1
            for test in rest:
                if not test(texts[position], kinds[position]):
                    break
                position += 1
            else:
                found.append((start, start + width - 1))
        return found

    return spans


def _atom_spans(atom: Atom) -> Spans:
    if isinstance(atom, Phrase):
        return _phrase_spans(atom)
    positions = _positions(atom)
    return lambda view: [(position, position) for position in positions(view)]


def _near(near: Near) -> Predicate:
    left = _atom_spans(near.left)
    right = _atom_spans(near.right)
    distance = near.distance
    ordered = near.ordered

    def matches(view: DocView) -> bool:
        left_spans = left(view)
        if not left_spans:
            return False
        right_spans = right(view)
        for left_first, left_last in left_spans:
            for right_first, right_last in right_spans:
                if 0 < right_first - left_last <= distance:
                    return True
                if not ordered and 0 < left_first - right_last <= distance:
                    return True
        return False

    return matches


# -- fields -------------------------------------------------------------------------------------


def _field(node: Field) -> Predicate:
    value = node.value
    if node.name == "lang":
        regional = value + "-"
        return lambda view: (
            view.lang == value or (view.lang is not None and view.lang.startswith(regional))
        )
    if node.name == "network":
        return lambda view: view.network == value
    if node.name == "author":
        return lambda view: view.author == value
    if node.name == "sentiment":
        return lambda view: view.sentiment == value
    return lambda view: value in view.intents
