"""The radar's business rules: the periodic pass, what the pages read, alert rules."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from clameur.kit import hll
from clameur.kit.errors import NotFound
from clameur.kit.time import utcnow
from clameur.listening.service import PostFilters, list_posts
from clameur.models import (
    Alert,
    AlertRule,
    Competitor,
    Post,
    RadarBucket,
    RadarPoint,
    RadarSeries,
    RadarTerm,
    SavedQuery,
    Workspace,
)
from clameur.radar import alerts as alert_rules
from clameur.radar.detection import score_workspace
from clameur.radar.series import (
    BUCKET,
    GRAIN_SPANS,
    bucket_start,
    ensure_series,
    lock_progress,
    prune,
    update_series,
)
from clameur.radar.terms import term_key, written_forms
from clameur.store.engine import unit_of_work
from clameur.store.rows import workspace_row

PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
PERIOD_GRAIN = {"24h": "m5", "7d": "h1", "30d": "d1"}
# Fewer posts than this in the previous period: no "+12,000 %" comparison.
MIN_COMPARED = 20


@dataclass(slots=True)
class PassResult:
    """What one radar pass did for one workspace."""

    posts: int = 0
    readings: int = 0
    alerts: list[int] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        """Whether the pass did anything."""
        return bool(self.posts or self.readings or self.alerts)


def run_pass(
    factory: sessionmaker[Session],
    now: datetime | None = None,
    keep_5min_days: int = 35,
    batch: int = 5000,
) -> dict[int, PassResult]:
    """Count new posts into the series, score finished buckets, run the alert rules: every
    workspace, each step committed on its own so that a long catch-up shows progress."""
    now = now or utcnow()
    results: dict[int, PassResult] = {}
    with unit_of_work(factory) as session:
        workspace_ids = list(session.scalars(select(Workspace.id)))
    for workspace_id in workspace_ids:
        result = results.setdefault(workspace_id, PassResult())
        while True:
            with unit_of_work(factory) as session:
                counted = update_series(session, workspace_id, limit=batch)
            result.posts += counted.posts
            if counted.posts < batch:
                break
        with unit_of_work(factory) as session:
            lock_progress(session, workspace_id)
            first_new = _scored_from(session, workspace_id)
            readings = score_workspace(session, workspace_id, now)
            result.readings = len(readings)
            if first_new is not None or readings:
                since = min((r.start for r in readings), default=first_new or now)
                touched = alert_rules.evaluate_rules(session, workspace_id, since, now)
                result.alerts = [alert.id for alert in touched]
            prune(session, workspace_id, now, keep_5min_days)
    return results


def _scored_from(session: Session, workspace_id: int) -> datetime | None:
    return session.scalar(
        select(func.min(RadarSeries.scored_until)).where(RadarSeries.workspace_id == workspace_id)
    )


# --- What the pages read -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeriesChoice:
    """A series the radar page can show."""

    id: int
    key: str
    label: str
    kind: str


def list_series(session: Session, workspace_id: int) -> list[SeriesChoice]:
    """The workspace's series, brand first, then competitors, then saved queries."""
    series = ensure_series(session, workspace_id)
    names = dict(
        session.execute(
            select(SavedQuery.id, SavedQuery.name).where(SavedQuery.workspace_id == workspace_id)
        ).all()
    )
    competitors = dict(
        session.execute(
            select(Competitor.id, Competitor.name).where(Competitor.workspace_id == workspace_id)
        ).all()
    )
    order = {"workspace": 0, "brand": 1, "competitor": 2, "query": 3}
    choices = []
    for key, row in series.items():
        kind = key.split(":")[0]
        if kind == "query":
            label = names.get(row.query_id or 0, key)
        elif kind == "competitor":
            label = competitors.get(row.competitor_id or 0, key)
        else:
            label = ""
        choices.append(SeriesChoice(row.id, key, label, kind))
    return sorted(choices, key=lambda c: (order.get(c.kind, 9), c.label.lower(), c.id))


