"""Detection and alert rules: one alert per crisis, updated, closed after the cooldown."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import BASE_TIME, make_workspace
from clameur.models import (
    Alert,
    AlertDelivery,
    AlertRule,
    Notification,
    Post,
    RadarBucket,
    RadarPoint,
    Role,
    User,
)
from clameur.radar.alerts import (
    Bucket,
    InvalidRule,
    RuleSpec,
    backtest,
    episodes,
    evaluate_rules,
    triggers,
)
from clameur.radar.detection import score_workspace
from clameur.radar.series import BUCKET, ensure_series
from clameur.radar.service import explain_alert, negativity

START = BASE_TIME - timedelta(days=3)


def _daily_shape(moment: datetime) -> float:
    """A quiet night and a busy afternoon, like a brand's mentions."""
    hour = moment.hour + moment.minute / 60
    return 6 + 5 * math.sin((hour - 9) / 24 * 2 * math.pi)


def _fill(
    session: Session, series_id: int, until: datetime, spike_at: datetime | None = None
) -> None:
    moment = START
    rows = []
    while moment < until:
        volume = round(_daily_shape(moment))
        if spike_at is not None and spike_at <= moment < spike_at + timedelta(minutes=30):
            volume += 80
        rows.append(
            RadarBucket(
                series_id=series_id,
                grain="m5",
                start=moment,
                network="x",
                lang="fr",
                volume=volume,
                negative=volume // 3,
                reach=volume * 100,
            )
        )
        moment += BUCKET
    session.add_all(rows)
    session.flush()


def _manager(session: Session) -> User:
    user = User(email="m@example.com", name="M", password_hash="x", role=Role.manager)
    session.add(user)
    session.flush()
    return user


def test_every_finished_bucket_is_scored_once_with_a_band(session: Session) -> None:
    workspace = make_workspace(session)
    series = ensure_series(session, workspace.id)["workspace"]
    _fill(session, series.id, BASE_TIME)
    readings = score_workspace(session, workspace.id, BASE_TIME + timedelta(minutes=2))
    expected_buckets = int((BASE_TIME - START) / BUCKET)
    assert len(readings) == 2 * expected_buckets
    assert score_workspace(session, workspace.id, BASE_TIME + timedelta(minutes=2)) == []
    stored = session.scalar(select(func.count()).select_from(RadarPoint))
    # Quiet empty buckets are scored (the detector learns from them) but not stored.
    assert stored == sum(1 for r in readings if r.value or r.score >= 0.05)
    assert 0 < stored < 2 * expected_buckets
    last = [r for r in readings if r.metric == "volume"][-1]
    assert last.low <= last.expected <= last.high
    assert 0.0 <= last.score <= 1.0


def test_scoring_in_two_passes_equals_one_pass(session: Session) -> None:
    first = make_workspace(session, "one", "One")
    second = make_workspace(session, "two", "Two")
    a = ensure_series(session, first.id)["workspace"]
    b = ensure_series(session, second.id)["workspace"]
    _fill(session, a.id, BASE_TIME, spike_at=BASE_TIME - timedelta(hours=5))
    _fill(session, b.id, BASE_TIME, spike_at=BASE_TIME - timedelta(hours=5))
    once = score_workspace(session, first.id, BASE_TIME)
    halfway = BASE_TIME - timedelta(days=1, minutes=3)
    twice = score_workspace(session, second.id, halfway) + score_workspace(
        session, second.id, BASE_TIME
    )
    assert [(r.start, r.metric, r.score, r.expected) for r in once] == [
        (r.start, r.metric, r.score, r.expected) for r in twice
    ]


