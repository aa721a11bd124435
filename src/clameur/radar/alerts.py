"""Alert rules: when a series moves, open one alert, keep it updated, tell people once.

Two kinds of rules watch a series (a saved query's, or the whole workspace's):
- **smart**: the detector's anomaly score on the volume (or negative volume) crosses the
  threshold that the rule's sensitivity gives, with at least `min_volume` posts in the bucket;
- **volume** / **negative_share**: more than N posts, or a negative share above X %, within a
  sliding window of `window_minutes` (the share needs `min_volume` posts in the window).

Triggers closer than `cooldown_minutes` to the previous one belong to the same episode: one
crisis is one alert that updates, not fifty. The same pure functions serve the live evaluation
and the backtest ("how often would this rule have fired over the last 30 days?").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clameur.inbox.notifications import manager_ids, notify
from clameur.kit.errors import ClameurError
from clameur.kit.time import utcnow
from clameur.models import (
    Alert,
    AlertDelivery,
    AlertRule,
    RadarPoint,
    RadarSeries,
)
from clameur.radar.detector import alert_threshold
from clameur.radar.series import BUCKET
from clameur.store.bulk import insert_rows

RULE_KINDS = ("smart", "volume", "negative_share")
BACKTEST_DAYS = 30
# A new external message is sent when an open alert's value reaches this multiple of the value
# last told; smaller moves only update the alert in the app.
ESCALATION_FACTOR = 2.0


class InvalidRule(ClameurError):
    """An alert rule that cannot work as written."""

    status_code = 422


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What an alert rule tests, as plain data."""

    kind: str
    metric: str = "volume"
    sensitivity: float = 0.5
    threshold: float = 0.0
    window_minutes: int = 60
    min_volume: int = 10
    cooldown_minutes: int = 120

    @classmethod
    def of(cls, rule: AlertRule) -> RuleSpec:
        """The spec of a stored rule."""
        return cls(
            kind=rule.kind,
            metric=rule.metric,
            sensitivity=rule.sensitivity,
            threshold=rule.threshold,
            window_minutes=rule.window_minutes,
            min_volume=rule.min_volume,
            cooldown_minutes=rule.cooldown_minutes,
        )

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> RuleSpec:
        """The spec of a rule's values (as a form gives them), checked."""
        return cls(
            kind=str(values["kind"]),
            metric=str(values.get("metric") or "volume"),
            sensitivity=float(values.get("sensitivity", 0.5)),
            threshold=float(values.get("threshold", 0)),
            window_minutes=int(values.get("window_minutes", 60)),
            min_volume=int(values.get("min_volume", 10)),
            cooldown_minutes=int(values.get("cooldown_minutes", 120)),
        ).check()

    def check(self) -> RuleSpec:
        """The spec itself, or InvalidRule saying what is wrong with it."""
        if self.kind not in RULE_KINDS:
            raise InvalidRule(
                f"unknown rule kind {self.kind!r}: use one of {', '.join(RULE_KINDS)}"
            )
        if self.metric not in ("volume", "negative"):
            raise InvalidRule(f"unknown metric {self.metric!r}: use volume or negative")
        if not 0.0 <= self.sensitivity <= 1.0:
            raise InvalidRule("sensitivity must be between 0 and 1")
        if self.kind == "volume" and self.threshold < 1:
            raise InvalidRule("a volume rule needs a number of posts of at least 1")
        if self.kind == "negative_share" and not 0 < self.threshold <= 100:
            raise InvalidRule("a negative-share rule needs a percentage between 0 and 100")
        if not 5 <= self.window_minutes <= 7 * 24 * 60:
            raise InvalidRule("the window must be between 5 minutes and 7 days")
        if self.cooldown_minutes < 0 or self.min_volume < 0:
            raise InvalidRule("cooldown and minimum volume cannot be negative")
        return self


@dataclass(frozen=True, slots=True)
class Bucket:
    """One scored 5-minute bucket of a series, both metrics."""

    start: datetime
    volume: float
    negative: float
    expected: float = 0.0
    high: float = 0.0
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Trigger:
    """A bucket where a rule's condition held: the value it saw and what was expected."""

    start: datetime
    value: float
    expected: float
    high: float
    score: float


