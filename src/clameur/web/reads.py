"""Small read-only lookups the web needs on top of listening.service (candidates to move there)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clameur.kit.errors import NotFound
from clameur.listening.service import (
    PostFilters,
    count_queries,
    decode_cursor,
    list_posts,
    list_queries,
)
from clameur.models import Post, SavedQuery, User
from clameur.query import parse
from clameur.web.cards import corrections_of

# The most new posts one poll of the listening page brings in.
NEWER_LIMIT = 100
# The most pages read to fill one page when hostile posts are left out.
# The most copies listed under an original.
COPIES_LIMIT = 100


@dataclass(slots=True)
class QuerySummary:
    """A saved query with how many posts it matched and whether its backfill is done."""

    saved: SavedQuery
    matches: int

    @property
    def up_to_date(self) -> bool:
        """True once the past posts were searched for the current version of the query."""
        return self.saved.backfilled_revision >= self.saved.revision


@dataclass(slots=True)
class NewerPosts:
    """The posts that arrived after a given one, newest first."""

    posts: list[Post]
    more: bool


def match_counts(session: Session, query_ids: list[int]) -> dict[int, int]:
    """How many posts each saved query matched."""
    if not query_ids:
        return {}
    rows = session.execute(
        select(SavedQuery.id, SavedQuery.match_count).where(SavedQuery.id.in_(query_ids))
    ).all()
    counts = {query_id: 0 for query_id in query_ids}
    counts.update({query_id: int(count) for query_id, count in rows})
    return counts


def query_summaries(session: Session, workspace_id: int) -> list[QuerySummary]:
    """The workspace's saved queries, by name, with their match counts."""
    saved = list_queries(session, workspace_id)
    counts = match_counts(session, [each.id for each in saved])
    return [QuerySummary(each, counts[each.id]) for each in saved]


def summary_of(session: Session, saved: SavedQuery) -> QuerySummary:
    """One saved query with its match count."""
    return QuerySummary(saved, match_counts(session, [saved.id])[saved.id])


def get_post(session: Session, workspace_id: int, post_id: int) -> Post:
    """One post of the workspace."""
    post = session.get(Post, post_id)
    if post is None or post.workspace_id != workspace_id:
        raise NotFound(f"post {post_id} not found")
    return post


def analysis_query(query_text: str | None, sentiment: str = "", intent: str = "") -> str | None:
    """The ad-hoc query narrowed to a sentiment and an intent, in the query language.

    The person's query is parsed alone first, so that a syntax error points into what they
    typed; then it is wrapped in parentheses, so that its ORs stay inside."""
    conditions = [
        f"{name}:{value}" for name, value in (("sentiment", sentiment), ("intent", intent)) if value
    ]
    if not query_text:
        return " AND ".join(conditions) or None
    if not conditions:
        return query_text
    parse(query_text)
    return " AND ".join([f"({query_text})", *conditions])


def posts_newer_than(
    session: Session,
    workspace_id: int,
    filters: PostFilters,
    after: str,
    limit: int = NEWER_LIMIT,
) -> NewerPosts:
    """Posts that sort before the cursor `after` (newer), for the same filters, newest first."""
    stamp, last_id = decode_cursor(after)
    since = stamp if filters.since is None else max(filters.since, stamp)
    narrowed = replace(filters, since=since)
    found: list[Post] = []
    cursor: str | None = None
    while True:
        page = list_posts(session, workspace_id, narrowed, cursor=cursor, limit=limit)
        found.extend(post for post in page.posts if _after(post, stamp, last_id))
        cursor = page.next_cursor
        if cursor is None or len(found) >= limit:
            break
    return NewerPosts(found[:limit], more=len(found) > limit or cursor is not None)


def _after(post: Post, stamp: datetime, last_id: int) -> bool:
    return (post.created_at, post.id) > (stamp, last_id)


def copies_of(
    session: Session, workspace_id: int, post_id: int, limit: int = COPIES_LIMIT
) -> list[Post]:
    """The near-duplicates grouped under an original, oldest first."""
    return list(
        session.scalars(
            select(Post)
            .where(Post.workspace_id == workspace_id, Post.duplicate_of_id == post_id)
            .order_by(Post.created_at, Post.id)
            .limit(limit)
        ).unique()
    )


def corrector_names(session: Session, posts: list[Post]) -> dict[int, str]:
    """The names of the people who corrected these posts, by user id."""
    ids = {mark.by for post in posts for mark in corrections_of(post) if mark.by is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()
    return {user_id: name for user_id, name in rows}


SIDEBAR_LIMIT = 12


def sidebar(session: Session, workspace_id: int) -> dict[str, Any]:
    """The first saved queries for the sidebar, and how many there are in all."""
    return {
        "sidebar_queries": list_queries(session, workspace_id, limit=SIDEBAR_LIMIT),
        "sidebar_total": count_queries(session, workspace_id),
    }
