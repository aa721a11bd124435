"""A recursive-descent parser for the query language, with 1-based error positions.

Grammar (operators in capitals; NOT binds tighter than AND, AND tighter than OR):

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          terms side by side mean AND
    unary   := ("NOT" | "-") unary | primary
    primary := "(" or ")" | field | atom ["NEAR/n" | "NEAR/nf" atom]
    atom    := term | "phrase"

A term outside quotes that holds several tokens, such as fyre-festival, is the phrase of those
tokens. * and ? are wildcards outside quotes and punctuation inside them, so a phrase with a
wildcard is written hyphenated: fyre-fest*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clameur.kit.text import fold, token_pattern, token_texts
from clameur.query.ast import (
    FIELDS,
    INTENTS,
    NETWORKS,
    SENTIMENTS,
    WILDCARDS,
    Atom,
    Field,
    Near,
    Node,
    Not,
    Phrase,
    Term,
    conjoin,
    disjoin,
)
from clameur.query.errors import QuerySyntaxError

MAX_LENGTH = 20_000
MAX_DEPTH = 100

_QUOTES = {'"': '"', "\u201c": "\u201d", "\u00ab": "\u00bb"}
_CLOSING_QUOTES = frozenset(("\u201d", "\u00bb"))
_BREAKS = frozenset("()") | frozenset(_QUOTES) | _CLOSING_QUOTES
_FIELD = re.compile(r"([A-Za-z_]+):(.*)", re.DOTALL)
_NEAR = re.compile(r"NEAR/([0-9]{1,6})([fF]?)")
_LANG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
_HANDLE = re.compile(r"[\w.\-@]+")
# Terms written outside quotes may hold wildcards; the tokenizer keeps * and ? inside words.
_WILD_TOKEN = token_pattern(WILDCARDS, marks=True)


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # ( ) AND OR NOT - NEAR ATOM FIELD EOF
    position: int  # 1-based
    text: str = ""
    node: Node | None = None
    distance: int = 0
    ordered: bool = False


_OPERAND_STARTS = frozenset(("(", "NOT", "-", "ATOM", "FIELD"))


def parse_node(source: str) -> Node:
    """Parse query text into its tree, or raise QuerySyntaxError naming the position."""
    if len(source) > MAX_LENGTH:
        raise QuerySyntaxError(
            "query too long",
            MAX_LENGTH + 1,
            "a query holds at most %(num)s characters",
            num=MAX_LENGTH,
        )
    lexemes = _lex(source)
    if lexemes[0].kind == "EOF":
        raise QuerySyntaxError(
            "empty query", 1, 'write a word, a "phrase" or a field such as lang:fr'
        )
    return _Parser(lexemes).parse()


# -- lexing -------------------------------------------------------------------------------------


def _lex(source: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        if char.isspace():
            index += 1
        elif char in "()":
            out.append(_Lexeme(char, index + 1))
            index += 1
        elif char in _QUOTES:
            end = _closing_quote(source, index)
            out.append(_Lexeme("ATOM", index + 1, node=_phrase(source[index + 1 : end], index)))
            index = end + 1
        elif char in _CLOSING_QUOTES:
            raise QuerySyntaxError(
                "unbalanced quote", index + 1, "'%(quote)s' closes nothing", quote=char
            )
        elif char == "-" and (
            index == 0 or not _in_chunk(source[index - 1]) or out[-1:] == [_Lexeme("-", index)]
        ):
            following = source[index + 1] if index + 1 < length else ""
            if not following or following.isspace() or following == ")":
                raise QuerySyntaxError(
                    "operator without operand", index + 1, "'-' needs a term right after it"
                )
            out.append(_Lexeme("-", index + 1))
            index += 1
        else:
            end = index
            while end < length and _in_chunk(source[end]):
                end += 1
            index = _chunk(source, index, end, out)
    out.append(_Lexeme("EOF", length + 1))
    return out


def _in_chunk(char: str) -> bool:
    return not char.isspace() and char not in _BREAKS


def _closing_quote(source: str, start: int) -> int:
    opening = source[start]
    closers = (_QUOTES[opening], '"')
    for index in range(start + 1, len(source)):
        if source[index] in closers:
            return index
    raise QuerySyntaxError(
        "unbalanced quote", start + 1, "'%(quote)s' is never closed", quote=opening
    )


def _chunk(source: str, start: int, end: int, out: list[_Lexeme]) -> int:
    """Lex one run of non-space characters; return the index where lexing goes on."""
    text = source[start:end]
    position = start + 1
    if text in ("AND", "OR", "NOT"):
        out.append(_Lexeme(text, position, text))
        return end
    if text == "NEAR" or text.startswith("NEAR/"):
        match = _NEAR.fullmatch(text)
        if match is None or int(match.group(1)) < 1:
            raise QuerySyntaxError(
                "bad NEAR",
                position,
                "'%(text)s': write NEAR/n with a whole number n from 1 (NEAR/5), "
                "or NEAR/nf when the left side must come first",
                text=text,
            )
        out.append(
            _Lexeme("NEAR", position, text, distance=int(match.group(1)), ordered=bool(match[2]))
        )
        return end
    match = _FIELD.fullmatch(text)
    if match is not None:
        return _field(source, start, end, match, out)
    out.append(_Lexeme("ATOM", position, text, node=_term(text, position)))
    return end


def _field(source: str, start: int, end: int, match: re.Match[str], out: list[_Lexeme]) -> int:
    name = match.group(1).lower()
    if name not in FIELDS:
        raise QuerySyntaxError(
            "unknown field",
            start + 1,
            "'%(name)s' is not a field (fields: %(fields)s); put the text in quotes to search it",
            name=match.group(1),
            fields=", ".join(FIELDS),
        )
    value = match.group(2)
    value_start = start + len(match.group(1)) + 1
    if not value and end < len(source) and source[end] in _QUOTES:
        closing = _closing_quote(source, end)
        value = source[end + 1 : closing].strip()
        value_start, end = end + 1, closing + 1
    if not value:
        raise QuerySyntaxError(
            "missing field value",
            start + 1,
            "'%(name)s:' needs a value, as in %(example)s",
            name=name,
            example=_EXAMPLES[name],
        )
    node = Field(name, _field_value(name, value, value_start + 1))
    out.append(_Lexeme("FIELD", start + 1, source[start:end], node=node))
    return end


_EXAMPLES = {
    "author": "author:@handle",
    "intent": "intent:complaint",
    "lang": "lang:fr",
    "network": "network:instagram",
    "sentiment": "sentiment:negative",
}


def _field_value(name: str, raw: str, position: int) -> str:
    value = raw.strip().lower()
    allowed: tuple[str, ...] = ()
    if name == "lang":
        value = value.replace("_", "-")
        if _LANG.fullmatch(value):
            return value
        detail = "'%(raw)s' for lang: expected a language code such as fr, en or pt-br"
    elif name == "author":
        handle = value[1:] if value.startswith("@") else value
        if handle and _HANDLE.fullmatch(handle):
            return fold(handle)
        detail = "'%(raw)s' for author: expected a handle such as @clameur"
    else:
        if name == "network":
            value, allowed = ("x" if value == "twitter" else value), tuple(NETWORKS)
        elif name == "sentiment":
            allowed = tuple(SENTIMENTS)
        else:
            value, allowed = value.replace("-", "_"), tuple(INTENTS)
        if value in allowed:
            return value
        detail = "'%(raw)s' for %(name)s: expected one of %(values)s"
    raise QuerySyntaxError(
        "bad field value", position, detail, raw=raw, name=name, values=", ".join(allowed)
    )


def _term(text: str, position: int) -> Node:
    texts, kinds = token_texts(text, _WILD_TOKEN)
    if not texts:
        raise QuerySyntaxError(
            "term without letters or digits",
            position,
            "'%(text)s' has nothing to search",
            text=text,
        )
    terms = []
    for token, kind in zip(texts, kinds, strict=True):
        if not token.strip(WILDCARDS):
            raise QuerySyntaxError(
                "bad wildcard",
                position,
                "'%(text)s': a wildcard needs a letter or digit beside it",
                text=text,
            )
        terms.append(Term(token, kind))
    return terms[0] if len(terms) == 1 else Phrase(tuple(terms))


def _phrase(text: str, quote_index: int) -> Node:
    texts, kinds = token_texts(text)
    if not texts:
        raise QuerySyntaxError(
            "empty phrase", quote_index + 1, "put words with letters or digits between the quotes"
        )
    terms = tuple(Term(token, kind) for token, kind in zip(texts, kinds, strict=True))
    return terms[0] if len(terms) == 1 else Phrase(terms)


# -- parsing ------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, lexemes: list[_Lexeme]) -> None:
        self.lexemes = lexemes
        self.index = 0
        self.depth = 0

    def peek(self) -> _Lexeme:
        return self.lexemes[self.index]

    def advance(self) -> _Lexeme:
        lexeme = self.lexemes[self.index]
        self.index += 1
        return lexeme

    def parse(self) -> Node:
        node = self.parse_or()
        lexeme = self.peek()
        if lexeme.kind == ")":
            raise QuerySyntaxError(
                "unbalanced parenthesis", lexeme.position, "')' has no matching '('"
            )
        return node

    def expect_right_operand(self, operator: _Lexeme) -> None:
        if self.peek().kind not in _OPERAND_STARTS:
            name = operator.text or operator.kind
            raise QuerySyntaxError(
                "operator without operand",
                operator.position,
                "'%(name)s' needs something on its right",
                name=name,
            )

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.peek().kind == "OR":
            self.expect_right_operand(self.advance())
            operands.append(self.parse_and())
        return disjoin(operands)

    def parse_and(self) -> Node:
        operands = [self.parse_unary()]
        while True:
            kind = self.peek().kind
            if kind == "AND":
                self.expect_right_operand(self.advance())
            elif kind not in _OPERAND_STARTS:
                break
            operands.append(self.parse_unary())
        return conjoin(operands)

    def parse_unary(self) -> Node:
        lexeme = self.peek()
        if lexeme.kind in ("NOT", "-"):
            self.advance()
            self.expect_right_operand(lexeme)
            self.enter(lexeme)
            node = Not(self.parse_unary())
            self.depth -= 1
            return node
        return self.parse_primary()

    def enter(self, lexeme: _Lexeme) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(
                "query too deeply nested", lexeme.position, "at most %(num)s levels", num=MAX_DEPTH
            )

    def parse_primary(self) -> Node:
        lexeme = self.advance()
        kind = lexeme.kind
        if kind == "(":
            node = self.parse_group(lexeme)
        elif kind == "FIELD":
            assert lexeme.node is not None
            node = lexeme.node
        elif kind == "ATOM":
            assert isinstance(lexeme.node, Term | Phrase)
            node = self.parse_near(lexeme.node)
        elif kind in ("AND", "OR", "NEAR"):
            raise QuerySyntaxError(
                "operator without operand",
                lexeme.position,
                "'%(name)s' needs something on its left",
                name=lexeme.text,
            )
        else:  # ")" or EOF right after an operator is caught before; this is a stray ")"
            raise QuerySyntaxError(
                "unbalanced parenthesis", lexeme.position, "')' has no matching '('"
            )
        following = self.peek()
        if following.kind == "NEAR":
            raise QuerySyntaxError(
                "bad NEAR",
                following.position,
                "NEAR joins two terms or phrases, not groups, fields or another NEAR; "
                "combine NEARs with AND",
            )
        return node

    def parse_group(self, opening: _Lexeme) -> Node:
        following = self.peek()
        if following.kind == ")":
            raise QuerySyntaxError(
                "empty parentheses", opening.position, "put a term between '(' and ')'"
            )
        if following.kind == "EOF":
            raise QuerySyntaxError(
                "unbalanced parenthesis", opening.position, "'(' is never closed"
            )
        self.enter(opening)
        node = self.parse_or()
        self.depth -= 1
        if self.advance().kind != ")":
            raise QuerySyntaxError(
                "unbalanced parenthesis", opening.position, "'(' is never closed"
            )
        return node

    def parse_near(self, left: Atom) -> Node:
        operator = self.peek()
        if operator.kind != "NEAR":
            return left
        self.advance()
        right = self.peek()
        if right.kind != "ATOM":
            if right.kind in _OPERAND_STARTS:
                raise QuerySyntaxError(
                    "bad NEAR",
                    right.position,
                    "NEAR joins two terms or phrases, not groups, fields or negations",
                )
            raise QuerySyntaxError(
                "operator without operand",
                operator.position,
                "'%(name)s' needs something on its right",
                name=operator.text,
            )
        self.advance()
        assert isinstance(right.node, Term | Phrase)
        return Near(left, right.node, operator.distance, operator.ordered)