def test_a_spike_opens_one_alert_that_updates_and_tells_each_channel_once(session: Session) -> None:
    workspace = make_workspace(session)
    manager = _manager(session)
    series = ensure_series(session, workspace.id)["workspace"]
    spike = BASE_TIME - timedelta(hours=2)
    _fill(session, series.id, BASE_TIME, spike_at=spike)
    rule = AlertRule(
        workspace_id=workspace.id,
        name="Spike",
        kind="smart",
        sensitivity=0.5,
        min_volume=10,
        cooldown_minutes=120,
        channels=[
            {"type": "webhook", "url": "http://127.0.0.1:9/hook"},
            {"type": "email", "to": "crisis@example.com"},
        ],
    )
    session.add(rule)
    session.flush()
    readings = score_workspace(session, workspace.id, BASE_TIME)
    evaluate_rules(session, workspace.id, readings[0].start, BASE_TIME)
    alerts = session.scalars(select(Alert)).all()
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.status == "open"
    assert spike <= alert.started_at < spike + timedelta(minutes=30)
    assert alert.peak_value >= 80
    deliveries = session.scalars(select(AlertDelivery)).all()
    assert sorted(d.channel for d in deliveries) == ["0:webhook", "1:email"]
    assert {d.event for d in deliveries} == {"opened"}
    notes = session.scalars(select(Notification).where(Notification.user_id == manager.id)).all()
    assert [n.link for n in notes] == [f"/radar/alerts/{alert.id}"]
    # The same pass again changes nothing.
    evaluate_rules(session, workspace.id, readings[0].start, BASE_TIME)
    assert session.scalar(select(func.count()).select_from(Alert)) == 1
    assert session.scalar(select(func.count()).select_from(AlertDelivery)) == 2
    # Once the cooldown is over, the alert ends and says so once.
    later = BASE_TIME + timedelta(hours=3)
    evaluate_rules(session, workspace.id, BASE_TIME, later)
    session.refresh(alert)
    assert alert.status == "over"
    assert sorted(d.event for d in session.scalars(select(AlertDelivery))) == [
        "opened",
        "opened",
        "over",
        "over",
    ]


def test_an_alert_explains_itself_with_every_bucket_where_its_rule_fired(session: Session) -> None:
    workspace = make_workspace(session)
    series = ensure_series(session, workspace.id)["workspace"]
    spike = BASE_TIME - timedelta(hours=2)
    _fill(session, series.id, BASE_TIME, spike_at=spike)
    rule = AlertRule(workspace_id=workspace.id, name="Plenty", kind="volume", threshold=150)
    session.add(rule)
    session.flush()
    readings = score_workspace(session, workspace.id, BASE_TIME)
    evaluate_rules(session, workspace.id, readings[0].start, BASE_TIME + timedelta(hours=4))
    alert = session.scalars(select(Alert)).one()
    explanation = explain_alert(session, workspace.id, alert, BASE_TIME)
    assert explanation.fired[0] == alert.started_at
    assert explanation.fired[-1] == alert.last_seen_at
    assert len(explanation.fired) == alert.updates > 1
    assert explanation.window(alert) == (alert.started_at, alert.last_seen_at + BUCKET)
    # The chart around it has one point per bucket, quiet ones included.
    starts = [p.start for p in explanation.points]
    assert all(b - a == BUCKET for a, b in zip(starts, starts[1:], strict=False))


def test_among_negative_posts_a_complaint_comes_before_a_plain_question() -> None:
    question = Post(sentiment="negative", sentiment_score=0.48, intents=["question"])
    complaint = Post(sentiment="negative", sentiment_score=0.6, intents=["complaint", "question"])
    corrected = Post(sentiment="negative", sentiment_score=None, intents=[])
    ranked = sorted([question, complaint, corrected], key=negativity, reverse=True)
    assert ranked == [complaint, corrected, question]


def test_the_backtest_counts_the_episodes_a_rule_would_have_opened(session: Session) -> None:
    workspace = make_workspace(session)
    series = ensure_series(session, workspace.id)["workspace"]
    _fill(session, series.id, BASE_TIME, spike_at=BASE_TIME - timedelta(hours=30))
    score_workspace(session, workspace.id, BASE_TIME)
    quiet = backtest(
        session, workspace.id, None, RuleSpec("volume", threshold=10_000), now=BASE_TIME
    )
    assert quiet.alerts == 0
    smart = backtest(session, workspace.id, None, RuleSpec("smart", sensitivity=0.5), now=BASE_TIME)
    assert smart.alerts == 1
    assert smart.episodes[0].peak.value >= 80


def test_plain_rules_count_posts_and_negative_share_in_a_sliding_window() -> None:
    buckets = [Bucket(START + i * BUCKET, volume=10, negative=1) for i in range(24)]
    buckets[12] = Bucket(buckets[12].start, volume=40, negative=30)
    many = RuleSpec("volume", threshold=150, window_minutes=60)
    fired = triggers(many, buckets)
    assert [t.start for t in fired] == [b.start for b in buckets[12:24]]
    assert fired[0].value == 150
    share = RuleSpec("negative_share", threshold=20, window_minutes=30, min_volume=20)
    assert [t.start for t in triggers(share, buckets)] == [b.start for b in buckets[12:18]]


