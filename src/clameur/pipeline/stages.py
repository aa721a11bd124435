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
from clameur.nlp.analysis import Analysis, Analyzer, PostText
from clameur.pipeline.schemas import PostIn
from clameur.query import PostDoc, QueryIndex
from clameur.store.bulk import insert_rows


@dataclass(slots=True)
class Item:
    """A post on its way through the pipeline."""

    post: PostIn
    text: str = ""
    analysis: Analysis = field(default_factory=Analysis)
    matches: list[int] = field(default_factory=list)
    raw: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """The post's key for the near-duplicate memory."""
        return f"{self.post.network}:{self.post.id}"


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


def enrich(items: list[Item], analyzer: Analyzer) -> list[Item]:
    """Language, sentiment, intents, hostility, near-duplicates and influence; what the source
    already said (language, sentiment, intents) is kept."""
    posts = []
    for item in items:
        post = item.post
        author = post.author
        posts.append(
            PostText(
                key=item.key,
                text=item.text,
                lang=post.lang,
                followers=author.followers if author else 0,
                verified=author.verified if author else False,
                metrics=post.metrics,
                sentiment=post.sentiment,
                intents=post.intents or None,
            )
        )
    for item, analysis in zip(items, analyzer.analyze(posts), strict=True):
        item.analysis = analysis
    return items


def match(items: list[Item], index: QueryIndex) -> list[Item]:
    """Run the saved queries over each post."""
    if not len(index):
        return items
    for item in items:
        post = item.post
        doc = PostDoc.from_fields(
            item.text,
            lang=item.analysis.lang,
            network=post.network,
            author=post.author.handle if post.author else None,
            sentiment=item.analysis.sentiment,
            intents=tuple(item.analysis.intents),
        )
        item.matches = index.match(doc)
    return items


AUTHOR_COLUMNS = ("network", "handle", "display_name", "followers", "verified", "updated_at")
POST_COLUMNS = (
    "sentiment_score",
    "hostile",
    "influence",
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
        analysis = item.analysis
        rows.append(
            (
                analysis.sentiment_score,
                analysis.hostile,
                analysis.influence,
                workspace_id,
                network,
                external_id,
                post.url,
                authors.get((network, post.author.handle)) if post.author else None,
                item.text,
                analysis.lang,
                post.created_at,
                now,
                post.metrics,
                post.in_reply_to,
                post.conversation_id or post.in_reply_to or external_id,
                analysis.sentiment,
                analysis.intents,
                analysis.enrichments,
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
        _link_duplicates(session, [unique[(network, ext)] for _id, network, ext in inserted])
    session.flush()
    return result


def _link_duplicates(session: Session, items: list[Item]) -> None:
    """Point near-duplicates at their original and count each original's group."""
    pairs = [(item, item.analysis.duplicate_of) for item in items if item.analysis.duplicate_of]
    if not pairs:
        return
    posts = _table(Post)
    keys = {original for _item, original in pairs}
    by_network: dict[str, list[str]] = {}
    for key in keys:
        network, external_id = key.split(":", 1)
        by_network.setdefault(network, []).append(external_id)
    ids: dict[str, int] = {}
    for network, external_ids in by_network.items():
        for post_id, external_id in session.execute(
            select(posts.c.id, posts.c.external_id).where(
                posts.c.network == network, posts.c.external_id.in_(external_ids)
            )
        ):
            ids[f"{network}:{external_id}"] = post_id
    links = [
        {"n": item.post.network, "e": item.post.id, "original": ids[original]}
        for item, original in pairs
        if original in ids
    ]
    if not links:
        return
    session.execute(
        update(posts)
        .where(posts.c.network == bindparam("n"), posts.c.external_id == bindparam("e"))
        .values(duplicate_of_id=bindparam("original")),
        links,
    )
    grown = Counter(link["original"] for link in links)
    session.execute(
        update(posts)
        .where(posts.c.id == bindparam("pid"))
        .values(duplicate_count=posts.c.duplicate_count + bindparam("k")),
        [{"pid": post_id, "k": k} for post_id, k in grown.items()],
    )


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
    analyzer: Analyzer | None = None,
) -> BatchResult:
    """Run the whole chain over one batch of validated posts (the caller commits).

    Pass the same `analyzer` for successive batches so near-duplicates are found across them.
    """
    items = [
        Item(post=post, raw=raws[i] if raws is not None else None) for i, post in enumerate(posts)
    ]
    analyzer = analyzer or Analyzer()
    return store(session, workspace_id, match(enrich(normalise(items), analyzer), index))


def run_batch_isolating_failures(
    session: Session,
    workspace_id: int,
    posts: list[PostIn],
    index: QueryIndex,
    raws: Sequence[dict[str, Any] | None] | None = None,
    analyzer: Analyzer | None = None,
) -> tuple[BatchResult, dict[int, str]]:
    """Run a batch; if the database refuses it, run its posts one by one so that one bad post
    is rejected (by position, with the database's reason) instead of blocking the others."""
    try:
        with session.begin_nested():
            return run_batch(session, workspace_id, posts, index, raws, analyzer), {}
    except DBAPIError:
        pass
    total = BatchResult()
    failures: dict[int, str] = {}
    for position, post in enumerate(posts):
        raw = [raws[position]] if raws is not None else None
        try:
            with session.begin_nested():
                result = run_batch(session, workspace_id, [post], index, raw, analyzer)
        except DBAPIError as error:
            failures[position] = f"refused by the database: {str(error.orig).splitlines()[0]}"
            continue
        total.imported += result.imported
        total.present += result.present
        total.matches += result.matches
        total.new_post_ids.extend(result.new_post_ids)
    return total, failures


# Recent posts replayed into a new near-duplicate memory, so a restart still groups a wave.
SEED_POSTS = 20_000


def new_analyzer(session: Session, workspace_id: int, seed_posts: int = SEED_POSTS) -> Analyzer:
    """An analyzer whose near-duplicate memory knows the workspace's most recent posts."""
    posts = _table(Post)
    recent = session.execute(
        select(posts.c.network, posts.c.external_id, posts.c.text)
        .where(posts.c.workspace_id == workspace_id)
        .order_by(posts.c.id.desc())
        .limit(seed_posts)
    ).all()
    analyzer = Analyzer()
    analyzer.detector.seed(
        (f"{network}:{external_id}", text) for network, external_id, text in reversed(recent)
    )
    return analyzer
