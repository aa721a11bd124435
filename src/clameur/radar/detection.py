"""Scoring the series: each finished 5-minute bucket goes through the series' own detectors.

Each series has two detectors (volume and negative volume) whose state is stored with the
series, so scoring resumes exactly where it stopped after a restart. A bucket is scored once it
is over (plus a little grace for late posts); buckets without posts are scored as zeros, since
silence is information too. A series that starts long ago is scored from at most
`HISTORY_DAYS` back, enough for the detector to learn the weekly rhythm.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clameur.models import RadarBucket, RadarPoint, RadarSeries
from clameur.radar.detector import SeriesDetector
from clameur.radar.series import BUCKET, bucket_start
from clameur.store.bulk import insert_rows

GRACE = timedelta(minutes=1)
HISTORY_DAYS = 35
QUIET_SCORE = 0.05


@dataclass(frozen=True, slots=True)
class Reading:
    """A scored bucket of one metric of one series."""

    series_id: int
    metric: str
    start: datetime
    value: float
    expected: float
    low: float
    high: float
    score: float


def _detector(state: bytes | None) -> SeriesDetector:
    detector = SeriesDetector()
    if state:
        try:
            detector.load(state)
        except ValueError:
            # A state from other detector parameters (an upgrade): learn the series again.
            return SeriesDetector()
    return detector


def _buckets(first: datetime, last: datetime) -> Iterator[datetime]:
    moment = first
    while moment <= last:
        yield moment
        moment += BUCKET


def score_series(session: Session, series: RadarSeries, now: datetime) -> list[Reading]:
    """Score the series' finished buckets not scored yet; returns the new readings."""
    last = bucket_start(now - GRACE) - BUCKET
    first = series.scored_until
    if first is None:
        earliest = session.scalar(
            select(func.min(RadarBucket.start)).where(
                RadarBucket.series_id == series.id, RadarBucket.grain == "m5"
            )
        )
        if earliest is None:
            return []
        first = earliest
    first = max(first, bucket_start(now) - timedelta(days=HISTORY_DAYS))
    if first > last:
        return []
    totals: dict[datetime, tuple[int, int]] = {}
    statement = (
        select(RadarBucket.start, func.sum(RadarBucket.volume), func.sum(RadarBucket.negative))
        .where(
            RadarBucket.series_id == series.id,
            RadarBucket.grain == "m5",
            RadarBucket.start >= first,
            RadarBucket.start <= last,
        )
        .group_by(RadarBucket.start)
    )
    for start, volume, negative in session.execute(statement):
        totals[start] = (int(volume or 0), int(negative or 0))
    detectors = {
        "volume": _detector(series.volume_state),
        "negative": _detector(series.negative_state),
    }
    readings: list[Reading] = []
    for start in _buckets(first, last):
        volume, negative = totals.get(start, (0, 0))
        for metric, value in (("volume", volume), ("negative", negative)):
            out = detectors[metric].update(start, float(value))
            readings.append(
                Reading(
                    series.id,
                    metric,
                    start,
                    float(value),
                    float(out.expected),
                    float(out.low),
                    float(out.high),
                    float(out.score),
                )
            )
    series.volume_state = detectors["volume"].dump_state()
    series.negative_state = detectors["negative"].dump_state()
    series.scored_until = last + BUCKET
    # A quiet empty bucket is not stored: most buckets of most queries' series are empty, and
    # thousands of series would otherwise write two rows each every 5 minutes for nothing.
    stored = [r for r in readings if r.value or r.score >= QUIET_SCORE]
    insert_rows(
        session,
        RadarPoint.__table__,  # type: ignore[arg-type]
        ("series_id", "metric", "start", "value", "expected", "low", "high", "score"),
        [
            (r.series_id, r.metric, r.start, r.value, r.expected, r.low, r.high, r.score)
            for r in stored
        ],
        conflict=("series_id", "metric", "start"),
        update=("value", "expected", "low", "high", "score"),
    )
    session.flush()
    return readings


def score_workspace(session: Session, workspace_id: int, now: datetime) -> list[Reading]:
    """Score every series of the workspace up to the last finished bucket."""
    readings: list[Reading] = []
    for series in session.scalars(
        select(RadarSeries).where(RadarSeries.workspace_id == workspace_id).order_by(RadarSeries.id)
    ):
        readings.extend(score_series(session, series, now))
    return readings
