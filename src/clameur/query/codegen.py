"""Compile a query tree into the source of one Python function: the matcher's fast path.

The closures of matcher.py call one another for every operator of a query. Here a query becomes
one generated function, compiled once, whose body is a single expression of set lookups and
substring searches over a DocView, for instance

    def query(v):
        w = v.words
        p = v.padded
        if p is None:
            return fallback(v)
        return ('lueurs' in w or 'lueursfest' in v.tags) and ('\\x00navette' in p or 'bus' in w)

Strings enter the source as Python literals (repr), never as code. What has no short form (NEAR,
phrases of hashtags or wildcards) calls the closures of matcher.py once the words it needs are
seen, and so does a post whose tokens hold the separator (only hand-built tokens can). A query
the compiler refuses (nested too deeply) keeps its closures.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from clameur.query.ast import And, Field, Near, Node, Not, Or, Phrase, Term
from clameur.query.document import SEPARATOR, DocView
from clameur.query.matcher import (
    Predicate,
    _literal_prefix,
    _near,
    _phrase_spans,
    _wildcard_regex,
    compile_node,
    cost,
)


def compile_query(node: Node) -> Predicate:
    """A function telling whether a post (its DocView) matches the node, as fast as we can."""
    fallback = compile_node(node)
    try:
        if any(SEPARATOR in term.text for term in _terms(node)):
            return fallback  # only hand-built terms can hold it
        return _Source(fallback).function(node)
    except (RecursionError, SyntaxError, MemoryError):
        return fallback


def is_plain_prefix(text: str) -> bool:
    """Whether a term text is a prefix search: one * at the end and no other wildcard."""
    return text.endswith("*") and "*" not in text[:-1] and "?" not in text


def padded_regex(text: str) -> re.Pattern[str]:
    """A regex finding, in DocView.padded, a token that the wildcard term text matches whole."""
    # A token lies between two separators; * and ? stay inside one token (and, as the "." of
    # the closures' regex, never match a line break).
    body = "".join(
        "[^\\x00\\n]*" if char == "*" else "[^\\x00\\n]" if char == "?" else re.escape(char)
        for char in text
    )
    return re.compile(f"\\x00{body}\\x00")


class _Source:
    """The source of one query function and the objects it refers to by name."""

    def __init__(self, fallback: Predicate) -> None:
        self.names: dict[str, Any] = {"_fallback": fallback}
        self.reads_words = False
        self.reads_padded = False

    def bind(self, value: object) -> str:
        name = f"_{len(self.names)}"
        self.names[name] = value
        return name

    def function(self, node: Node) -> Predicate:
        body = self.expression(node)
        lines = ["def _query(v):"]
        if self.reads_words:
            lines.append("    w = v.words")
        if self.reads_padded:
            lines += ["    p = v.padded", "    if p is None:", "        return _fallback(v)"]
        lines.append(f"    return {body}")
        exec(compile("\n".join(lines), "<query>", "exec"), self.names)
        function: Callable[[DocView], bool] = self.names["_query"]
        return function

    def expression(self, node: Node) -> str:
        """A Python expression, true (a bool) when the post `v` matches the node."""
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Phrase):
            return self.phrase(node)
        if isinstance(node, Near):
            return self.near(node)
        if isinstance(node, Field):
            return _field(node)
        if isinstance(node, Not):
            return f"(not {self.expression(node.operand)})"
        assert isinstance(node, And | Or)
        # Cheap, selective operands first: AND and OR are commutative and operands have no effects.
        joiner = " and " if isinstance(node, And) else " or "
        operands = sorted(node.operands, key=cost)
        return "(" + joiner.join(self.expression(operand) for operand in operands) + ")"

    def term(self, term: Term) -> str:
        text = term.text
        if not term.wildcard:
            if term.kind == "word":
                self.reads_words = True
                return f"{text!r} in w"
            return f"{text!r} in v.{_TABLES[term.kind]}"
        if term.kind == "word":
            self.reads_padded = True
            if is_plain_prefix(text):
                return f"{SEPARATOR + text[:-1]!r} in p"
            return f"{self.bind(padded_regex(text).search)}(p) is not None"
        fullmatch = self.bind(_wildcard_regex(text).fullmatch)
        return f"any(map({fullmatch}, v.{_TABLES[term.kind]}))"

    def phrase(self, phrase: Phrase) -> str:
        terms = phrase.terms
        if all(term.kind == "word" and not term.wildcard for term in terms):
            # Consecutive tokens are consecutive texts between separators.
            self.reads_words = self.reads_padded = True
            needle = SEPARATOR + SEPARATOR.join(term.text for term in terms) + SEPARATOR
            longest = max((term.text for term in terms), key=len)
            return f"({longest!r} in w and {needle!r} in p)"
        spans = _phrase_spans(phrase)
        return self.guarded(terms, self.bind(lambda view: bool(spans(view))))

    def near(self, near: Near) -> str:
        terms = [
            term
            for atom in (near.left, near.right)
            for term in (atom.terms if isinstance(atom, Phrase) else (atom,))
        ]
        return self.guarded(terms, self.bind(_near(near)))

    def guarded(self, terms: list[Term] | tuple[Term, ...], test: str) -> str:
        """Call a closure, once the words and word beginnings its terms need are in the post."""
        needed = sorted({term.text for term in terms if not term.wildcard})
        checks = [f"{text!r} in w" for text in needed]
        if needed:
            self.reads_words = True
        prefixes = {_literal_prefix(term.text) for term in terms if term.wildcard} - {""}
        starts = sorted(SEPARATOR + prefix for prefix in prefixes)
        if starts:
            self.reads_padded = True
            checks += [f"{start!r} in p" for start in starts]
        return "(" + " and ".join([*checks, f"{test}(v)"]) + ")"


_TABLES = {"hashtag": "tags", "mention": "mentions"}


def _field(node: Field) -> str:
    value = node.value
    if node.name == "lang":
        return f"{value!r} in v.langs"
    if node.name in ("network", "author", "sentiment"):
        return f"v.{node.name} == {value!r}"
    return f"{value!r} in v.intents"


def _terms(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Phrase):
        return list(node.terms)
    if isinstance(node, Near):
        return _terms(node.left) + _terms(node.right)
    if isinstance(node, Field):
        return []
    if isinstance(node, Not):
        return _terms(node.operand)
    return [term for operand in node.operands for term in _terms(operand)]
