"""Fast multi-row INSERT ... ON CONFLICT for the ingest hot path, on SQLite and PostgreSQL.

SQLAlchemy's executemany processes every parameter of every row through several layers; at
thousands of posts a second that overhead dominates. Here each column's bind processor is looked
up once per batch, values are converted in one pass, and rows go out as multi-row VALUES
statements (with RETURNING where ids are needed). Same semantics as the ORM path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from clameur.store.base import UTCDateTime

# Stay under SQLite's default limit of 32,766 variables (PostgreSQL allows 65,535).
MAX_PARAMETERS = {"sqlite": 32_000, "postgresql": 60_000}


def _processors(
    table: Table, columns: Sequence[str], dialect: Dialect
) -> list[Callable[[Any], Any] | None]:
    processors: list[Callable[[Any], Any] | None] = []
    for name in columns:
        column_type = table.c[name].type
        if dialect.name == "sqlite" and isinstance(column_type, UTCDateTime):
            processors.append(UTCDateTime.sqlite_text)
        else:
            processors.append(column_type.dialect_impl(dialect).bind_processor(dialect))
    return processors


def _convert(
    values: Sequence[Any], process: Callable[[Any], Any] | None, memo: dict[Any, Any]
) -> Sequence[Any]:
    """One column's values as the driver takes them (None stays None)."""
    if process is None:
        return values
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
        elif isinstance(value, datetime):
            found = memo.get(value)
            if found is None:
                found = memo[value] = process(value)
            out.append(found)
        else:
            out.append(process(value))
    return out


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
    add: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert rows (tuples in `columns` order); on a conflict on `conflict`, update the
    `update` columns from the new row and add the new row's `add` columns to the stored ones
    (counters), or skip it. Returns the `returning` columns of the rows inserted or updated
    (skipped rows return nothing)."""
    if not rows:
        return []
    connection = session.connection()
    dialect = connection.dialect
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    processors = _processors(table, columns, dialect)
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES "
    tail = f" ON CONFLICT ({', '.join(quote(c) for c in conflict)}) "
    if update or add:
        table_name = quote(table.name)
        tail += "DO UPDATE SET " + ", ".join(
            [f"{quote(c)} = excluded.{quote(c)}" for c in update]
            + [f"{quote(c)} = {table_name}.{quote(c)} + excluded.{quote(c)}" for c in add]
        )
    else:
        tail += "DO NOTHING"
    if returning:
        tail += " RETURNING " + ", ".join(quote(c) for c in returning)
    group = "(" + ", ".join([placeholder] * len(columns)) + ")"
    memos: list[dict[Any, Any]] = [{} for _ in columns]
    if dialect.name == "sqlite" and not returning:
        # One prepared statement run for each row: SQLite compiles a VALUES list of thousands
        # of rows (the ~8,000 matches of a batch) slower than pysqlite binds the rows one by
        # one (measured: ~4 against ~3 µs a match row).
        converted = [
            _convert(column, process, memo)
            for column, process, memo in zip(
                zip(*rows, strict=True), processors, memos, strict=True
            )
        ]
        # Straight to the driver's cursor, in the session's transaction: SQLAlchemy's
        # executemany would copy every row's parameters once more.
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(head + group + tail, list(zip(*converted, strict=True)))
        finally:
            cursor.close()
        return []
    per_statement = max(1, MAX_PARAMETERS.get(dialect.name, 30_000) // len(columns))
    # Values are converted column by column (a column without a bind processor is taken as
    # it is), then laid out row after row. Times repeat (a post's time on each of its
    # matches): each one is converted once.
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        converted = [
            _convert(column, process, memo)
            for column, process, memo in zip(
                zip(*chunk, strict=True), processors, memos, strict=True
            )
        ]
        params = tuple(chain.from_iterable(zip(*converted, strict=True)))
        sql = head + ", ".join([group] * len(chunk)) + tail
        result = connection.exec_driver_sql(sql, params)
        if returning:
            out.extend(tuple(row) for row in result)
    return out


def execute_in(
    session: Session, statement: str, values: Sequence[Any], before: Sequence[Any] = ()
) -> None:
    """Run a statement whose `{values}` is a list of values, in chunks that stay under the
    driver's limit of parameters; `{param}` marks each of the `before` parameters.

    Plain driver SQL for statements run on every batch: SQLAlchemy's expanding IN re-renders
    its statement for each list, which cost more than the UPDATE it runs."""
    if not values:
        return
    connection = session.connection()
    dialect = connection.dialect
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    size = max(1, MAX_PARAMETERS.get(dialect.name, 30_000) - len(before))
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        sql = statement.format(param=placeholder, values=", ".join([placeholder] * len(chunk)))
        connection.exec_driver_sql(sql, (*before, *chunk))
