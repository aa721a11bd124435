"""The radar's streaming detector and its baselines: causal, resumable, bounded, sensible."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from clameur.radar.baselines import SeasonalEwmaDetector, WindowedGaussianDetector
from clameur.radar.detector import DetectorParams, SeriesDetector, alert_threshold

START = datetime(2026, 3, 2)  # a Monday
STEP = timedelta(minutes=5)


def mentions(days: int = 5, spike_at: int | None = None, seed: int = 7) -> list[float]:
    """A synthetic brand: a daily rhythm (busy afternoons), weekend dip, Poisson-like noise."""
    state = seed
    values = []
    for i in range(days * 288):
        moment = START + i * STEP
        base = 20 + 15 * math.sin((moment.hour - 9) / 24 * 2 * math.pi)
        base *= 0.6 if moment.weekday() >= 5 else 1.0
        state = (1103515245 * state + 12345) % 2**31
        noise = (state / 2**31 - 0.5) * 2 * math.sqrt(base)
        values.append(max(round(base + noise), 0))
    if spike_at is not None:
        for i in range(spike_at, spike_at + 6):
            values[i] = values[i] * 8 + 150
    return values


def run(detector: SeriesDetector, values: list[float], start: int = 0) -> list[float]:
    return [detector.update(START + (start + i) * STEP, v).score for i, v in enumerate(values)]


def test_scores_of_a_prefix_do_not_depend_on_what_follows() -> None:
    values = mentions(spike_at=4 * 288)
    full = run(SeriesDetector(), values)
    half = run(SeriesDetector(), values[: len(values) // 2])
    assert half == full[: len(half)]


def test_dump_and_load_midway_gives_exactly_the_scores_of_one_pass() -> None:
    values = mentions(spike_at=3 * 288 + 40)
    full = run(SeriesDetector(), values)
    first = SeriesDetector()
    middle = len(values) // 2 + 17
    scores = run(first, values[:middle])
    resumed = SeriesDetector()
    resumed.load(first.dump_state())
    scores += run(resumed, values[middle:], start=middle)
    assert scores == full
    assert resumed.points_seen == len(values)


def test_state_is_compact_and_refuses_other_parameters() -> None:
    detector = SeriesDetector()
    run(detector, mentions(days=2))
    state = detector.dump_state()
    assert len(state) < 1024
    other = SeriesDetector(params=DetectorParams(memory_decay=0.9))
    with pytest.raises(ValueError, match="other detector parameters"):
        other.load(state)
    with pytest.raises(ValueError):
        SeriesDetector().load(state[:-4])


def test_scores_stay_in_the_unit_interval_and_the_spike_scores_highest() -> None:
    spike = 4 * 288 + 100
    detector = SeriesDetector()
    scores = run(detector, mentions(spike_at=spike))
    assert all(0.0 <= s < 1.0 for s in scores)
    assert max(scores[:288]) == 0.0  # warm-up
    assert max(range(len(scores)), key=scores.__getitem__) in range(spike, spike + 6)
    assert scores[spike] >= alert_threshold(0.5)


def test_an_event_alerts_once_then_its_aftershocks_stay_quiet() -> None:
    values = mentions(spike_at=4 * 288)
    for i in range(4 * 288 + 30, 4 * 288 + 36):  # a second, smaller burst half an hour later
        values[i] = values[i] * 4 + 60
    detector = SeriesDetector()
    readings = [detector.update(START + i * STEP, v) for i, v in enumerate(values)]
    alerts = [i for i, r in enumerate(readings) if r.alert and i >= 4 * 288]
    assert alerts and alerts[0] == 4 * 288
    assert all(i < 4 * 288 + 6 for i in alerts)


def test_band_surrounds_the_ordinary_counts_and_follows_the_daily_rhythm() -> None:
    detector = SeriesDetector()
    values = mentions(days=4)
    readings = [detector.update(START + i * STEP, v) for i, v in enumerate(values)]
    last_day = list(zip(values[-288:], readings[-288:], strict=True))
    inside = sum(r.low <= v <= r.high for v, r in last_day)
    assert inside / len(last_day) > 0.9
    assert all(0 <= r.low <= r.expected <= r.high for _, r in last_day)
    afternoon = readings[-288 + 15 * 12].expected
    night = readings[-288 + 3 * 12].expected
    assert afternoon > 2 * night


def test_missing_buckets_count_as_zeros_and_time_must_move_forward() -> None:
    values = mentions(days=2)
    with_gap = SeriesDetector()
    explicit = SeriesDetector()
    for i, v in enumerate(values[:300]):
        with_gap.update(START + i * STEP, v)
        explicit.update(START + i * STEP, v)
    for i in range(300, 303):
        explicit.update(START + i * STEP, 0.0)
    after_gap = with_gap.update(START + 303 * STEP, 40.0)
    assert after_gap == explicit.update(START + 303 * STEP, 40.0)
    assert with_gap.points_seen == 304
    with pytest.raises(ValueError, match="time order"):
        with_gap.update(START + 303 * STEP, 1.0)


def test_sensitivity_lowers_the_alert_threshold() -> None:
    assert alert_threshold(1.0) < alert_threshold(0.5) < alert_threshold(0.0) < 1.0
    assert SeriesDetector(sensitivity=1.0).threshold == alert_threshold(1.0)


@pytest.mark.parametrize("make", [WindowedGaussianDetector, SeasonalEwmaDetector])
def test_baselines_resume_exactly_and_score_in_the_unit_interval(make: type) -> None:
    values = mentions(days=3, spike_at=2 * 288 + 50)
    kwargs = {"window": 400, "step": 10} if make is WindowedGaussianDetector else {}
    one = make(**kwargs)
    full = [one.update(START + i * STEP, v).score for i, v in enumerate(values)]
    first = make(**kwargs)
    middle = 2 * 288 + 3
    scores = [first.update(START + i * STEP, v).score for i, v in enumerate(values[:middle])]
    second = make(**kwargs)
    second.load(first.dump_state())
    scores += [second.update(START + i * STEP, values[i]).score for i in range(middle, len(values))]
    assert scores == full
    assert all(0.0 <= s <= 1.0 for s in full)
    assert max(full[2 * 288 :]) == max(full[2 * 288 + 50 : 2 * 288 + 56])
