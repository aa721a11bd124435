"""Listening: saved queries and the stream of posts they select."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from clameur.kit.errors import Conflict, NotFound
from clameur.kit.time import utcnow
from clameur.models import Author, Match, Post, SavedQuery
from clameur.pipeline.jobs import enqueue_job
from clameur.query import PostDoc, Query, QueryIndex, parse
from clameur.store.dialect import clauses_filter, full_text_filter, insert_for, is_sparse
from clameur.store.engine import unit_of_work

BACKFILL_JOB = "listening.backfill_query"
# How many candidate posts an ad-hoc query may examine for one page before it hands back a cursor.
SCAN_BUDGET = 20_000


def load_query_index(session: Session, workspace_id: int) -> QueryIndex:
    """The prefilter over the workspace's active saved queries."""
    rows = session.execute(
        select(SavedQuery.id, SavedQuery.query).where(
            SavedQuery.workspace_id == workspace_id, SavedQuery.active.is_(True)
        )
    ).all()
    return QueryIndex({row.id: parse(row.query) for row in rows})


def queries_fingerprint(session: Session, workspace_id: int) -> tuple[int, int]:
    """Changes whenever a saved query of the workspace is added, edited or removed."""
    count, revisions = session.execute(
        select(
            func.count(SavedQuery.id),
            func.coalesce(func.sum(SavedQuery.revision + SavedQuery.id), 0),
        ).where(SavedQuery.workspace_id == workspace_id, SavedQuery.active.is_(True))
    ).one()
    return int(count), int(revisions)


