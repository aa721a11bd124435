from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from builders import make_record
from clameur.listening.service import create_query
from clameur.models import Match, Post, Workspace
from clameur.pipeline.reanalyze import reanalyze
from clameur.pipeline.runner import Runner, enqueue_posts
from clameur.store.engine import unit_of_work


def test_reanalyze_updates_posts_analysed_by_an_older_version_and_only_them(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        workspace = Workspace(slug="acme", name="Acme")
        session.add(workspace)
        session.flush()
        ws = workspace.id
        create_query(session, ws, "Angry", "sentiment:negative")
        enqueue_posts(
            session,
            ws,
            "test",
            [
                make_record(text="Service client honteux, toujours pas remboursé, scandale"),
                make_record(text="Quel concert magnifique hier soir, merci !"),
            ],
        )
    Runner(factory).drain()
    with unit_of_work(factory) as session:
        angry = session.scalars(select(Post).where(Post.text.like("Service%"))).one()
        # Pretend an older model said "positive".
        stale = dict(angry.enrichments)
        stale["sentiment"] = {"version": "sentiment-old", "value": "positive"}
        session.execute(
            update(Post).where(Post.id == angry.id).values(sentiment="positive", enrichments=stale)
        )
        session.execute(Match.__table__.delete())
    first = reanalyze(factory, ws, chunk=1)
    second = reanalyze(factory, ws, chunk=1)
    assert (first.scanned, first.updated) == (2, 1)
    assert second.updated == 0
    with unit_of_work(factory) as session:
        post = session.get(Post, angry.id)
        assert post is not None and post.sentiment == "negative"
        assert session.scalars(select(Match.post_id)).all() == [angry.id]
