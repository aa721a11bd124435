"""The boolean query language: grammar, parser, matcher and prefilter (pure, no database)."""

from clameur.query.compiled import Query, parse
from clameur.query.document import PostDoc
from clameur.query.errors import QuerySyntaxError
from clameur.query.prefilter import QueryIndex

__all__ = ["PostDoc", "Query", "QueryIndex", "QuerySyntaxError", "parse"]