def test_triggers_within_the_cooldown_are_one_episode() -> None:
    spec = RuleSpec("volume", threshold=1, window_minutes=5, cooldown_minutes=30)
    buckets = [
        Bucket(START + i * BUCKET, volume=1 if i in (0, 3, 6, 20) else 0, negative=0)
        for i in range(24)
    ]
    grouped = episodes(spec, triggers(spec, buckets))
    assert [len(e.triggers) for e in grouped] == [3, 1]


def test_an_episode_ends_at_the_end_of_its_last_bucket_one_bucket_included() -> None:
    spec = RuleSpec("volume", threshold=1, window_minutes=5, cooldown_minutes=30)
    buckets = [
        Bucket(START + i * BUCKET, volume=1 if i in (0, 3, 20) else 0, negative=0)
        for i in range(24)
    ]
    long, single = episodes(spec, triggers(spec, buckets))
    assert (long.started_at, long.ended_at, long.minutes) == (START, START + 4 * BUCKET, 20)
    assert single.started_at == single.last_seen_at == START + 20 * BUCKET
    assert (single.ended_at, single.minutes) == (START + 21 * BUCKET, 5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (RuleSpec("loud"), "unknown rule kind"),
        (RuleSpec("volume", threshold=0), "at least 1"),
        (RuleSpec("negative_share", threshold=120), "between 0 and 100"),
        (RuleSpec("smart", sensitivity=2), "sensitivity"),
        (RuleSpec("volume", threshold=5, window_minutes=1), "window"),
    ],
)
def test_a_rule_that_cannot_work_says_why(spec: RuleSpec, message: str) -> None:
    with pytest.raises(InvalidRule, match=message):
        spec.check()


def test_the_window_is_a_span_of_time_even_when_quiet_buckets_are_missing() -> None:
    spec = RuleSpec("volume", threshold=20, window_minutes=30)
    # Two busy buckets two hours apart, nothing stored in between: never 20 in 30 minutes.
    buckets = [
        Bucket(START, volume=12, negative=0),
        Bucket(START + timedelta(hours=2), volume=12, negative=0),
        Bucket(START + timedelta(hours=2, minutes=10), volume=9, negative=0),
    ]
    assert [t.start for t in triggers(spec, buckets)] == [buckets[2].start]


def test_scoring_the_series_again_does_not_raise_the_same_alerts_twice(session: Session) -> None:
    from clameur.radar.series import rebuild

    workspace = make_workspace(session)
    series = ensure_series(session, workspace.id)["workspace"]
    _fill(session, series.id, BASE_TIME, spike_at=BASE_TIME - timedelta(hours=2))
    session.add(AlertRule(workspace_id=workspace.id, name="Spike", kind="smart", min_volume=10))
    session.flush()
    readings = score_workspace(session, workspace.id, BASE_TIME)
    evaluate_rules(session, workspace.id, readings[0].start, BASE_TIME)
    assert session.scalar(select(func.count()).select_from(Alert)) == 1
    # A reanalysis rebuilds the series: the buckets are counted and scored again.
    rebuild(session, workspace.id)
    _fill(session, series.id, BASE_TIME, spike_at=BASE_TIME - timedelta(hours=2))
    readings = score_workspace(session, workspace.id, BASE_TIME)
    evaluate_rules(session, workspace.id, readings[0].start, BASE_TIME)
    assert session.scalar(select(func.count()).select_from(Alert)) == 1


def test_two_runners_passing_at_once_raise_one_alert(factory: Any) -> None:
    import threading

    from clameur.radar.service import run_pass
    from clameur.store.engine import unit_of_work

    with unit_of_work(factory) as session:
        workspace = make_workspace(session)
        series = ensure_series(session, workspace.id)["workspace"]
        _fill(session, series.id, BASE_TIME, spike_at=BASE_TIME - timedelta(hours=2))
        session.add(AlertRule(workspace_id=workspace.id, name="Spike", kind="smart", min_volume=10))
    failures: list[Exception] = []

    def pass_once() -> None:
        try:
            run_pass(factory, now=BASE_TIME)
        except Exception as error:  # noqa: BLE001 - SQLite may refuse the second writer
            failures.append(error)

    runners = [threading.Thread(target=pass_once) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    run_pass(factory, now=BASE_TIME)  # what a refused runner does on its next pass
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
        points = session.scalar(select(func.count()).select_from(RadarPoint))
    assert points > 0
