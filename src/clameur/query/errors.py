"""The error a malformed query raises."""

from __future__ import annotations

from clameur.kit.errors import ClameurError


class QuerySyntaxError(ClameurError):
    """A query that cannot be parsed; `position` is the 1-based column of the problem.

    `message` and `detail_template` are fixed English sentences (the interface translates them:
    they are in its catalogues), `values` fill the template's %(name)s places; `detail` is the
    English sentence filled in."""

    def __init__(self, message: str, position: int, detail: str = "", **values: str | int) -> None:
        self.detail_template = detail
        self.values = values
        self.detail = detail % values if values else detail
        text = f"{message} at position {position}"
        if self.detail:
            text = f"{text}: {self.detail}"
        super().__init__(text)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.args[0]

    def pointer(self, source: str) -> str:
        """The query on one line and a caret under the faulty column, for terminals."""
        line = source.replace("\n", " ").replace("\t", " ")
        return f"{line}\n{' ' * (self.position - 1)}^"