def get_series(session: Session, workspace_id: int, series_id: int | None) -> RadarSeries:
    """A series of the workspace (the whole workspace's when `series_id` is None)."""
    if series_id is None:
        return ensure_series(session, workspace_id)["workspace"]
    return workspace_row(session, RadarSeries, workspace_id, series_id, "radar series")


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One bucket of a chart: value, expected band, anomaly score."""

    start: datetime
    volume: float
    negative: float
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    score: float = 0.0

    @property
    def negative_share(self) -> float:
        """The share of negative posts, in percent."""
        return 100.0 * self.negative / self.volume if self.volume else 0.0


def chart(session: Session, series_id: int, period: str, now: datetime) -> list[ChartPoint]:
    """The series over the period, at the period's grain, with the detector's band summed to
    that grain and the highest anomaly score of each bucket."""
    grain = PERIOD_GRAIN[period]
    span = GRAIN_SPANS[grain]
    until = bucket_start(now, grain)
    since = until - PERIODS[period] + span
    values: dict[datetime, list[float]] = {}
    for start, volume, negative in session.execute(
        select(RadarBucket.start, func.sum(RadarBucket.volume), func.sum(RadarBucket.negative))
        .where(
            RadarBucket.series_id == series_id,
            RadarBucket.grain == grain,
            RadarBucket.start >= since,
        )
        .group_by(RadarBucket.start)
    ):
        values[start] = [float(volume or 0), float(negative or 0)]
    bands: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0])
    for start, expected, low, high, score in session.execute(
        select(
            RadarPoint.start, RadarPoint.expected, RadarPoint.low, RadarPoint.high, RadarPoint.score
        ).where(
            RadarPoint.series_id == series_id,
            RadarPoint.metric == "volume",
            RadarPoint.start >= since,
        )
    ):
        # Summed to the grain: expected values add up, and so do the variances (the band is
        # three spreads wide on each side), so an hour's band is not twelve bands end to end.
        band = bands[bucket_start(start, grain)]
        band[0] += expected
        band[1] += ((expected - low) / 3) ** 2
        band[2] += ((high - expected) / 3) ** 2
        band[3] = max(band[3], score)
        band[4] += 1
    points = []
    moment = since
    while moment <= until:
        counted, negatives = values.get(moment, [0.0, 0.0])
        found = bands.get(moment)
        if found is not None and found[4]:
            expected = found[0]
            low = max(0.0, expected - 3 * math.sqrt(found[1]))
            high = expected + 3 * math.sqrt(found[2])
            points.append(ChartPoint(moment, counted, negatives, expected, low, high, found[3]))
        else:
            points.append(ChartPoint(moment, counted, negatives))
        moment += span
    return points


@dataclass(frozen=True, slots=True)
class Summary:
    """The series' totals over a period, with the previous period's for comparison."""

    volume: int
    negative: int
    reach: int
    authors: int
    previous_volume: int
    previous_negative: int

    @property
    def negative_share(self) -> float:
        """Negative posts in percent."""
        return 100.0 * self.negative / self.volume if self.volume else 0.0

    @property
    def volume_change(self) -> float | None:
        """Change of volume against the previous period, in percent (None when the previous
        period has too few posts for a percentage to mean anything)."""
        if self.previous_volume < MIN_COMPARED:
            return None
        return 100.0 * (self.volume - self.previous_volume) / self.previous_volume


def _totals(
    session: Session, series_id: int, grain: str, since: datetime, until: datetime
) -> tuple[int, int, int, int]:
    sketch: bytes | None = None
    volume = negative = reach = 0
    for v, n, r, authors in session.execute(
        select(
            RadarBucket.volume, RadarBucket.negative, RadarBucket.reach, RadarBucket.authors
        ).where(
            RadarBucket.series_id == series_id,
            RadarBucket.grain == grain,
            RadarBucket.start >= since,
            RadarBucket.start < until,
        )
    ):
        volume += v
        negative += n
        reach += r
        sketch = hll.merge(sketch, authors)
    return volume, negative, reach, hll.count(sketch)


def summary(session: Session, series_id: int, period: str, now: datetime) -> Summary:
    """Volume, negative share, reach and unique authors over the period and the one before."""
    grain = "h1" if period != "30d" else "d1"
    span = GRAIN_SPANS[grain]
    until = bucket_start(now, grain) + span
    since = until - PERIODS[period]
    volume, negative, reach, authors = _totals(session, series_id, grain, since, until)
    previous = _totals(session, series_id, grain, since - PERIODS[period], since)
    return Summary(volume, negative, reach, authors, previous[0], previous[1])


def breakdown(
    session: Session, series_id: int, period: str, now: datetime, column: str
) -> list[tuple[str, int, int]]:
    """Volume and negative volume per network or per language over the period, largest first."""
    target = RadarBucket.network if column == "network" else RadarBucket.lang
    since = bucket_start(now, "h1") + GRAIN_SPANS["h1"] - PERIODS[period]
    rows = session.execute(
        select(target, func.sum(RadarBucket.volume), func.sum(RadarBucket.negative))
        .where(
            RadarBucket.series_id == series_id,
            RadarBucket.grain == "h1",
            RadarBucket.start >= since,
        )
        .group_by(target)
        .order_by(func.sum(RadarBucket.volume).desc())
    ).all()
    return [(str(name), int(volume or 0), int(negative or 0)) for name, volume, negative in rows]


@dataclass(frozen=True, slots=True)
class VoiceShare:
    """One brand's volume over a period, and its share of all."""

    key: str
    label: str
    volume: int
    share: float
    points: list[int]


