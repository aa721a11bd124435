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
from sqlalchemy.orm import Session

from clameur.inbox.service import route_new_posts
from clameur.kit.text import normalise as normalise_text
from clameur.kit.time import utcnow
from clameur.models import Author, Match, Post, SavedQuery
from clameur.nlp import duplicates
from clameur.nlp.analysis import STAGES, Analysis, Analyzer, PostText
from clameur.pipeline.schemas import PostIn
from clameur.query import PostDoc, QueryIndex
from clameur.store.bulk import execute_in, insert_rows


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
    "private",
    "duplicate_of_id",
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
    rows: dict[tuple[str, str], list[Any]] = {}
    for key, item in unique.items():
        network, external_id = key
        post = item.post
        analysis = item.analysis
        rows[key] = [
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
            post.private,
            None,  # duplicate_of_id, set by _insert_posts
        ]
    inserted = _insert_posts(session, unique, rows)
    result.imported = len(inserted)
    result.present += len(unique) - len(inserted)
    result.new_post_ids = list(inserted.values())
    match_rows: list[tuple[int, Any, int]] = []
    per_query: Counter[int] = Counter()
    for key, post_id in inserted.items():
        item = unique[key]
        if item.matches:
            created_at = item.post.created_at
            match_rows.extend([(query_id, created_at, post_id) for query_id in item.matches])
            per_query.update(item.matches)
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
        _link_replies(session, inserted, unique)
    session.flush()
    return result


def _insert_posts(
    session: Session,
    unique: dict[tuple[str, str], Item],
    rows: dict[tuple[str, str], list[Any]],
) -> dict[tuple[str, str], int]:
    """Insert the posts with their near-duplicate link set in the same statement; returns the
    id of each post inserted (posts already stored are skipped).

    A duplicate whose original arrived in an earlier batch gets its id at once; one whose
    original is in this batch waits for the original's insert (a second statement). Originals
    count their group."""
    keys = {f"{network}:{external_id}": (network, external_id) for network, external_id in unique}
    wanted = {
        key: item.analysis.duplicate_of
        for key, item in unique.items()
        if item.analysis.duplicate_of
    }
    ids = post_ids(session, {original for original in wanted.values() if original not in keys})
    inserted: dict[tuple[str, str], int] = {}
    pending = dict(rows)
    posts = _table(Post)
    while pending:
        ready: list[list[Any]] = []
        waiting: dict[tuple[str, str], list[Any]] = {}
        for key, row in pending.items():
            original = wanted.get(key)
            if original is None or original in ids:
                row[-1] = ids.get(original) if original else None
                ready.append(row)
            elif keys[original] in pending:
                waiting[key] = row
            else:  # the original is in this batch but was stored before: look it up
                found = post_ids(session, {original})
                ids.update(found)
                row[-1] = found.get(original)
                ready.append(row)
        if not ready:  # cannot happen with one original per group; never loop forever
            ready, waiting = list(waiting.values()), {}
            for row in ready:
                row[-1] = None
        for post_id, network, external_id in insert_rows(
            session,
            posts,
            POST_COLUMNS,
            ready,
            conflict=("network", "external_id"),
            returning=("id", "network", "external_id"),
        ):
            inserted[(network, external_id)] = post_id
            ids[f"{network}:{external_id}"] = post_id
        pending = waiting
    grown = Counter(rows[key][-1] for key in inserted if rows[key][-1] is not None)
    if grown:
        session.execute(
            update(posts)
            .where(posts.c.id == bindparam("pid"))
            .values(duplicate_count=posts.c.duplicate_count + bindparam("k")),
            [{"pid": post_id, "k": k} for post_id, k in grown.items()],
        )
    return inserted


_POSTS = cast(Table, Post.__table__)
# Expanding IN: compiled once, the list is bound at each execution.
_IDS_BY_EXTERNAL = select(_POSTS.c.id, _POSTS.c.external_id).where(
    _POSTS.c.network == bindparam("network"),
    _POSTS.c.external_id.in_(bindparam("external_ids", expanding=True)),
)


def post_ids(session: Session, keys: set[str]) -> dict[str, int]:
    """Stored post ids by "network:external_id" key."""
    by_network: dict[str, list[str]] = {}
    for key in keys:
        network, external_id = key.split(":", 1)
        by_network.setdefault(network, []).append(external_id)
    ids: dict[str, int] = {}
    for network, external_ids in by_network.items():
        for post_id, external_id in session.execute(
            _IDS_BY_EXTERNAL, {"network": network, "external_ids": external_ids}
        ):
            ids[f"{network}:{external_id}"] = post_id
    return ids


# New replies find their parent; stored replies waiting for a post that just arrived find it.
_PARENT_ID = (
    "(SELECT parent.id FROM posts AS parent "
    "WHERE parent.network = posts.network AND parent.external_id = posts.in_reply_to)"
)
_LINK_NEW_REPLIES = "UPDATE posts SET parent_id = " + _PARENT_ID + " WHERE posts.id IN ({values})"
_LINK_WAITING_REPLIES = (
    "UPDATE posts SET parent_id = " + _PARENT_ID + " WHERE posts.network = {param} "
    "AND posts.in_reply_to IN ({values}) AND posts.parent_id IS NULL"
)


def _link_replies(
    session: Session, inserted: dict[tuple[str, str], int], unique: dict[tuple[str, str], Item]
) -> None:
    """Point new replies at their parents, and waiting replies at their newly arrived parent."""
    replies = [post_id for key, post_id in inserted.items() if unique[key].post.in_reply_to]
    execute_in(session, _LINK_NEW_REPLIES, replies)
    by_network: dict[str, list[str]] = {}
    for network, external_id in inserted:
        by_network.setdefault(network, []).append(external_id)
    for network, external_ids in by_network.items():
        execute_in(session, _LINK_WAITING_REPLIES, external_ids, before=(network,))


def run_batch(
    session: Session,
    workspace_id: int,
    posts: list[PostIn],
    index: QueryIndex,
    raws: Sequence[dict[str, Any] | None] | None = None,
    analyzer: Analyzer | None = None,
) -> BatchResult:
    """Run the whole chain over one batch of validated posts (the caller commits); posts for
    the inbox then join their conversations.

    Pass the same `analyzer` for successive batches so near-duplicates are found across them.
    """
    items = [
        Item(post=post, raw=raws[i] if raws is not None else None) for i, post in enumerate(posts)
    ]
    analyzer = analyzer or Analyzer()
    result = store(session, workspace_id, match(enrich(normalise(items), analyzer), index))
    if result.new_post_ids:
        route_new_posts(session, workspace_id, result.new_post_ids)
    return result


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


def new_analyzer(
    session: Session,
    workspace_id: int,
    seed_posts: int = SEED_POSTS,
    stages: Sequence[str] = STAGES,
) -> Analyzer:
    """An analyzer whose near-duplicate memory knows the workspace's most recent posts."""
    if duplicates.ENRICHER_NAME not in stages:
        return Analyzer(stages=stages)
    posts = _table(Post)
    recent = session.execute(
        select(posts.c.network, posts.c.external_id, posts.c.text)
        .where(posts.c.workspace_id == workspace_id)
        .order_by(posts.c.id.desc())
        .limit(seed_posts)
    ).all()
    analyzer = Analyzer(stages=stages)
    analyzer.detector.seed(
        (f"{network}:{external_id}", text) for network, external_id, text in reversed(recent)
    )
    return analyzer
