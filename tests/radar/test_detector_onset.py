"""The detector alerts at an event's onset, discounts weekend-only bursts, resets old states."""

from __future__ import annotations

import math
import struct
from datetime import datetime, timedelta

import pytest

from clameur.radar.detection import _detector
from clameur.radar.detector import DetectorParams, SeriesDetector

START = datetime(2026, 3, 2)  # a Monday
STEP = timedelta(minutes=5)
DAY = 288


def brand(days: int, seed: int = 11) -> list[float]:
    """A synthetic brand: busy afternoons, quiet weekends, Poisson-like noise."""
    state = seed
    values = []
    for i in range(days * DAY):
        moment = START + i * STEP
        base = 20 + 15 * math.sin((moment.hour - 9) / 24 * 2 * math.pi)
        base *= 0.4 if moment.weekday() >= 5 else 1.0
        state = (1103515245 * state + 12345) % 2**31
        noise = (state / 2**31 - 0.5) * 2 * math.sqrt(base)
        values.append(max(round(base + noise), 0))
    return values


def alerts(params: DetectorParams, values: list[float], since: int) -> list[int]:
    detector = SeriesDetector(params=params)
    readings = [detector.update(START + i * STEP, v) for i, v in enumerate(values)]
    return [i for i, r in enumerate(readings) if r.alert and i >= since]


def two_waves(values: list[float], at: int) -> list[float]:
    """A burst, then an hour later a second wave ten times bigger: one event, not two."""
    values = list(values)
    values[at] += 300
    values[at + 1] += 150
    values[at + 12] += 3000
    values[at + 13] += 1500
    return values


def test_an_event_alerts_at_its_onset_and_not_again_at_its_bigger_second_wave() -> None:
    onset = 4 * DAY + 14 * 12  # Friday, 14:00
    values = two_waves(brand(days=5), onset)
    assert alerts(DetectorParams(), values, since=4 * DAY) == [onset]


def test_without_the_refractory_period_the_second_wave_alerts_again() -> None:
    onset = 4 * DAY + 14 * 12
    values = two_waves(brand(days=5), onset)
    assert alerts(DetectorParams(refractory=0), values, since=4 * DAY) == [onset, onset + 12]


def test_the_refractory_period_resumes_exactly_after_a_dump() -> None:
    onset = 4 * DAY + 14 * 12
    values = two_waves(brand(days=5), onset)
    one = SeriesDetector()
    full = [one.update(START + i * STEP, v).score for i, v in enumerate(values)]
    first = SeriesDetector()
    middle = onset + 5  # inside the refractory period
    scores = [first.update(START + i * STEP, v).score for i, v in enumerate(values[:middle])]
    second = SeriesDetector()
    second.load(first.dump_state())
    scores += [second.update(START + i * STEP, values[i]).score for i in range(middle, len(values))]
    assert scores == full


def test_a_burst_on_a_quiet_weekend_counts_for_less_than_against_the_weekend_alone() -> None:
    values = brand(days=14)
    saturday = 12 * DAY + 15 * 12  # the second Saturday, 15:00
    values[saturday] += 40

    def score(params: DetectorParams) -> float:
        detector = SeriesDetector(params=params)
        return [detector.update(START + i * STEP, v).score for i, v in enumerate(values)][saturday]

    assert score(DetectorParams()) < score(DetectorParams(quiet_day_share=0.0))


def test_a_state_of_the_previous_version_is_refused_and_the_series_learns_again() -> None:
    detector = SeriesDetector()
    for i, v in enumerate(brand(days=2)):
        detector.update(START + i * STEP, v)
    state = detector.dump_state()
    # The previous layout: a version-2 header and 83 float32 values (360 bytes).
    header = struct.Struct("<4sHHqqI")
    _, _, slots, seen, last_us, fingerprint = header.unpack_from(state)
    old = header.pack(b"CLRD", 2, slots, seen, last_us, fingerprint) + bytes(83 * 4)
    with pytest.raises(ValueError):
        SeriesDetector().load(old)
    assert _detector(old).points_seen == 0
    assert _detector(state).points_seen == 2 * DAY