@dataclass(frozen=True, slots=True)
class VoiceChart:
    """Share of voice over a period: the buckets, and each brand's volumes in them."""

    grain: str
    starts: list[datetime]
    voices: list[VoiceShare]


MAX_VOICE_DAYS = 400


def share_of_voice(
    session: Session,
    workspace_id: int,
    period: str,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
) -> VoiceChart:
    """The brand against its competitors over the period (or from `since` to `until`, whole
    days): totals, shares, and per bucket."""
    if since is not None and until is not None:
        grain = "d1"
        first = bucket_start(since, grain)
        last = bucket_start(min(until, now), grain)
        if last < first:
            first, last = last, first
        first = max(first, last - timedelta(days=MAX_VOICE_DAYS))
    else:
        grain = "h1" if period == "24h" else "d1"
        last = bucket_start(now, grain)
        first = last - PERIODS[period] + GRAIN_SPANS[grain]
    span = GRAIN_SPANS[grain]
    starts = []
    moment = first
    while moment <= last:
        starts.append(moment)
        moment += span
    choices = [c for c in list_series(session, workspace_id) if c.kind in ("brand", "competitor")]
    out = []
    for choice in choices:
        values = dict(
            session.execute(
                select(RadarBucket.start, func.sum(RadarBucket.volume))
                .where(
                    RadarBucket.series_id == choice.id,
                    RadarBucket.grain == grain,
                    RadarBucket.start >= first,
                    RadarBucket.start <= last,
                )
                .group_by(RadarBucket.start)
            ).all()
        )
        points = [int(values.get(start, 0) or 0) for start in starts]
        out.append(VoiceShare(choice.key, choice.label, sum(points), 0.0, points))
    total = sum(v.volume for v in out) or 1
    voices = [VoiceShare(v.key, v.label, v.volume, 100.0 * v.volume / total, v.points) for v in out]
    return VoiceChart(grain, starts, voices)


@dataclass(frozen=True, slots=True)
class EmergingTerm:
    """A term rising against its own baseline: its key as counted (folded), and how people
    write it with a post that holds it, when posts of the period were read."""

    term: str
    count: int
    baseline: float
    ratio: float
    label: str = ""
    sample: Post | None = None

    @property
    def shown(self) -> str:
        """The term as people write it (accents kept), or its key."""
        return self.label or self.term


# A word next to a rising phrase that holds it is left out when the phrase has at least this
# share of the word's count: they rose for the same posts, and the phrase says more.
SAME_POSTS = 0.8