def list_queries(session: Session, workspace_id: int, limit: int | None = None) -> list[SavedQuery]:
    """The workspace's saved queries, by name (the first `limit` of them if given)."""
    statement = (
        select(SavedQuery).where(SavedQuery.workspace_id == workspace_id).order_by(SavedQuery.name)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def count_queries(session: Session, workspace_id: int) -> int:
    """How many saved queries the workspace has."""
    return int(
        session.scalar(
            select(func.count(SavedQuery.id)).where(SavedQuery.workspace_id == workspace_id)
        )
        or 0
    )


def get_query(session: Session, workspace_id: int, query_id: int) -> SavedQuery:
    """One saved query of the workspace."""
    saved = session.get(SavedQuery, query_id)
    if saved is None or saved.workspace_id != workspace_id:
        raise NotFound(f"saved query {query_id} not found")
    return saved


def _check_name(session: Session, workspace_id: int, name: str, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise Conflict("a saved query needs a name")
    clash = session.scalar(
        select(SavedQuery.id).where(
            SavedQuery.workspace_id == workspace_id,
            SavedQuery.name == name,
            SavedQuery.id != (exclude or -1),
        )
    )
    if clash is not None:
        raise Conflict(f"a saved query named {name!r} already exists")
    return name


def create_query(
    session: Session,
    workspace_id: int,
    name: str,
    query: str,
    description: str = "",
    competitor_id: int | None = None,
    inbox: bool = False,
) -> SavedQuery:
    """Save a query (refused with its syntax error if malformed) and backfill its matches.
    With `inbox`, the posts it matches from then on also become inbox conversations."""
    parse(query)
    saved = SavedQuery(
        workspace_id=workspace_id,
        name=_check_name(session, workspace_id, name),
        query=query.strip(),
        description=description.strip(),
        competitor_id=competitor_id,
        inbox=inbox,
    )
    session.add(saved)
    session.flush()
    enqueue_job(session, BACKFILL_JOB, {"query_id": saved.id, "revision": saved.revision})
    return saved


def update_query(
    session: Session,
    workspace_id: int,
    query_id: int,
    name: str,
    query: str,
    description: str = "",
    competitor_id: int | None = None,
    inbox: bool | None = None,
) -> SavedQuery:
    """Edit a saved query; if its text changed, its matches are rebuilt."""
    saved = get_query(session, workspace_id, query_id)
    parse(query)
    saved.name = _check_name(session, workspace_id, name, exclude=query_id)
    saved.description = description.strip()
    saved.competitor_id = competitor_id
    if inbox is not None:
        saved.inbox = inbox
    saved.updated_at = utcnow()
    if query.strip() != saved.query:
        saved.query = query.strip()
        saved.revision += 1
        session.flush()
        enqueue_job(session, BACKFILL_JOB, {"query_id": saved.id, "revision": saved.revision})
    session.flush()
    return saved


def delete_query(session: Session, workspace_id: int, query_id: int) -> None:
    """Remove a saved query and its matches."""
    saved = get_query(session, workspace_id, query_id)
    session.execute(delete(Match).where(Match.query_id == saved.id))
    session.delete(saved)
    session.flush()


def _doc(post: Post) -> PostDoc:
    return PostDoc.from_fields(
        post.text,
        lang=post.lang,
        network=post.network,
        author=post.author.handle if post.author else None,
        sentiment=post.sentiment,
        intents=tuple(post.intents or ()),
    )


def backfill_query(
    factory: sessionmaker[Session],
    query_id: int,
    revision: int,
    on_progress: Callable[[float], None] | None = None,
    chunk: int = 2000,
) -> int:
    """Rebuild a saved query's matches over stored posts, chunk by chunk; safe to run twice."""
    with unit_of_work(factory) as session:
        saved = session.get(SavedQuery, query_id)
        if saved is None or saved.revision != revision:
            return 0
        query = parse(saved.query)
        workspace_id = saved.workspace_id
        session.execute(delete(Match).where(Match.query_id == query_id))
        saved.match_count = 0
        bounds = session.execute(
            select(func.min(Post.id), func.max(Post.id)).where(Post.workspace_id == workspace_id)
        ).one()
    if bounds[0] is None:
        _mark_backfilled(factory, query_id, revision)
        return 0
    low, high = int(bounds[0]), int(bounds[1])
    found = 0
    start = low
    while start <= high:
        stop = start + chunk * 10
        with unit_of_work(factory) as session:
            current = session.scalar(select(SavedQuery.revision).where(SavedQuery.id == query_id))
            if current != revision:
                return found
            statement = (
                select(Post)
                .options(joinedload(Post.author))
                .where(Post.workspace_id == workspace_id, Post.id >= start, Post.id < stop)
            )
            clauses = query.fts_clauses()
            prefilter = clauses_filter(session, Post.id, clauses) if clauses else None
            if prefilter is not None:
                statement = statement.where(prefilter)
            rows = [
                {"query_id": query_id, "post_id": post.id, "created_at": post.created_at}
                for post in session.scalars(statement)
                if query.matches(_doc(post))
            ]
            if rows:
                insert = insert_for(session)
                session.execute(
                    insert(Match.__table__).on_conflict_do_nothing(
                        index_elements=["query_id", "created_at", "post_id"]
                    ),
                    rows,
                )
            found += len(rows)
        start = stop
        if on_progress:
            on_progress(min(1.0, (start - low) / max(1, high - low + 1)))
    _mark_backfilled(factory, query_id, revision)
    return found


def _mark_backfilled(factory: sessionmaker[Session], query_id: int, revision: int) -> None:
    with unit_of_work(factory) as session:
        saved = session.get(SavedQuery, query_id)
        if saved is not None and saved.revision == revision:
            saved.backfilled_revision = revision
            # Recount once: posts arriving during the backfill may have been matched twice.
            saved.match_count = int(
                session.scalar(select(func.count()).where(Match.query_id == query_id)) or 0
            )


@dataclass(slots=True)
class PostFilters:
    """What the listening page asks for."""

    query_id: int | None = None
    query_text: str | None = None
    networks: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    sentiments: list[str] = field(default_factory=list)
    hide_hostile: bool = False


@dataclass(slots=True)
class PostPage:
    """A page of posts, newest first, with the cursor of the next page."""

    posts: list[Post]
    next_cursor: str | None
    scanned_until: datetime | None = None
    exhausted_budget: bool = False


def encode_cursor(created_at: datetime, post_id: int) -> str:
    """An opaque keyset cursor."""
    raw = f"{created_at.isoformat()}|{post_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The position a cursor points at."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, post_id = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        return datetime.fromisoformat(stamp), int(post_id)
    except (ValueError, UnicodeDecodeError) as error:
        raise Conflict("invalid page cursor") from error


def list_posts(
    session: Session,
    workspace_id: int,
    filters: PostFilters,
    cursor: str | None = None,
    limit: int = 50,
) -> PostPage:
    """Posts newest first, filtered, with keyset pagination that stays fast on big tables."""
    query: Query | None = parse(filters.query_text) if filters.query_text else None
    if filters.query_id is not None:
        get_query(session, workspace_id, filters.query_id)
        order_time, order_id = Match.created_at, Match.post_id
        statement = select(Post).join(
            Match, and_(Match.post_id == Post.id, Match.query_id == filters.query_id)
        )
    else:
        order_time, order_id = Post.created_at, Post.id
        statement = select(Post)
    # Direct messages belong to the inbox, never to the public stream.
    statement = statement.where(Post.private.is_(False))
    if filters.networks:
        statement = statement.where(Post.network.in_(filters.networks))
    if filters.langs:
        statement = statement.where(Post.lang.in_(filters.langs))
    if filters.sentiments:
        statement = statement.where(Post.sentiment.in_(filters.sentiments))
    if filters.hide_hostile:
        statement = statement.where(or_(Post.hostile.is_(None), Post.hostile.is_(False)))
    if filters.since:
        statement = statement.where(order_time >= filters.since)
    if filters.until:
        statement = statement.where(order_time < filters.until)
    sparse = False
    if filters.search:
        text_filter = full_text_filter(session, Post.id, filters.search)
        if text_filter is not None:
            statement = statement.where(text_filter)
            sparse = sparse or is_sparse(text_filter)
    if query is not None:
        clauses = query.fts_clauses()
        prefilter = clauses_filter(session, Post.id, clauses) if clauses else None
        if prefilter is not None:
            statement = statement.where(prefilter)
            sparse = sparse or is_sparse(prefilter)
    if sparse and filters.query_id is None:
        # "+ 0" hides the workspace index from SQLite's planner: it then fetches the few posts
        # by id and sorts them, instead of walking a million rows in time order.
        statement = statement.where((Post.workspace_id + 0) == workspace_id)
    elif filters.query_id is None:
        statement = statement.where(Post.workspace_id == workspace_id)
    statement = statement.order_by(order_time.desc(), order_id.desc())

    def page_after(position: tuple[datetime, int] | None, size: int) -> list[Post]:
        paged = statement
        if position is not None:
            stamp, last_id = position
            paged = paged.where(
                or_(order_time < stamp, and_(order_time == stamp, order_id < last_id))
            )
        return list(session.scalars(paged.options(joinedload(Post.author)).limit(size)).unique())

    position = decode_cursor(cursor) if cursor else None
    if query is None:
        rows = page_after(position, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        after = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
        return PostPage(rows, after)

    # An ad-hoc query: the full-text prefilter narrows the candidates, the matcher decides.
    # Candidates are read as plain columns (no ORM objects); only the matches are loaded.
    light = statement.with_only_columns(
        Post.id,
        Post.created_at,
        Post.text,
        Post.lang,
        Post.network,
        Post.sentiment,
        Post.intents,
        Author.handle,
        maintain_column_froms=True,
    ).outerjoin(Author, Author.id == Post.author_id)

    def candidates_after(position: tuple[datetime, int] | None, size: int) -> list[Any]:
        # Rows of plain columns (id, created_at, text, ..., handle), not Post objects.
        paged = light
        if position is not None:
            stamp, last_id = position
            paged = paged.where(
                or_(order_time < stamp, and_(order_time == stamp, order_id < last_id))
            )
        return list(session.execute(paged.limit(size)))

    found: list[int] = []
    scanned = 0
    chunk = max(200, limit * 4)
    next_cursor: str | None = None
    exhausted = False
    while True:
        candidates = candidates_after(position, chunk)
        for row in candidates:
            scanned += 1
            position = (row.created_at, row.id)
            doc = PostDoc.from_fields(
                row.text,
                lang=row.lang,
                network=row.network,
                author=row[7],
                sentiment=row.sentiment,
                intents=tuple(row.intents or ()),
            )
            if query.matches(doc):
                found.append(row.id)
                if len(found) == limit:
                    next_cursor = encode_cursor(row.created_at, row.id)
                    break
        if next_cursor is not None or len(candidates) < chunk:
            break
        if scanned >= SCAN_BUDGET:
            assert position is not None
            next_cursor, exhausted = encode_cursor(*position), True
            break
    posts = {
        post.id: post
        for post in session.scalars(
            select(Post).options(joinedload(Post.author)).where(Post.id.in_(found))
        ).unique()
    }
    return PostPage(
        [posts[post_id] for post_id in found],
        next_cursor,
        scanned_until=position[0] if exhausted and position else None,
        exhausted_budget=exhausted,
    )
