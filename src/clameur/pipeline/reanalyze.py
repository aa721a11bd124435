"""Re-run the analysis over stored posts when a stage has a newer version (resumable)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from clameur.models import Author, Match, Post, SavedQuery
from clameur.nlp.analysis import Analyzer, PostText, versions
from clameur.pipeline.stages import post_ids
from clameur.query import PostDoc, parse
from clameur.query.ast import And, Field, Not, Or
from clameur.store.bulk import insert_rows
from clameur.store.engine import unit_of_work

ANALYSIS_FIELDS = {"sentiment", "intent"}


def uses_analysis(node: Any) -> bool:
    """True when a query's tree tests a field that the analysis sets (sentiment, intent)."""
    if isinstance(node, Field):
        return node.name in ANALYSIS_FIELDS
    if isinstance(node, Not):
        return uses_analysis(node.operand)
    if isinstance(node, And | Or):
        return any(uses_analysis(child) for child in node.operands)
    return False


def is_current(enrichments: dict[str, Any] | None, current: dict[str, str]) -> bool:
    """True when every stage's stored result comes from its current version (or the source)."""
    stored = enrichments or {}
    for name, version in current.items():
        entry = stored.get(name)
        if entry is None:
            return False
        if entry.get("version") not in (version, "source", "correction"):
            return False
    return True


@dataclass(slots=True)
class ReanalyzeProgress:
    """How far a re-analysis got."""

    scanned: int = 0
    updated: int = 0
    last_id: int = 0
    total: int = 0


def reanalyze(
    factory: sessionmaker[Session],
    workspace_id: int,
    chunk: int = 1000,
    on_progress: Callable[[ReanalyzeProgress], None] | None = None,
) -> ReanalyzeProgress:
    """Bring every post of the workspace to the current analysis versions, chunk by chunk.

    Each chunk commits on its own; posts already current are skipped, so an interrupted run
    simply continues where it stopped when started again. Saved queries that test `sentiment:`
    or `intent:` are re-matched for the posts whose analysis changed.
    """
    current = versions()
    progress = ReanalyzeProgress()
    analyzer = Analyzer()
    with unit_of_work(factory) as session:
        progress.total = int(
            session.scalar(select(func.count(Post.id)).where(Post.workspace_id == workspace_id))
            or 0
        )
        dependent = {
            row.id: parse(row.query)
            for row in session.execute(
                select(SavedQuery.id, SavedQuery.query).where(
                    SavedQuery.workspace_id == workspace_id, SavedQuery.active.is_(True)
                )
            )
            if uses_analysis(parse(row.query).node)
        }
    while True:
        with unit_of_work(factory) as session:
            rows = session.execute(
                select(
                    Post.id,
                    Post.network,
                    Post.external_id,
                    Post.text,
                    Post.lang,
                    Post.created_at,
                    Post.metrics,
                    Post.enrichments,
                    Post.duplicate_of_id,
                    Author.handle,
                    Author.followers,
                    Author.verified,
                )
                .outerjoin(Author, Author.id == Post.author_id)
                .where(Post.workspace_id == workspace_id, Post.id > progress.last_id)
                .order_by(Post.id)
                .limit(chunk)
            ).all()
            if not rows:
                break
            progress.scanned += len(rows)
            progress.last_id = rows[-1].id
            stale = [row for row in rows if not is_current(row.enrichments, current)]
            if stale:
                _update(session, analyzer, stale, dependent)
                progress.updated += len(stale)
        if on_progress:
            on_progress(progress)
    with unit_of_work(factory) as session:
        for query_id in dependent:
            session.execute(
                update(SavedQuery)
                .where(SavedQuery.id == query_id)
                .values(
                    match_count=select(func.count())
                    .where(Match.query_id == query_id)
                    .scalar_subquery()
                )
            )
    return progress


def _kept(enrichments: dict[str, Any], name: str) -> Any:
    entry = (enrichments or {}).get(name) or {}
    return entry.get("value") if entry.get("version") in ("source", "correction") else None


