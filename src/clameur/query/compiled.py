"""A parsed, compiled query: what the rest of Clameur holds and calls."""

from __future__ import annotations

from clameur.query.ast import Node, explain, to_source
from clameur.query.codegen import compile_query
from clameur.query.document import PostDoc
from clameur.query.matcher import Predicate
from clameur.query.parser import parse_node
from clameur.query.requirements import Requirement, fts_clauses, requirement


class Query:
    """A query in Clameur's language, compiled to one Python function; build it with `parse`."""

    __slots__ = ("source", "node", "_predicate", "_requirement")

    def __init__(self, source: str, node: Node) -> None:
        self.source = source
        self.node = node
        self._predicate: Predicate | None = None
        self._requirement: Requirement | bool = False  # False: not computed yet

    @property
    def predicate(self) -> Predicate:
        """The compiled test of a post's DocView; compiled on first use (parsing checks only)."""
        predicate = self._predicate
        if predicate is None:
            predicate = self._predicate = compile_query(self.node)
        return predicate

    def matches(self, doc: PostDoc) -> bool:
        """Whether the post matches the query."""
        return self.predicate(doc.view())

    def explain(self) -> str:
        """The parse tree, indented, one node a line."""
        return explain(self.node)

    def fts_clauses(self) -> list[list[tuple[str, bool]]] | None:
        """OR of AND-clauses of (folded term, is_prefix) that every matching post contains."""
        return fts_clauses(self.node)

    def requirement(self) -> Requirement:
        """The keys (words, prefixes, field values) a matching post must hold; see requirements."""
        if self._requirement is False:
            self._requirement = requirement(self.node)
        assert self._requirement is not True
        return self._requirement

    def canonical(self) -> str:
        """The query written in canonical form (explicit operators, folded terms)."""
        return to_source(self.node)

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"Query({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and other.node == self.node

    def __hash__(self) -> int:
        return hash(self.node)


def parse(source: str) -> Query:
    """Parse and compile a query; raise QuerySyntaxError with the position of any mistake."""
    return Query(source, parse_node(source))
