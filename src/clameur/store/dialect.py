"""The few pieces that differ between SQLite and PostgreSQL: upserts and full-text search.

SQLite indexes posts with an FTS5 external-content table fed with text folded by Clameur's own
`fold` (registered on every connection as `clameur_fold`, so "cœur" and "Straße" are found by
"coeur" and "strasse"); PostgreSQL with a generated `tsvector` column that combines an
accent-free simple configuration with French and English stemming.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    column,
    exists,
    false,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clameur.kit.text import fold

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"')


def insert_for(session: Session | Connection) -> Any:
    """The dialect's INSERT construct, which knows ON CONFLICT."""
    name = session.get_bind().dialect.name if isinstance(session, Session) else session.dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


def create_full_text_search(connection: Connection) -> None:
    """Create the full-text index over posts for the connection's dialect."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            "CREATE VIRTUAL TABLE posts_fts USING fts5(text, content='posts', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        connection.exec_driver_sql(
            "CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN "
            "INSERT INTO posts_fts(rowid, text) VALUES (new.id, clameur_fold(new.text)); END"
        )
        connection.exec_driver_sql(
            "CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN "
            "INSERT INTO posts_fts(posts_fts, rowid, text) "
            "VALUES ('delete', old.id, clameur_fold(old.text)); END"
        )
        connection.exec_driver_sql(
            "CREATE TRIGGER posts_fts_update AFTER UPDATE OF text ON posts BEGIN "
            "INSERT INTO posts_fts(posts_fts, rowid, text) "
            "VALUES ('delete', old.id, clameur_fold(old.text)); "
            "INSERT INTO posts_fts(rowid, text) VALUES (new.id, clameur_fold(new.text)); END"
        )
        return
    has_unaccent = connection.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'"
    ).first()
    connection.exec_driver_sql("CREATE TEXT SEARCH CONFIGURATION clameur_simple (COPY = simple)")
    if has_unaccent:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        connection.exec_driver_sql(
            "ALTER TEXT SEARCH CONFIGURATION clameur_simple "
            "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple"
        )
    connection.exec_driver_sql(
        "ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "to_tsvector('clameur_simple'::regconfig, text) || "
        "to_tsvector('french'::regconfig, text) || "
        "to_tsvector('english'::regconfig, text)) STORED"
    )
    connection.exec_driver_sql(
        "CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)"
    )


def drop_full_text_search(connection: Connection) -> None:
    """Drop what create_full_text_search made."""
    if connection.dialect.name == "sqlite":
        for trigger in ("posts_fts_insert", "posts_fts_delete", "posts_fts_update"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        connection.exec_driver_sql("DROP TABLE IF EXISTS posts_fts")
        return
    connection.exec_driver_sql("DROP INDEX IF EXISTS ix_posts_search_vector")
    connection.exec_driver_sql("ALTER TABLE posts DROP COLUMN IF EXISTS search_vector")
    connection.exec_driver_sql("DROP TEXT SEARCH CONFIGURATION IF EXISTS clameur_simple")


def _quote_fts5(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _sqlite_text_query(search: str) -> str | None:
    parts: list[str] = []
    search = fold(search)
    for phrase in _PHRASE.findall(search):
        words = _WORD.findall(phrase)
        if words:
            parts.append(_quote_fts5(" ".join(words)))
    for word in _WORD.findall(_PHRASE.sub(" ", search)):
        parts.append(_quote_fts5(word))
    return " AND ".join(parts) if parts else None


# Below this many hits, SQLite is told the ids (then it sorts a few rows). Above, it either
# reads every hit once into a temporary b-tree and walks the time index (a fraction of a
# microsecond a hit), or, when a word is in so many posts that reading them all would cost more,
# walks the time index and asks the full-text index about each post (slower a post, but a page
# is found after a few hundred probes). Measured on a million posts (bench/results).
SPARSE_HITS = 2000
DENSE_SHARE = 0.10

_FTS = table("posts_fts", column("rowid"))


def _sqlite_match(session: Session, post_id: Any, fts: str) -> ColumnElement[bool]:
    probe = list(
        session.execute(
            text("SELECT rowid FROM posts_fts WHERE posts_fts MATCH :fts LIMIT :n"),
            {"fts": fts, "n": SPARSE_HITS + 1},
        ).scalars()
    )
    if len(probe) <= SPARSE_HITS:
        # Marked so that the caller keeps SQLite from walking the time index over every post.
        condition = post_id.in_(probe) if probe else false()
        condition._clameur_sparse = True  # type: ignore[union-attr]
        return condition
    matches = text("posts_fts MATCH :fts").bindparams(bindparam("fts", fts))
    # max(rowid) is read from the b-tree's edge; count(*) of posts would scan them all.
    posts = session.execute(text("SELECT max(rowid) FROM posts")).scalar() or 0
    dense = int(posts * DENSE_SHARE)
    hits = session.execute(
        text(
            "SELECT count(*) FROM (SELECT rowid FROM posts_fts WHERE posts_fts MATCH :fts LIMIT :n)"
        ),
        {"fts": fts, "n": dense + 1},
    ).scalar()
    if dense > SPARSE_HITS and (hits or 0) > dense:
        return exists(select(literal(1)).select_from(_FTS).where(matches, _FTS.c.rowid == post_id))
    return post_id.in_(select(_FTS.c.rowid).where(matches))


def full_text_filter(session: Session, post_id: Any, search: str) -> ColumnElement[bool] | None:
    """A filter on posts for the words (and "phrases") a user typed in the search box."""
    if session.get_bind().dialect.name == "sqlite":
        query = _sqlite_text_query(search)
        if query is None:
            return None
        return _sqlite_match(session, post_id, query)
    if not _WORD.search(search):
        return None
    tsquery = (
        "(websearch_to_tsquery('clameur_simple'::regconfig, :fts) || "
        "websearch_to_tsquery('french'::regconfig, :fts) || "
        "websearch_to_tsquery('english'::regconfig, :fts))"
    )
    return literal_column("posts.search_vector").op("@@")(
        text(tsquery).bindparams(bindparam("fts", search))
    )


def clauses_filter(
    session: Session, post_id: Any, clauses: Sequence[Sequence[tuple[str, bool]]]
) -> ColumnElement[bool] | None:
    """A superset filter from query clauses: OR of ANDs of (token, is_prefix)."""
    if not clauses:
        return None
    if session.get_bind().dialect.name == "sqlite":
        ors = []
        for clause in clauses:
            ands = [_quote_fts5(fold(term)) + ("*" if prefix else "") for term, prefix in clause]
            ors.append("(" + " AND ".join(ands) + ")")
        return _sqlite_match(session, post_id, " OR ".join(ors))
    ors = []
    for clause in clauses:
        ands = [
            "'" + term.replace("'", "''") + "'" + (":*" if prefix else "")
            for term, prefix in clause
        ]
        ors.append("(" + " & ".join(ands) + ")")
    return literal_column("posts.search_vector").op("@@")(
        text("to_tsquery('clameur_simple'::regconfig, :fts)").bindparams(
            bindparam("fts", " | ".join(ors))
        )
    )


def is_sparse(condition: ColumnElement[bool] | None) -> bool:
    """True for a full-text filter that names few posts: look them up by id, then sort."""
    return bool(getattr(condition, "_clameur_sparse", False))
