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
from clameur.models import Post, SavedQuery

# The most new posts one poll of the listening page brings in.
NEWER_LIMIT = 100


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


def posts_newer_than(
    session: Session, workspace_id: int, filters: PostFilters, after: str, limit: int = NEWER_LIMIT
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


SIDEBAR_LIMIT = 12


def sidebar(session: Session, workspace_id: int) -> dict[str, Any]:
    """The first saved queries for the sidebar, and how many there are in all."""
    return {
        "sidebar_queries": list_queries(session, workspace_id, limit=SIDEBAR_LIMIT),
        "sidebar_total": count_queries(session, workspace_id),
    }