def emerging_terms(
    session: Session,
    series_id: int,
    now: datetime,
    window: timedelta = timedelta(hours=1),
    baseline_days: int = 7,
    min_count: int = 5,
    limit: int = 12,
) -> list[EmergingTerm]:
    """Terms whose count in the last `window` (the current hour included) rose against their
    average over the same length of time in the `baseline_days` before, largest rise first."""
    # Terms are counted per hour: the window starts at the hour holding `now - window`, so
    # that "the last hour" at 10:05 reads 9:00-10:05 rather than five minutes.
    current_start = bucket_start(now - window, "h1")
    hours = max(1.0, (now - current_start) / timedelta(hours=1))
    baseline_start = current_start - timedelta(days=baseline_days)
    counted: dict[str, int] = defaultdict(int)
    for term, count in session.execute(
        select(RadarTerm.term, func.sum(RadarTerm.count))
        .where(
            RadarTerm.series_id == series_id,
            RadarTerm.start >= current_start,
            RadarTerm.start <= now,
        )
        .group_by(RadarTerm.term)
        # Hours counted before hashtags were merged with their word hold both: add them up.
        .having(or_(func.sum(RadarTerm.count) >= min_count, RadarTerm.term.startswith("#")))
    ):
        counted[term_key(term)] += int(count or 0)
    current = {term: count for term, count in counted.items() if count >= min_count}
    if not current:
        return []
    past: dict[str, int] = defaultdict(int)
    stored = [form for key in current for form in (key, "#" + key) if len(form) <= 100]
    for index in range(0, len(stored), 500):
        chunk = stored[index : index + 500]
        for term, count in session.execute(
            select(RadarTerm.term, func.sum(RadarTerm.count))
            .where(
                RadarTerm.series_id == series_id,
                RadarTerm.start >= baseline_start,
                RadarTerm.start < current_start,
                RadarTerm.term.in_(chunk),
            )
            .group_by(RadarTerm.term)
        ):
            past[term_key(term)] += int(count or 0)
    windows = baseline_days * 24 / hours
    out = []
    for term, count in current.items():
        baseline = past.get(term, 0) / windows
        ratio = (count + 1.0) / (baseline + 1.0)
        if ratio >= 2.0:
            out.append(EmergingTerm(term, int(count), round(baseline, 2), round(ratio, 1)))
    out = _without_words_of_phrases(out)
    # A rise from 40 to 400 matters more than one from 0 to 6: weigh the ratio by the count.
    out.sort(key=lambda t: t.ratio * math.log1p(t.count), reverse=True)
    return out[:limit]


def _without_words_of_phrases(terms: list[EmergingTerm]) -> list[EmergingTerm]:
    """The terms less the words that rose with a phrase holding them ("grande" beside
    "grande scene" with about the same count): the phrase alone says it."""
    phrases = [t for t in terms if " " in t.term]
    return [
        t
        for t in terms
        if " " in t.term
        or not any(t.term in p.term.split(" ") and p.count >= SAME_POSTS * t.count for p in phrases)
    ]


def in_their_words(
    session: Session,
    workspace_id: int,
    series: RadarSeries,
    terms: Sequence[EmergingTerm],
    since: datetime,
    until: datetime,
    read: int = 300,
    searched: int = 8,
) -> list[EmergingTerm]:
    """The terms written as people write them, each with a post that holds it: read from the
    latest `read` posts of the period, then for the first `searched` terms still missing, from
    a search. Bounded: one read, and at most `searched` small searches."""
    if not terms:
        return []
    posts = _period_posts(session, workspace_id, series, since, until, read)
    keys = {t.term for t in terms}
    found = written_forms((p.text for p in posts), keys)
    samples = {key: posts[form.first] for key, form in found.items()}
    missing = [t.term for t in terms if t.term not in found][:searched]
    for key in missing:
        hits = sample_posts(session, workspace_id, series, since, until, key, limit=3)
        form = written_forms((p.text for p in hits), {key}).get(key)
        if form is not None:
            found[key] = form
            samples[key] = hits[form.first]
        elif hits:
            samples[key] = hits[0]
    return [
        replace(t, label=found[t.term].form if t.term in found else "", sample=samples.get(t.term))
        for t in terms
    ]


def series_filters(series: RadarSeries, since: datetime, until: datetime) -> PostFilters:
    """Listening filters that show the posts of a series over a period."""
    return PostFilters(query_id=series.query_id, since=since, until=until)


def sample_posts(
    session: Session,
    workspace_id: int,
    series: RadarSeries,
    since: datetime,
    until: datetime,
    search: str | None = None,
    limit: int = 3,
) -> list[Post]:
    """A few posts of the series in the period (containing `search` when given)."""
    filters = series_filters(series, since, until)
    if search:
        filters.search = search.lstrip("#")
    return list_posts(session, workspace_id, filters, limit=limit).posts


# --- Alert rules ---------------------------------------------------------------------------


def list_rules(session: Session, workspace_id: int) -> list[AlertRule]:
    """The workspace's alert rules, by name."""
    return list(
        session.scalars(
            select(AlertRule).where(AlertRule.workspace_id == workspace_id).order_by(AlertRule.name)
        )
    )


