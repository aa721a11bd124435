"""The parsed form of a query: a small tree of frozen nodes, printable back to source."""

from __future__ import annotations

from dataclasses import dataclass

# Field names and the values they accept; kept in step with clameur.pipeline.schemas (a test
# checks it), copied here so that the query language stays free of the ingest pipeline.
NETWORKS = (
    "x", "facebook", "instagram", "linkedin", "mastodon", "bluesky", "reddit", "youtube", "rss",
    "demo", "import",
)  # fmt: skip
SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = ("complaint", "question", "praise", "purchase_intent", "spam")
FIELDS = ("author", "intent", "lang", "network", "sentiment")
WILDCARDS = "*?"


@dataclass(frozen=True, slots=True)
class Term:
    """One token to find; kind "word" matches any token, "hashtag" and "mention" only those."""

    text: str
    kind: str = "word"

    @property
    def wildcard(self) -> bool:
        """Whether the text holds * or ?."""
        return "*" in self.text or "?" in self.text


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive tokens."""

    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """Two terms or phrases at most `distance` tokens apart; `ordered`: left comes first."""

    left: Term | Phrase
    right: Term | Phrase
    distance: int
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """A condition on the post's metadata (lang, network, author, sentiment, intent)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Not:
    """The operand does not match."""

    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    """Every operand matches."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one operand matches."""

    operands: tuple[Node, ...]


Node = Term | Phrase | Near | Field | Not | And | Or
Atom = Term | Phrase


def conjoin(operands: list[Node] | tuple[Node, ...]) -> Node:
    """AND of the operands, nested ANDs flattened; a single operand is returned as is."""
    flat: list[Node] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, And) else (operand,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def disjoin(operands: list[Node] | tuple[Node, ...]) -> Node:
    """OR of the operands, nested ORs flattened; a single operand is returned as is."""
    flat: list[Node] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, Or) else (operand,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


_SIGILS = {"word": "", "hashtag": "#", "mention": "@"}


def to_source(node: Node) -> str:
    """The query text of a node, in canonical form: parsing it gives the same node back."""
    if isinstance(node, Term):
        return _SIGILS[node.kind] + node.text
    if isinstance(node, Phrase):
        if any(term.wildcard for term in node.terms):
            # Quotes keep * and ? literal, so a phrase with wildcards is written hyphenated.
            return "-".join(to_source(term) for term in node.terms)
        return '"' + " ".join(to_source(term) for term in node.terms) + '"'
    if isinstance(node, Near):
        suffix = "f" if node.ordered else ""
        return f"{to_source(node.left)} NEAR/{node.distance}{suffix} {to_source(node.right)}"
    if isinstance(node, Field):
        return f"{node.name}:{node.value}"
    if isinstance(node, Not):
        return "NOT " + _grouped(node.operand)
    joiner = " AND " if isinstance(node, And) else " OR "
    return joiner.join(_grouped(operand) for operand in node.operands)


def _grouped(node: Node) -> str:
    text = to_source(node)
    return f"({text})" if isinstance(node, And | Or) else text


def explain(node: Node, indent: int = 0) -> str:
    """An indented, human-readable tree of the node."""
    pad = "  " * indent
    if isinstance(node, Term):
        return pad + _describe_term(node)
    if isinstance(node, Phrase):
        return f"{pad}phrase {to_source(node)} (consecutive tokens)"
    if isinstance(node, Near):
        order = "left before right" if node.ordered else "either order"
        head = f"{pad}NEAR/{node.distance}{'f' if node.ordered else ''}"
        head += f" (at most {node.distance} tokens apart, {order})"
        return "\n".join((head, explain(node.left, indent + 1), explain(node.right, indent + 1)))
    if isinstance(node, Field):
        return f"{pad}field {node.name} = {node.value}"
    if isinstance(node, Not):
        return f"{pad}NOT\n{explain(node.operand, indent + 1)}"
    head = f"{pad}AND (all of)" if isinstance(node, And) else f"{pad}OR (any of)"
    return "\n".join([head, *(explain(operand, indent + 1) for operand in node.operands)])


def _describe_term(term: Term) -> str:
    text = to_source(term)
    if not term.wildcard:
        if term.kind == "word":
            return f"term {text} (word, hashtag or mention)"
        return f"{term.kind} {text}"
    what = "wildcard"
    if term.text.endswith("*") and not any(c in WILDCARDS for c in term.text[:-1]):
        what = "prefix"
    if term.kind != "word":
        what = f"{term.kind} {what}"
    return f"{what} {text}"