def _relink_duplicates(session: Session, rows: list[Any], results: list[Any]) -> None:
    """Point each post at the original its new analysis found, and keep the originals' group
    counts exact (a post that changes group leaves the old one)."""
    ids = post_ids(session, {result.duplicate_of for result in results if result.duplicate_of})
    changes = []
    for row, result in zip(rows, results, strict=True):
        original = ids.get(result.duplicate_of) if result.duplicate_of else None
        if original != row.duplicate_of_id:
            changes.append((row.id, row.duplicate_of_id, original))
    if not changes:
        return
    posts = cast(Table, Post.__table__)
    session.execute(
        update(posts).where(posts.c.id == bindparam("pid")).values(duplicate_of_id=bindparam("o")),
        [{"pid": post_id, "o": new} for post_id, _old, new in changes],
    )
    counts: Counter[int] = Counter()
    for _post_id, old, new in changes:
        if old is not None:
            counts[old] -= 1
        if new is not None:
            counts[new] += 1
    session.execute(
        update(posts)
        .where(posts.c.id == bindparam("pid"))
        .values(duplicate_count=posts.c.duplicate_count + bindparam("k")),
        [{"pid": post_id, "k": k} for post_id, k in counts.items() if k],
    )


def _update(
    session: Session, analyzer: Analyzer, rows: list[Any], dependent: dict[int, Any]
) -> None:
    texts = [
        PostText(
            key=f"{row.network}:{row.external_id}",
            text=row.text,
            lang=_kept(row.enrichments, "language"),
            followers=row.followers or 0,
            verified=bool(row.verified),
            metrics=row.metrics,
            sentiment=_kept(row.enrichments, "sentiment"),
            intents=_kept(row.enrichments, "intent"),
        )
        for row in rows
    ]
    results = analyzer.analyze(texts)
    for row, result in zip(rows, results, strict=True):
        # Corrections and source values stay as they were recorded.
        for name, entry in (row.enrichments or {}).items():
            if entry.get("version") in ("source", "correction"):
                result.enrichments[name] = entry
    posts = cast(Table, Post.__table__)
    session.execute(
        update(posts)
        .where(posts.c.id == bindparam("pid"))
        .values(
            lang=bindparam("lang"),
            sentiment=bindparam("sentiment"),
            sentiment_score=bindparam("sentiment_score"),
            intents=bindparam("intents"),
            hostile=bindparam("hostile"),
            influence=bindparam("influence"),
            enrichments=bindparam("enrichments"),
        ),
        [
            {
                "pid": row.id,
                "lang": result.lang,
                "sentiment": result.sentiment,
                "sentiment_score": result.sentiment_score,
                "intents": result.intents,
                "hostile": result.hostile,
                "influence": result.influence,
                "enrichments": result.enrichments,
            }
            for row, result in zip(rows, results, strict=True)
        ],
    )
    _relink_duplicates(session, rows, results)
    if not dependent:
        return
    matches = cast(Table, Match.__table__)
    keys = [(query_id, row.created_at, row.id) for query_id in dependent for row in rows]
    session.execute(
        delete(matches).where(
            matches.c.query_id == bindparam("q"),
            matches.c.created_at == bindparam("t"),
            matches.c.post_id == bindparam("p"),
        ),
        [{"q": q, "t": t, "p": p} for q, t, p in keys],
    )
    found: list[tuple[int, Any, int]] = []
    for row, result in zip(rows, results, strict=True):
        doc = PostDoc.from_fields(
            row.text,
            lang=result.lang,
            network=row.network,
            author=row.handle,
            sentiment=result.sentiment,
            intents=tuple(result.intents),
        )
        found.extend(
            (query_id, row.created_at, row.id)
            for query_id, query in dependent.items()
            if query.matches(doc)
        )
    insert_rows(
        session,
        matches,
        ("query_id", "created_at", "post_id"),
        found,
        conflict=("query_id", "created_at", "post_id"),
    )