def save_rule(
    session: Session, workspace_id: int, values: dict[str, Any], rule_id: int | None = None
) -> AlertRule:
    """Create or update an alert rule after checking it."""
    spec = alert_rules.RuleSpec.from_values(values)
    name = str(values.get("name") or "").strip()
    if not name:
        raise alert_rules.InvalidRule("give the rule a name")
    query_id = values.get("query_id")
    if query_id is not None:
        query = session.get(SavedQuery, int(query_id))
        if query is None or query.workspace_id != workspace_id:
            raise NotFound(f"no saved query {query_id} in this workspace")
    if rule_id is None:
        rule = AlertRule(workspace_id=workspace_id)
        session.add(rule)
    else:
        rule = get_rule(session, workspace_id, rule_id)
    rule.name = name[:200]
    rule.query_id = int(query_id) if query_id is not None else None
    rule.kind = spec.kind
    rule.metric = spec.metric
    rule.sensitivity = spec.sensitivity
    rule.threshold = spec.threshold
    rule.window_minutes = spec.window_minutes
    rule.min_volume = spec.min_volume
    rule.cooldown_minutes = spec.cooldown_minutes
    rule.channels = list(values.get("channels") or [])
    rule.active = bool(values.get("active", True))
    session.flush()
    return rule


def get_rule(session: Session, workspace_id: int, rule_id: int) -> AlertRule:
    """One alert rule of the workspace."""
    return workspace_row(session, AlertRule, workspace_id, rule_id, "alert rule")


def delete_rule(session: Session, workspace_id: int, rule_id: int) -> None:
    """Remove an alert rule (its past alerts stay)."""
    session.delete(get_rule(session, workspace_id, rule_id))
    session.flush()


def list_alerts(
    session: Session, workspace_id: int, limit: int = 50, status: str | None = None
) -> list[Alert]:
    """The workspace's alerts, newest first."""
    statement = select(Alert).where(Alert.workspace_id == workspace_id)
    if status:
        statement = statement.where(Alert.status == status)
    return list(
        session.scalars(statement.order_by(Alert.started_at.desc(), Alert.id.desc()).limit(limit))
    )


def get_alert(session: Session, workspace_id: int, alert_id: int) -> Alert:
    """One alert of the workspace."""
    return workspace_row(session, Alert, workspace_id, alert_id, "alert")


@dataclass(frozen=True, slots=True)
class AlertExplanation:
    """Why an alert fired: what drove the movement during it."""

    since: datetime
    until: datetime
    posts: list[Post]
    authors: list[tuple[str, str, int]]
    networks: list[tuple[str, int, int]]
    terms: list[EmergingTerm]
    points: list[ChartPoint]
    fired: list[datetime] = field(default_factory=list)

    def window(self, alert: Alert) -> tuple[datetime, datetime]:
        """When the alert was on: from its first bucket to the end of its last one."""
        return alert.started_at, alert.ended_at or alert.last_seen_at + BUCKET


def explain_alert(
    session: Session, workspace_id: int, alert: Alert, now: datetime
) -> AlertExplanation:
    """The top posts, authors, terms and networks behind an alert, its chart around it, and
    the buckets where its rule's condition held."""
    series = get_series(session, workspace_id, alert.series_id)
    rule = get_rule(session, workspace_id, alert.rule_id) if alert.rule_id is not None else None
    # A window rule fired on the posts of its whole window: explain with those.
    since = alert.started_at
    if rule is not None and rule.kind != "smart":
        since -= timedelta(minutes=rule.window_minutes) - BUCKET
    until = alert.ended_at or max(now, alert.last_seen_at + BUCKET)
    negative = alert.metric == "negative" or (rule is not None and rule.kind == "negative_share")
    posts = _top_posts(session, workspace_id, series, since, until, negative)
    authors: dict[str, tuple[str, int]] = {}
    for post in _period_posts(session, workspace_id, series, since, until, 400):
        if post.author is not None:
            handle = post.author.handle
            name, count = authors.get(handle, (post.author.display_name or handle, 0))
            authors[handle] = (name, count + 1)
    top_authors = sorted(((h, n, c) for h, (n, c) in authors.items()), key=lambda a: -a[2])[:5]
    networks = [
        (network, int(volume or 0), int(negative or 0))
        for network, volume, negative in session.execute(
            select(
                RadarBucket.network, func.sum(RadarBucket.volume), func.sum(RadarBucket.negative)
            )
            .where(
                RadarBucket.series_id == series.id,
                RadarBucket.grain == "m5",
                RadarBucket.start >= bucket_start(since),
                RadarBucket.start < until,
            )
            .group_by(RadarBucket.network)
            .order_by(func.sum(RadarBucket.volume).desc())
        )
    ]
    window = max(timedelta(hours=1), until - since)
    terms = emerging_terms(session, series.id, until, window=window, min_count=3, limit=8)
    terms = in_their_words(
        session, workspace_id, series, terms, bucket_start(until - window, "h1"), until
    )
    points = _alert_points(
        session, series.id, since - timedelta(hours=6), min(now, until + timedelta(hours=1))
    )
    return AlertExplanation(
        since, until, posts, top_authors, networks, terms, points, _fired(session, rule, alert)
    )


