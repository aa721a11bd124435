"""`clameur query`: check a query, match posts from a JSONL file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from clameur.query import PostDoc, Query, QuerySyntaxError, parse

app = typer.Typer(help="The query language: check a query, match posts.", no_args_is_help=True)


def _parse_or_exit(source: str) -> Query:
    try:
        return parse(source)
    except QuerySyntaxError as error:
        typer.echo(f"error: {error}", err=True)
        typer.echo(error.pointer(source), err=True)
        raise typer.Exit(code=2) from None


_QUERY_HELP = "The query, in quotes (write -- before a query that starts with '-')."


@app.command()
def check(query: Annotated[str, typer.Argument(help=_QUERY_HELP)]) -> None:
    """Parse a query and show its tree and the full-text prefilter it gives."""
    parsed = _parse_or_exit(query)
    typer.echo(f"query: {parsed.canonical()}")
    typer.echo("tree:")
    for line in parsed.explain().splitlines():
        typer.echo(f"  {line}")
    clauses = parsed.fts_clauses()
    if clauses is None:
        typer.echo("full-text prefilter: none (every post is evaluated)")
        return
    typer.echo("full-text prefilter (any line, with all its terms):")
    for clause in clauses:
        typer.echo("  " + " AND ".join(term + ("*" if prefix else "") for term, prefix in clause))


@app.command()
def match(
    query: Annotated[str, typer.Argument(help=_QUERY_HELP)],
    input_file: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help="Posts as JSON lines in the import schema; '-' reads standard input.",
            allow_dash=True,
        ),
    ],
) -> None:
    """Print the ids of the posts in a JSONL file that match the query, one per line."""
    parsed = _parse_or_exit(query)
    if str(input_file) == "-":
        _match_lines(parsed, sys.stdin)
        return
    try:
        with input_file.open(encoding="utf-8", errors="replace") as lines:
            _match_lines(parsed, lines)
    except OSError as error:
        typer.echo(f"error: cannot read {input_file}: {error.strerror or error}", err=True)
        raise typer.Exit(code=2) from None


def _match_lines(query: Query, lines: TextIO) -> None:
    for post_id, doc in _read_posts(lines):
        if query.matches(doc):
            typer.echo(post_id)


def _read_posts(lines: TextIO) -> Iterator[tuple[str, PostDoc]]:
    """Yield (id, document) for each usable line; warn on standard error about the others."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            _warn(number, f"not valid JSON ({error.msg})")
            continue
        if not isinstance(record, dict):
            _warn(number, "not a JSON object")
            continue
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            _warn(number, "no text")
            continue
        post_id = record.get("id")
        if post_id is None or isinstance(post_id, dict | list):
            _warn(number, "no id")
            continue
        yield str(post_id), _document(record, text)


def _warn(number: int, problem: str) -> None:
    typer.echo(f"warning: line {number}: {problem}, skipped", err=True)


def _document(record: dict[str, Any], text: str) -> PostDoc:
    author = record.get("author")
    if isinstance(author, dict):
        author = author.get("handle")
    intents = record.get("intents") or ()
    if isinstance(intents, str):
        intents = intents.replace(";", ",").split(",")
    return PostDoc.from_fields(
        text,
        lang=_text_or_none(record.get("lang")),
        network=_text_or_none(record.get("network")),
        author=_text_or_none(author),
        sentiment=_text_or_none(record.get("sentiment")),
        intents=[str(intent) for intent in intents if str(intent).strip()]
        if isinstance(intents, list | tuple)
        else (),
    )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
