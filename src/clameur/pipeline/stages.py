"""The ingest flow as a chain of stages over batches: normalise -> enrich -> match -> store.

The same functions run inside `clameur serve` (embedded runner), in `clameur worker`
processes and in `clameur import`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from clameur.kit.text import normalise as normalise_text
from clameur.kit.time import utcnow
from clameur.models import Author, Match, Post, SavedQuery
from clameur.nlp import language
from clameur.pipeline.schemas import PostIn
from clameur.query import PostDoc, QueryIndex
from clameur.store.bulk import insert_rows


@dataclass(slots=True)
class Item:
    """A post on its way through the pipeline."""

    post: PostIn
    text: str = ""
    lang: str | None = None
    enrichments: dict[str, Any] = field(default_factory=dict)
    matches: list[int] = field(default_factory=list)
    raw: dict[str, Any] | None = None


@dataclass(slots=True)
class BatchResult:
    """What a batch did to the store."""

    imported: int = 0
    present: int = 0
    matches: int = 0
    new_post_ids: list[int] = field(default_factory=list)


def normalise(items: list[Item]) -> list[Item]:
    """Unicode and whitespace normalisation of each post's text."""
    for item in items:
        item.text = normalise_text(item.post.text)
    return items


def enrich(items: list[Item]) -> list[Item]:
    """Language identification, unless the source already told the language."""
    todo = [item for item in items if not item.post.lang]
    detected = language.detect_languages([item.text for item in todo])
    for item, (lang, score) in zip(todo, detected, strict=True):
        item.lang = lang
        item.enrichments["language"] = {
            "version": language.ENRICHER_VERSION,
            "value": lang,
            "score": round(score, 4),
        }
    for item in items:
        if item.post.lang:
            item.lang = item.post.lang
            item.enrichments["language"] = {"version": "source", "value": item.post.lang}
    return items


def match(items: list[Item], index: QueryIndex) -> list[Item]:
    """Run the saved queries over each post."""
    if not len(index):
        return items
    for item in items:
        post = item.post
        doc = PostDoc.from_fields(
            item.text,
            lang=item.lang,
            network=post.network,
            author=post.author.handle if post.author else None,
            sentiment=post.sentiment,
            intents=tuple(post.intents),
        )
        item.matches = index.match(doc)
    return items


AUTHOR_COLUMNS = ("network", "handle", "display_name", "followers", "verified", "updated_at")
POST_COLUMNS = (
    "workspace_id",
    "network",
    "external_id",
    "url",
    "author_id",
    "text",
    "lang",
    "created_at",
    "ingested_at",
    "metrics",
    "in_reply_to",
    "conversation_key",
    "sentiment",
    "intents",
    "enrichments",
    "raw",
)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _upsert_authors(session: Session, items: Iterable[Item]) -> dict[tuple[str, str], int]:
    now = utcnow()
    rows: dict[tuple[str, str], tuple[Any, ...]] = {}
    for item in items:
        author = item.post.author
        if author is None:
            continue
        network = item.post.network
        rows[(network, author.handle)] = (
            network,
            author.handle,
            author.name or author.handle,
            author.followers,
            author.verified,
            now,
        )
    returned = insert_rows(
        session,
        _table(Author),
        AUTHOR_COLUMNS,
        list(rows.values()),
        conflict=("network", "handle"),
        update=("display_name", "followers", "verified", "updated_at"),
        returning=("id", "network", "handle"),
    )
    return {(network, handle): id_ for id_, network, handle in returned}


