"""The error a malformed query raises."""

from __future__ import annotations

from clameur.kit.errors import ClameurError


class QuerySyntaxError(ClameurError):
    """A query that cannot be parsed; `position` is the 1-based column of the problem."""

    def __init__(self, message: str, position: int, detail: str = "") -> None:
        text = f"{message} at position {position}"
        if detail:
            text = f"{text}: {detail}"
        super().__init__(text)
        self.message = message
        self.position = position
        self.detail = detail

    def __str__(self) -> str:
        return self.args[0]

    def pointer(self, source: str) -> str:
        """The query on one line and a caret under the faulty column, for terminals."""
        line = source.replace("\n", " ").replace("\t", " ")
        return f"{line}\n{' ' * (self.position - 1)}^"
