from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from builders import make_record
from clameur.listening.service import create_query
from clameur.models import InboundItem, Job, Match, Post, SavedQuery, Workspace
from clameur.pipeline.jobs import RetryableError, enqueue_job, run_one_job
from clameur.pipeline.runner import Runner, enqueue_posts
from clameur.store.engine import unit_of_work


def _workspace(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        workspace = Workspace(slug="acme", name="Acme")
        session.add(workspace)
        session.flush()
        return workspace.id


def test_the_runner_stores_queued_posts_and_rejects_malformed_ones(
    factory: sessionmaker[Session],
) -> None:
    ws = _workspace(factory)
    with unit_of_work(factory) as session:
        enqueue_posts(
            session, ws, "test", [make_record(text="bonjour"), {"id": "x"}, make_record()]
        )
    Runner(factory, batch_size=2).drain()
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count(Post.id))) == 2
        statuses = dict(
            session.execute(
                select(InboundItem.status, func.count()).group_by(InboundItem.status)
            ).all()
        )
        assert statuses == {"done": 2, "rejected": 1}
        rejected = session.scalars(
            select(InboundItem).where(InboundItem.status == "rejected")
        ).one()
        assert "network: is required" in (rejected.error or "")


def test_a_queued_post_delivered_twice_is_stored_once(factory: sessionmaker[Session]) -> None:
    ws = _workspace(factory)
    record = make_record()
    with unit_of_work(factory) as session:
        enqueue_posts(session, ws, "test", [record, dict(record)])
    Runner(factory).drain()
    with unit_of_work(factory) as session:
        enqueue_posts(session, ws, "test", [dict(record)])
    Runner(factory).drain()
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count(Post.id))) == 1


def test_a_new_saved_query_is_backfilled_over_stored_posts(factory: sessionmaker[Session]) -> None:
    ws = _workspace(factory)
    with unit_of_work(factory) as session:
        enqueue_posts(
            session,
            ws,
            "test",
            [make_record(text="La navette est en retard"), make_record(text="Beau concert")],
        )
    Runner(factory).drain()
    with unit_of_work(factory) as session:
        query_id = create_query(session, ws, "Navettes", "navette*").id
    Runner(factory).drain()
    with unit_of_work(factory) as session:
        matched = session.scalars(
            select(Post.text)
            .join(Match, Match.post_id == Post.id)
            .where(Match.query_id == query_id)
        ).all()
        assert matched == ["La navette est en retard"]
        saved = session.get(SavedQuery, query_id)
        assert saved is not None and saved.backfilled_revision == saved.revision
        job = session.scalars(select(Job)).one()
        assert (job.status, job.progress) == ("done", 1.0)


def test_a_retryable_job_failure_is_rescheduled_with_its_delay(
    factory: sessionmaker[Session],
) -> None:
    calls: list[dict] = []

    def flaky(_factory, payload, _progress):  # type: ignore[no-untyped-def]
        calls.append(payload)
        raise RetryableError("rate limited", delay=120)

    with unit_of_work(factory) as session:
        enqueue_job(session, "test.flaky", {"n": 1})
    assert run_one_job(factory, {"test.flaky": flaky}, "w1") is True
    # Not due again before its delay.
    assert run_one_job(factory, {"test.flaky": flaky}, "w1") is False
    with unit_of_work(factory) as session:
        job = session.scalars(select(Job)).one()
        assert (job.status, job.attempts) == ("pending", 1)
        assert "rate limited" in (job.last_error or "")
        assert (job.run_after - job.created_at).total_seconds() > 100
    assert calls == [{"n": 1}]


def test_saved_queries_keep_a_running_count_of_their_matches(
    factory: sessionmaker[Session],
) -> None:
    ws = _workspace(factory)
    with unit_of_work(factory) as session:
        enqueue_posts(session, ws, "test", [make_record(text="navette une"), make_record()])
    Runner(factory).drain()
    with unit_of_work(factory) as session:
        query_id = create_query(session, ws, "Navettes", "navette").id
    Runner(factory).drain()
    with unit_of_work(factory) as session:
        enqueue_posts(session, ws, "test", [make_record(text="navette deux")])
    Runner(factory).drain()
    with unit_of_work(factory) as session:
        saved = session.get(SavedQuery, query_id)
        assert saved is not None and saved.match_count == 2