def store(session: Session, workspace_id: int, items: list[Item]) -> BatchResult:
    """Write new posts, their authors and matches; posts already stored are left as they are."""
    result = BatchResult()
    unique: dict[tuple[str, str], Item] = {}
    for item in items:
        key = (item.post.network, item.post.id)
        if key in unique:
            result.present += 1
        else:
            unique[key] = item
    if not unique:
        return result
    authors = _upsert_authors(session, unique.values())
    now = utcnow()
    rows = []
    for (network, external_id), item in unique.items():
        post = item.post
        rows.append(
            (
                workspace_id,
                network,
                external_id,
                post.url,
                authors.get((network, post.author.handle)) if post.author else None,
                item.text,
                item.lang,
                post.created_at,
                now,
                post.metrics,
                post.in_reply_to,
                post.conversation_id or post.in_reply_to or external_id,
                post.sentiment,
                post.intents,
                item.enrichments,
                item.raw,
            )
        )
    inserted = insert_rows(
        session,
        _table(Post),
        POST_COLUMNS,
        rows,
        conflict=("network", "external_id"),
        returning=("id", "network", "external_id"),
    )
    result.imported = len(inserted)
    result.present += len(unique) - len(inserted)
    result.new_post_ids = [row[0] for row in inserted]
    match_rows = []
    per_query: Counter[int] = Counter()
    for post_id, network, external_id in inserted:
        item = unique[(network, external_id)]
        for query_id in item.matches:
            match_rows.append((query_id, item.post.created_at, post_id))
            per_query[query_id] += 1
    if match_rows:
        insert_rows(
            session,
            _table(Match),
            ("query_id", "created_at", "post_id"),
            match_rows,
            conflict=("query_id", "created_at", "post_id"),
        )
        queries = _table(SavedQuery)
        session.execute(
            update(queries)
            .where(queries.c.id == bindparam("qid"))
            .values(match_count=queries.c.match_count + bindparam("n")),
            [{"qid": query_id, "n": n} for query_id, n in per_query.items()],
        )
    result.matches = len(match_rows)
    if inserted:
        _link_replies(session, inserted)
    session.flush()
    return result


def _link_replies(session: Session, inserted: Sequence[Any]) -> None:
    """Point new replies at their parents, and waiting replies at their newly arrived parent."""
    parent = aliased(Post)
    new_ids = [row[0] for row in inserted]
    session.execute(
        update(Post)
        .where(Post.id.in_(new_ids), Post.in_reply_to.is_not(None))
        .values(
            parent_id=select(parent.id)
            .where(parent.network == Post.network, parent.external_id == Post.in_reply_to)
            .scalar_subquery()
        ),
        execution_options={"synchronize_session": False},
    )
    by_network: dict[str, list[str]] = {}
    for _id, network, external_id in inserted:
        by_network.setdefault(network, []).append(external_id)
    for network, external_ids in by_network.items():
        session.execute(
            update(Post)
            .where(
                Post.network == network,
                Post.in_reply_to.in_(external_ids),
                Post.parent_id.is_(None),
            )
            .values(
                parent_id=select(parent.id)
                .where(parent.network == Post.network, parent.external_id == Post.in_reply_to)
                .scalar_subquery()
            ),
            execution_options={"synchronize_session": False},
        )


def run_batch(
    session: Session,
    workspace_id: int,
    posts: list[PostIn],
    index: QueryIndex,
    raws: Sequence[dict[str, Any] | None] | None = None,
) -> BatchResult:
    """Run the whole chain over one batch of validated posts (the caller commits)."""
    items = [
        Item(post=post, raw=raws[i] if raws is not None else None) for i, post in enumerate(posts)
    ]
    return store(session, workspace_id, match(enrich(normalise(items)), index))


def run_batch_isolating_failures(
    session: Session,
    workspace_id: int,
    posts: list[PostIn],
    index: QueryIndex,
    raws: Sequence[dict[str, Any] | None] | None = None,
) -> tuple[BatchResult, dict[int, str]]:
    """Run a batch; if the database refuses it, run its posts one by one so that one bad post
    is rejected (by position, with the database's reason) instead of blocking the others."""
    try:
        with session.begin_nested():
            return run_batch(session, workspace_id, posts, index, raws), {}
    except DBAPIError:
        pass
    total = BatchResult()
    failures: dict[int, str] = {}
    for position, post in enumerate(posts):
        raw = [raws[position]] if raws is not None else None
        try:
            with session.begin_nested():
                result = run_batch(session, workspace_id, [post], index, raw)
        except DBAPIError as error:
            failures[position] = f"refused by the database: {str(error.orig).splitlines()[0]}"
            continue
        total.imported += result.imported
        total.present += result.present
        total.matches += result.matches
        total.new_post_ids.extend(result.new_post_ids)
    return total, failures
