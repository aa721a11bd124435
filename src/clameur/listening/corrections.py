"""People correct what the analysis said about a post; corrections are kept for retraining."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clameur.kit.errors import ClameurError, NotFound
from clameur.kit.time import utcnow
from clameur.models import Correction, Match, Post, SavedQuery
from clameur.pipeline.schemas import INTENTS, SENTIMENTS
from clameur.query import PostDoc, parse
from clameur.store.bulk import insert_rows

FIELDS = ("sentiment", "intents", "hostile")
# The enrichment each corrected field belongs to.
ENRICHMENT_OF = {"sentiment": "sentiment", "intents": "intent", "hostile": "hostility"}


def _clean(field: str, value: Any) -> Any:
    if field == "sentiment":
        if value not in SENTIMENTS:
            raise ClameurError(f"sentiment must be one of {', '.join(SENTIMENTS)}")
        return value
    if field == "intents":
        values = [value] if isinstance(value, str) else list(value or [])
        unknown = [v for v in values if v not in INTENTS]
        if unknown:
            raise ClameurError(f"unknown intent {unknown[0]!r} (expected {', '.join(INTENTS)})")
        return [i for i in INTENTS if i in values]
    if field == "hostile":
        if not isinstance(value, bool):
            raise ClameurError("hostile must be true or false")
        return value
    raise ClameurError(f"cannot correct {field!r} (only {', '.join(FIELDS)})")


def correct_post(
    session: Session, workspace_id: int, post_id: int, user_id: int | None, field: str, value: Any
) -> Post:
    """Record a person's correction, apply it to the post and re-match the saved queries
    that test sentiment or intent."""
    post = session.get(Post, post_id)
    if post is None or post.workspace_id != workspace_id:
        raise NotFound(f"post {post_id} not found")
    value = _clean(field, value)
    previous = getattr(post, field)
    session.add(
        Correction(post_id=post.id, user_id=user_id, field=field, value=value, previous=previous)
    )
    setattr(post, field, value)
    if field == "sentiment":
        post.sentiment_score = None
    enrichments = dict(post.enrichments or {})
    enrichments[ENRICHMENT_OF[field]] = {
        "version": "correction",
        "value": value,
        "by": user_id,
        "at": utcnow().isoformat(),
    }
    post.enrichments = enrichments
    session.flush()
    if field != "hostile":
        _rematch(session, post)
    return post


def _rematch(session: Session, post: Post) -> None:
    from clameur.pipeline.reanalyze import uses_analysis

    rows = session.execute(
        select(SavedQuery.id, SavedQuery.query).where(
            SavedQuery.workspace_id == post.workspace_id, SavedQuery.active.is_(True)
        )
    ).all()
    doc = PostDoc.from_fields(
        post.text,
        lang=post.lang,
        network=post.network,
        author=post.author.handle if post.author else None,
        sentiment=post.sentiment,
        intents=tuple(post.intents or ()),
    )
    for row in rows:
        query = parse(row.query)
        if not uses_analysis(query.node):
            continue
        existing = session.get(Match, (row.id, post.created_at, post.id))
        wanted = query.matches(doc)
        saved = session.get(SavedQuery, row.id)
        assert saved is not None
        if wanted and existing is None:
            insert_rows(
                session,
                Match.__table__,  # type: ignore[arg-type]
                ("query_id", "created_at", "post_id"),
                [(row.id, post.created_at, post.id)],
                conflict=("query_id", "created_at", "post_id"),
            )
            saved.match_count += 1
        elif not wanted and existing is not None:
            session.delete(existing)
            saved.match_count = max(0, saved.match_count - 1)
    session.flush()


def training_corrections(session: Session) -> dict[str, list[Any]]:
    """The latest correction of each post and field, shaped for the training functions:
    sentiment (text, lang, label), intents (text, lang, [intents]), hostile (text, lang, bool)."""
    latest: dict[tuple[int, str], Correction] = {}
    for correction in session.scalars(select(Correction).order_by(Correction.id)):
        latest[(correction.post_id, correction.field)] = correction
    out: dict[str, list[Any]] = {field: [] for field in FIELDS}
    posts = {
        post.id: post
        for post in session.scalars(
            select(Post).where(Post.id.in_({post_id for post_id, _ in latest}))
        )
    }
    for (post_id, field), correction in latest.items():
        post = posts.get(post_id)
        if post is not None:
            out[field].append((post.text, post.lang, correction.value))
    return out
