"""Radar series: posts counted once into their buckets, incrementally, per series."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import BASE_TIME, add_posts, make_record, make_workspace
from clameur.kit import hll
from clameur.listening.service import create_query, load_query_index
from clameur.models import Competitor, RadarBucket, RadarSeries, RadarTerm
from clameur.radar.series import bucket_start, rebuild, update_series
from clameur.radar.service import share_of_voice, summary


def _records(count: int, start_minute: int = 0, **overrides: object) -> list[dict[str, object]]:
    return [
        make_record(
            created_at=(BASE_TIME + timedelta(minutes=start_minute + i)).isoformat(),
            **overrides,
        )
        for i in range(count)
    ]


def _totals(session: Session, key: str, grain: str = "h1") -> tuple[int, int]:
    series = session.scalars(select(RadarSeries).where(RadarSeries.key == key)).one()
    volume, negative = session.execute(
        select(func.sum(RadarBucket.volume), func.sum(RadarBucket.negative)).where(
            RadarBucket.series_id == series.id, RadarBucket.grain == grain
        )
    ).one()
    return int(volume or 0), int(negative or 0)


def test_bucket_start_rounds_down_to_five_minutes_hours_and_days() -> None:
    moment = BASE_TIME + timedelta(minutes=13, seconds=42)
    assert bucket_start(moment) == BASE_TIME + timedelta(minutes=10)
    assert bucket_start(moment, "h1") == BASE_TIME
    assert bucket_start(moment, "d1") == BASE_TIME.replace(hour=0)


def test_each_post_is_counted_once_however_many_passes_run(session: Session) -> None:
    workspace = make_workspace(session)
    add_posts(
        session,
        workspace.id,
        _records(30, text="Le festival est une arnaque", sentiment="negative"),
    )
    add_posts(
        session,
        workspace.id,
        _records(10, 40, text="Super concert hier soir", sentiment="positive"),
    )
    first = update_series(session, workspace.id, limit=25)
    second = update_series(session, workspace.id, limit=25)
    third = update_series(session, workspace.id, limit=25)
    assert (first.posts, second.posts, third.posts) == (25, 15, 0)
    for grain in ("m5", "h1", "d1"):
        assert _totals(session, "workspace", grain) == (40, 30)


def test_new_posts_are_added_to_the_existing_buckets(session: Session) -> None:
    workspace = make_workspace(session)
    add_posts(session, workspace.id, _records(5))
    update_series(session, workspace.id)
    add_posts(session, workspace.id, _records(7, 1))
    update_series(session, workspace.id)
    assert _totals(session, "workspace", "m5")[0] == 12
    rows = session.scalars(select(RadarBucket).where(RadarBucket.grain == "h1")).all()
    assert sum(r.volume for r in rows) == 12
    # The reach adds the followers of each post's author.
    assert sum(r.reach for r in rows) > 0


def test_queries_brand_and_competitors_each_get_their_series(session: Session) -> None:
    workspace = make_workspace(session)
    rival = Competitor(workspace_id=workspace.id, name="Rival")
    session.add(rival)
    session.flush()
    create_query(session, workspace.id, "Festival", "festival")
    create_query(session, workspace.id, "Rival", "rival", competitor_id=rival.id)
    index = load_query_index(session, workspace.id)
    add_posts(session, workspace.id, _records(6, text="Le festival commence"), index)
    add_posts(session, workspace.id, _records(3, 10, text="Rival annonce une date"), index)
    add_posts(session, workspace.id, _records(2, 20, text="Rien à voir"), index)
    update_series(session, workspace.id)
    assert _totals(session, "workspace")[0] == 11
    assert _totals(session, "brand")[0] == 6
    assert _totals(session, f"competitor:{rival.id}")[0] == 3
    chart = share_of_voice(session, workspace.id, "30d", BASE_TIME + timedelta(hours=1))
    shares = {v.key: round(v.share) for v in chart.voices}
    assert shares == {"brand": 67, f"competitor:{rival.id}": 33}
    # Any period: whole days from one date to another.
    day = BASE_TIME.replace(hour=0)
    chosen = share_of_voice(
        session, workspace.id, "24h", BASE_TIME + timedelta(days=9), day - timedelta(days=2), day
    )
    assert chosen.grain == "d1" and len(chosen.starts) == 3
    assert {v.key: v.volume for v in chosen.voices} == {"brand": 6, f"competitor:{rival.id}": 3}
    later = share_of_voice(
        session,
        workspace.id,
        "24h",
        BASE_TIME + timedelta(days=9),
        day + timedelta(days=1),
        day + timedelta(days=3),
    )
    assert all(v.volume == 0 for v in later.voices)


def test_unique_authors_add_up_across_buckets_without_double_counting(session: Session) -> None:
    workspace = make_workspace(session)
    records = [
        make_record(
            created_at=(BASE_TIME + timedelta(minutes=7 * i)).isoformat(),
            author={"handle": f"person{i % 9}", "followers": 5},
        )
        for i in range(60)
    ]
    add_posts(session, workspace.id, records)
    update_series(session, workspace.id)
    series = session.scalars(select(RadarSeries).where(RadarSeries.key == "workspace")).one()
    seen = summary(session, series.id, "24h", BASE_TIME + timedelta(hours=7))
    assert seen.volume == 60
    assert seen.authors == 9


def test_terms_are_counted_per_hour_without_stop_words(session: Session) -> None:
    workspace = make_workspace(session)
    add_posts(
        session,
        workspace.id,
        _records(4, text="Toujours pas de remboursement rapide pour le vol #Ouigo"),
    )
    update_series(session, workspace.id)
    counts = dict(session.execute(select(RadarTerm.term, RadarTerm.count)).all())
    assert counts["remboursement"] == 4
    # A hashtag counts as its word: "#Ouigo" and "Ouigo" are one term.
    assert counts["ouigo"] == 4 and "#ouigo" not in counts
    assert "pour" not in counts and "pas" not in counts
    # Two-word phrases are counted for the whole workspace.
    assert counts["remboursement rapide"] == 4


def test_a_post_gives_words_hashtags_as_words_and_phrases_without_handles_or_links() -> None:
    from clameur.radar.terms import post_terms

    words, phrases = post_terms(
        "@ouigo.bsky.social Vol annulé, remboursement ? #Ouigo https://t.co/x"
    )
    assert words == {"vol", "annule", "remboursement", "ouigo"}
    assert phrases == {"vol annule", "annule remboursement"}


def test_rebuild_counts_everything_again_once(session: Session) -> None:
    workspace = make_workspace(session)
    add_posts(session, workspace.id, _records(12))
    update_series(session, workspace.id)
    rebuild(session, workspace.id)
    assert _totals(session, "workspace") == (0, 0)
    update_series(session, workspace.id)
    assert _totals(session, "workspace")[0] == 12


def test_hyperloglog_is_exact_for_small_counts_and_close_for_large_ones() -> None:
    assert hll.count(hll.sketch(range(25))) == 25
    large = hll.count(hll.sketch(range(20_000)))
    assert abs(large - 20_000) / 20_000 < 0.15
    assert hll.count(hll.merge(hll.sketch(range(10)), hll.sketch(range(5, 20)))) == 20
    merged = hll.merge(hll.sketch(range(400)), hll.sketch(range(200, 600)))
    assert abs(hll.count(merged) - 600) / 600 < 0.15
    assert hll.count(hll.merge(hll.sketch(range(400)), hll.sketch(range(5)))) > 350


def test_a_series_another_process_created_meanwhile_is_taken_not_inserted_twice(factory) -> None:  # type: ignore[no-untyped-def]
    """A page and the background runner may both find the workspace's series missing; the
    second to insert it must not fail (a 500 on the radar page's first visit)."""
    from sqlalchemy import event

    from clameur.models import SavedQuery
    from clameur.radar.series import ensure_series

    with factory() as setup, setup.begin():
        workspace_id = make_workspace(setup).id
    page = factory()
    meddled = []

    @event.listens_for(page, "do_orm_execute")
    def _runner_gets_there_first(state):  # type: ignore[no-untyped-def]
        # After the page has looked for its series (none yet) and before it inserts them.
        if (
            not meddled
            and state.is_select
            and SavedQuery in {d.get("entity") for d in state.statement.column_descriptions}
        ):
            meddled.append(True)
            with factory() as runner, runner.begin():
                ensure_series(runner, workspace_id)

    with page.begin():
        series = ensure_series(page, workspace_id)
    page.close()
    assert meddled == [True]
    assert list(series) == ["workspace"]
    with factory() as check:
        count = check.scalar(
            select(func.count())
            .select_from(RadarSeries)
            .where(RadarSeries.workspace_id == workspace_id)
        )
    assert count == 1
