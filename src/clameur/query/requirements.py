"""What a post must contain for a query to possibly match: the basis of every prefilter.

A requirement is a small OR of AND-clauses of keys; every post the query matches holds all the
keys of at least one clause. It is a superset filter: a post holding a clause may still fail the
query (NOT, phrases, NEAR, wildcards in the middle), which the matcher then decides.

Keys are tuples: ("word", text) for a token text, ("prefix", text) for a token that starts with
text, and (field, value) for lang, network, author, sentiment and intent.
"""

from __future__ import annotations

from itertools import product

from clameur.query.ast import WILDCARDS, And, Field, Near, Node, Not, Phrase, Term

Key = tuple[str, str]
Clause = frozenset[Key]
Requirement = list[Clause] | None  # None: no useful restriction, every post is a candidate

MAX_CLAUSES = 32
MIN_PREFIX = 2


def requirement(node: Node, fields: bool = True) -> Requirement:
    """The OR of AND-clauses that every matching post satisfies; None when there is none."""
    if isinstance(node, Term):
        key = term_key(node)
        return None if key is None else [frozenset((key,))]
    if isinstance(node, Phrase):
        return _all_of([term_key(term) for term in node.terms])
    if isinstance(node, Near):
        left = requirement(node.left, fields)
        right = requirement(node.right, fields)
        return _and([left, right])
    if isinstance(node, Field):
        return [frozenset(((node.name, node.value),))] if fields else None
    if isinstance(node, Not):
        # NOT NOT x needs what x needs; any other negation restricts nothing.
        if isinstance(node.operand, Not):
            return requirement(node.operand.operand, fields)
        return None
    parts = [requirement(operand, fields) for operand in node.operands]
    return _and(parts) if isinstance(node, And) else _or(parts)


def term_key(term: Term) -> Key | None:
    """The key a term needs: its word, the prefix before its first wildcard, or None."""
    if not term.wildcard:
        return ("word", term.text)
    cut = min(term.text.index(c) for c in WILDCARDS if c in term.text)
    prefix = term.text[:cut]
    return ("prefix", prefix) if len(prefix) >= MIN_PREFIX else None


def _all_of(keys: list[Key | None]) -> Requirement:
    present = frozenset(key for key in keys if key is not None)
    return [present] if present else None


def _and(parts: list[Requirement]) -> Requirement:
    known = [part for part in parts if part is not None]
    if not known:
        return None
    size = 1
    for part in known:
        size *= len(part)
    if size > MAX_CLAUSES:
        # Too many combinations: any one operand's requirement is still a true superset.
        return min(known, key=len)
    return _minimal([frozenset().union(*combo) for combo in product(*known)])


def _or(parts: list[Requirement]) -> Requirement:
    if any(part is None for part in parts):
        return None
    clauses = _minimal([clause for part in parts if part is not None for clause in part])
    return clauses if len(clauses) <= MAX_CLAUSES else None


def _minimal(clauses: list[Clause]) -> list[Clause]:
    """Drop clauses that contain another clause (they add nothing to the OR) and duplicates."""
    unique = sorted(set(clauses), key=lambda clause: (len(clause), sorted(clause)))
    kept: list[Clause] = []
    for clause in unique:
        if not any(other <= clause for other in kept):
            kept.append(clause)
    return kept


def fts_clauses(node: Node) -> list[list[tuple[str, bool]]] | None:
    """The requirement as (folded term, is_prefix) clauses for a full-text index, or None."""
    clauses = requirement(node, fields=False)
    if clauses is None:
        return None
    return sorted(sorted((text, kind == "prefix") for kind, text in clause) for clause in clauses)