@dataclass(slots=True)
class Episode:
    """Triggers grouped by the cooldown: what one alert covers. A trigger is a bucket, so the
    episode runs from the start of its first bucket to the end of its last one."""

    started_at: datetime
    last_seen_at: datetime
    peak: Trigger
    triggers: list[Trigger] = field(default_factory=list)

    @property
    def ended_at(self) -> datetime:
        """The end of the episode's last bucket (as an alert ends when it closes)."""
        return self.last_seen_at + BUCKET

    @property
    def minutes(self) -> int:
        """How long the episode lasted, in minutes: one bucket at least."""
        return int((self.ended_at - self.started_at).total_seconds() // 60)


def triggers(
    spec: RuleSpec, buckets: Sequence[Bucket], since: datetime | None = None
) -> list[Trigger]:
    """The buckets (at or after `since`) where the rule's condition holds; `buckets` are in time
    order and include the window before `since` that sliding rules need. Buckets may be missing
    (quiet buckets are not stored): the window is a span of time, not a number of rows."""
    out: list[Trigger] = []
    window = timedelta(minutes=max(5, spec.window_minutes))
    volume_sum = negative_sum = 0.0
    threshold = alert_threshold(spec.sensitivity) if spec.kind == "smart" else 0.0
    first = 0
    for bucket in buckets:
        volume_sum += bucket.volume
        negative_sum += bucket.negative
        while buckets[first].start <= bucket.start - window:
            volume_sum -= buckets[first].volume
            negative_sum -= buckets[first].negative
            first += 1
        if since is not None and bucket.start < since:
            continue
        if spec.kind == "smart":
            value = bucket.negative if spec.metric == "negative" else bucket.volume
            if bucket.score >= threshold and value >= spec.min_volume:
                out.append(Trigger(bucket.start, value, bucket.expected, bucket.high, bucket.score))
        elif spec.kind == "volume":
            value = negative_sum if spec.metric == "negative" else volume_sum
            if value >= spec.threshold:
                out.append(Trigger(bucket.start, value, 0.0, spec.threshold, 1.0))
        else:
            if volume_sum >= max(1, spec.min_volume):
                share = 100.0 * negative_sum / volume_sum
                if share >= spec.threshold:
                    out.append(Trigger(bucket.start, share, 0.0, spec.threshold, 1.0))
    return out


def episodes(spec: RuleSpec, found: Sequence[Trigger]) -> list[Episode]:
    """Group triggers into episodes: a trigger within the cooldown extends the current one."""
    cooldown = timedelta(minutes=spec.cooldown_minutes)
    out: list[Episode] = []
    for trigger in found:
        current = out[-1] if out else None
        if current is not None and trigger.start - current.last_seen_at <= cooldown:
            current.last_seen_at = trigger.start
            current.triggers.append(trigger)
            if trigger.value > current.peak.value:
                current.peak = trigger
        else:
            out.append(Episode(trigger.start, trigger.start, trigger, [trigger]))
    return out


def load_buckets(
    session: Session, series_id: int, since: datetime, until: datetime | None = None
) -> list[Bucket]:
    """The scored buckets of a series from `since`, both metrics side by side."""
    statement = select(
        RadarPoint.metric,
        RadarPoint.start,
        RadarPoint.value,
        RadarPoint.expected,
        RadarPoint.high,
        RadarPoint.score,
    ).where(RadarPoint.series_id == series_id, RadarPoint.start >= since)
    if until is not None:
        statement = statement.where(RadarPoint.start <= until)
    rows: dict[datetime, dict[str, tuple[float, float, float, float]]] = {}
    for metric, start, value, expected, high, score in session.execute(statement):
        rows.setdefault(start, {})[metric] = (value, expected, high, score)
    return [
        Bucket(
            start,
            parts.get("volume", (0.0, 0.0, 0.0, 0.0))[0],
            parts.get("negative", (0.0, 0.0, 0.0, 0.0))[0],
            *parts.get("volume", (0.0, 0.0, 0.0, 0.0))[1:],
        )
        for start, parts in sorted(rows.items())
    ]


def rule_series(
    session: Session, rule: AlertRule | RuleSpec, workspace_id: int, query_id: int | None
) -> RadarSeries | None:
    """The series a rule watches: its saved query's, or the whole workspace's."""
    key = f"query:{query_id}" if query_id is not None else "workspace"
    return session.scalars(
        select(RadarSeries).where(RadarSeries.workspace_id == workspace_id, RadarSeries.key == key)
    ).first()


@dataclass(frozen=True, slots=True)
class Backtest:
    """How a rule would have behaved over the past days."""

    days: int
    alerts: int
    triggers: int
    episodes: list[Episode]


def backtest(
    session: Session,
    workspace_id: int,
    query_id: int | None,
    spec: RuleSpec,
    now: datetime | None = None,
    days: int = BACKTEST_DAYS,
) -> Backtest:
    """How often the rule would have fired over the last `days` days."""
    spec.check()
    now = now or utcnow()
    series = rule_series(session, spec, workspace_id, query_id)
    if series is None:
        return Backtest(days, 0, 0, [])
    found = rule_triggers(session, series.id, spec, now - timedelta(days=days), now, window=False)
    grouped = episodes(spec, found)
    return Backtest(days, len(grouped), len(found), grouped)


def rule_triggers(
    session: Session,
    series_id: int,
    spec: RuleSpec,
    since: datetime,
    until: datetime,
    window: bool = True,
) -> list[Trigger]:
    """The buckets of a series from `since` to `until` where the rule's condition holds, its
    sliding window read from before `since` (unless `window` is False: a backtest starts cold)."""
    before = timedelta(minutes=spec.window_minutes) if window else timedelta(0)
    buckets = load_buckets(session, series_id, since - before, until)
    if spec.kind == "smart" and spec.metric == "negative":
        buckets = _with_metric_scores(session, series_id, buckets, "negative")
    return triggers(spec, buckets, since=since if window else None)


def _with_metric_scores(
    session: Session, series_id: int, buckets: Sequence[Bucket], metric: str
) -> list[Bucket]:
    """The buckets with the band and score of `metric` instead of the volume's."""
    if not buckets:
        return []
    statement = select(
        RadarPoint.start, RadarPoint.expected, RadarPoint.high, RadarPoint.score
    ).where(
        RadarPoint.series_id == series_id,
        RadarPoint.metric == metric,
        RadarPoint.start >= buckets[0].start,
        RadarPoint.start <= buckets[-1].start,
    )
    scores = {
        start: (expected, high, score)
        for start, expected, high, score in session.execute(statement)
    }
    return [
        Bucket(b.start, b.volume, b.negative, *scores.get(b.start, (0.0, 0.0, 0.0)))
        for b in buckets
    ]


def evaluate_rules(
    session: Session, workspace_id: int, since: datetime, now: datetime
) -> list[Alert]:
    """Run the workspace's active rules over the buckets scored from `since`; open, update or
    close their alerts and queue the messages to send. Returns the alerts touched."""
    touched: list[Alert] = []
    rules = session.scalars(
        select(AlertRule).where(AlertRule.workspace_id == workspace_id, AlertRule.active.is_(True))
    ).all()
    for rule in rules:
        spec = RuleSpec.of(rule)
        series = rule_series(session, rule, workspace_id, rule.query_id)
        if series is None:
            continue
        found = rule_triggers(session, series.id, spec, since, now)
        touched.extend(_apply(session, rule, series, found, now))
    return touched


def _open_alert(session: Session, rule: AlertRule) -> Alert | None:
    return session.scalars(
        select(Alert)
        .where(Alert.rule_id == rule.id, Alert.status == "open")
        .order_by(Alert.id.desc())
    ).first()


def _apply(
    session: Session, rule: AlertRule, series: RadarSeries, found: Sequence[Trigger], now: datetime
) -> list[Alert]:
    """Fold the new triggers into the rule's alerts."""
    cooldown = timedelta(minutes=rule.cooldown_minutes)
    alert = _open_alert(session, rule)
    touched: list[Alert] = []
    # Buckets scored again (the series were rebuilt after a reanalysis) must not open the
    # alerts the rule already raised for them.
    told_until = session.scalar(
        select(func.max(Alert.last_seen_at)).where(Alert.rule_id == rule.id)
    )
    for trigger in found:
        if (
            told_until is not None
            and trigger.start <= told_until
            and (alert is None or trigger.start <= alert.last_seen_at)
        ):
            continue
        if alert is not None and trigger.start - alert.last_seen_at <= cooldown:
            if trigger.start <= alert.last_seen_at:
                continue  # already counted (a pass that re-reads the same bucket)
            alert.last_seen_at = trigger.start
            alert.updates += 1
            alert.value, alert.expected, alert.high, alert.score = (
                trigger.value,
                trigger.expected,
                trigger.high,
                trigger.score,
            )
            if trigger.value > alert.peak_value:
                told = _last_told_value(session, alert)
                alert.peak_value = trigger.value
                if told and trigger.value >= ESCALATION_FACTOR * told:
                    _queue_deliveries(session, rule, alert, f"escalated:{alert.updates}")
        else:
            if alert is not None:
                _close(session, rule, alert)
            alert = Alert(
                workspace_id=rule.workspace_id,
                rule_id=rule.id,
                series_id=series.id,
                metric=rule.metric,
                status="open",
                started_at=trigger.start,
                last_seen_at=trigger.start,
                value=trigger.value,
                expected=trigger.expected,
                high=trigger.high,
                score=trigger.score,
                peak_value=trigger.value,
                updates=1,
            )
            session.add(alert)
            session.flush()
            _queue_deliveries(session, rule, alert, "opened")
            _notify_managers(session, rule, alert)
        if alert not in touched:
            touched.append(alert)
    if (
        alert is not None
        and alert.status == "open"
        and now - (alert.last_seen_at + BUCKET) > cooldown
    ):
        _close(session, rule, alert)
        if alert not in touched:
            touched.append(alert)
    session.flush()
    return touched


def _close(session: Session, rule: AlertRule, alert: Alert) -> None:
    alert.status = "over"
    alert.ended_at = alert.last_seen_at + BUCKET
    _queue_deliveries(session, rule, alert, "over")


def _last_told_value(session: Session, alert: Alert) -> float:
    payloads = session.scalars(
        select(AlertDelivery.payload)
        .where(AlertDelivery.alert_id == alert.id)
        .order_by(AlertDelivery.id.desc())
    ).first()
    if payloads:
        return float(payloads.get("value") or 0.0)
    return alert.value


def alert_payload(rule: AlertRule, alert: Alert, event: str) -> dict[str, Any]:
    """The facts of an alert that every channel renders."""
    return {
        "event": event.split(":")[0],
        "alert_id": alert.id,
        "rule": rule.name,
        "kind": rule.kind,
        "metric": alert.metric,
        "status": alert.status,
        "started_at": alert.started_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
        "value": round(alert.value, 2),
        "expected": round(alert.expected, 2),
        "high": round(alert.high, 2),
        "score": round(alert.score, 3),
        "peak_value": round(alert.peak_value, 2),
        "updates": alert.updates,
    }


def _queue_deliveries(session: Session, rule: AlertRule, alert: Alert, event: str) -> None:
    """One message per external channel of the rule; the (alert, channel, event) key makes a
    second pass over the same event a no-op."""
    if not rule.channels:
        return
    payload = alert_payload(rule, alert, event)
    rows = [
        (
            alert.id,
            f"{index}:{channel.get('type', '')}",
            event,
            channel,
            payload,
            "pending",
            0,
            utcnow(),
        )
        for index, channel in enumerate(rule.channels)
        if channel.get("type") in ("email", "webhook")
    ]
    insert_rows(
        session,
        AlertDelivery.__table__,  # type: ignore[arg-type]
        (
            "alert_id",
            "channel",
            "event",
            "target",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
        ),
        rows,
        conflict=("alert_id", "channel", "event"),
    )


def _notify_managers(session: Session, rule: AlertRule, alert: Alert) -> None:
    """The in-app message: a notification for each manager and admin, once per alert."""
    notify(
        session,
        rule.workspace_id,
        manager_ids(session),
        "radar.alert",
        f"alert:{alert.id}",
        rule.name,
        link=f"/radar/alerts/{alert.id}",
        at=alert.started_at,
    )