def _fired(session: Session, rule: AlertRule | None, alert: Alert) -> list[datetime]:
    """The buckets of the alert where its rule's condition held, found again by the same
    functions as the live evaluation; its first and last buckets at least."""
    marks = {alert.started_at, alert.last_seen_at}
    if rule is not None:
        found = alert_rules.rule_triggers(
            session,
            alert.series_id,
            alert_rules.RuleSpec.of(rule),
            alert.started_at,
            alert.last_seen_at,
        )
        marks.update(t.start for t in found)
    return sorted(marks)


def _period_posts(
    session: Session,
    workspace_id: int,
    series: RadarSeries,
    since: datetime,
    until: datetime,
    limit: int,
) -> list[Post]:
    return list_posts(
        session, workspace_id, series_filters(series, since, until), limit=limit
    ).posts


def _top_posts(
    session: Session,
    workspace_id: int,
    series: RadarSeries,
    since: datetime,
    until: datetime,
    negative: bool = False,
) -> list[Post]:
    """The posts behind the alert, five at most. For a negative alert, negative posts only, the
    clearest first: a person's correction or the model's confidence, a complaint before a
    plain question (the model often reads a question as negative); reach breaks ties. Otherwise
    the most visible posts: widest reach first (followers and duplicates)."""
    filters = series_filters(series, since, until)
    if negative:
        filters.sentiments = ["negative"]
    posts = list_posts(session, workspace_id, filters, limit=400).posts

    def reach(post: Post) -> float:
        followers = post.author.followers if post.author is not None else 0
        return math.log1p(followers or 0) + 2 * math.log1p(post.duplicate_count or 1)

    def weight(post: Post) -> float:
        if not negative:
            return reach(post) + (1 if post.sentiment == "negative" else 0)
        return 10 * negativity(post) + reach(post)

    return sorted(posts, key=weight, reverse=True)[:5]


def negativity(post: Post) -> float:
    """How surely a negative post is a grievance: the sentiment's confidence (a person's
    correction is sure), more for a complaint, less for a question that complains of nothing."""
    sure = 1.0 if post.sentiment_score is None else post.sentiment_score
    intents = set(post.intents or ())
    if "complaint" in intents:
        sure += 0.5
    elif "question" in intents:
        sure -= 0.5
    return sure


def _alert_points(
    session: Session, series_id: int, since: datetime, until: datetime
) -> list[ChartPoint]:
    """The 5-minute points around an alert, one per bucket: quiet buckets are not stored and
    read as zero, so that the time axis is regular."""
    rows = session.execute(
        select(
            RadarPoint.metric,
            RadarPoint.start,
            RadarPoint.value,
            RadarPoint.expected,
            RadarPoint.low,
            RadarPoint.high,
            RadarPoint.score,
        ).where(
            RadarPoint.series_id == series_id, RadarPoint.start >= since, RadarPoint.start <= until
        )
    ).all()
    volume = {r[1]: r for r in rows if r[0] == "volume"}
    negative = {r[1]: r[2] for r in rows if r[0] == "negative"}
    if not volume:
        return []
    points = []
    moment, last = min(volume), max(volume)
    while moment <= last:
        r = volume.get(moment)
        if r is None:
            points.append(ChartPoint(moment, 0.0, negative.get(moment, 0.0)))
        else:
            points.append(ChartPoint(moment, r[2], negative.get(moment, 0.0), *r[3:]))
        moment += BUCKET
    return points


def mark_seen(alert: Alert, user_id: int) -> None:
    """Remember that a person looked at the alert."""
    if user_id not in (alert.seen_by or []):
        alert.seen_by = [*(alert.seen_by or []), user_id]


def stale(points: Sequence[ChartPoint]) -> bool:
    """Whether a chart has nothing to show yet."""
    return not any(p.volume for p in points)
