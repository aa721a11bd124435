"""The NAB scorer: NAB's published realTweets scores reproduced, NAB's own unit cases."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from clameur.radar import nab

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "nab-realtweets"
STANDARD = nab.PROFILES["standard"]
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="NAB realTweets folder not present")


def _stamps(n: int) -> list[datetime]:
    return [datetime(2016, 7, 5) + timedelta(minutes=5 * i) for i in range(n)]


def _raw(predictions: list[int], windows: list[tuple[int, int]], profile: nab.Profile) -> float:
    part = nab.sweep_file("f", predictions, windows, profile, probation_percent=0.0)
    return nab.score_file(part, profile, 1.0).raw


# NAB tests/unit/scorer_test.py: its cost matrix and expected values.
COST = nab.Profile("test", tp_weight=1.1, fp_weight=0.11, fn_weight=1.2)


def test_false_positives_before_any_window_cost_the_full_fp_weight() -> None:
    assert _raw([0, 1, 0, 1, 0], [], COST) == pytest.approx(-2 * 0.11)


def test_missed_windows_cost_the_fn_weight_each() -> None:
    assert _raw([0] * 7, [(1, 2), (4, 5)], COST) == pytest.approx(-2 * 1.2)


def test_detection_on_the_last_row_of_a_two_row_window_earns_s_of_minus_half() -> None:
    expected = 0.8482836399575131 * 1.1 / 0.9866142981514305 - 1.2
    assert _raw([0, 0, 1, 0, 0, 0, 0], [(1, 2), (4, 5)], COST) == pytest.approx(expected)


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    assert _raw([0, 0, 0, 0, 1, 1, 0], [(4, 5)], COST) == pytest.approx(1.1)


def test_probationary_rows_are_not_scored() -> None:
    part = nab.sweep_file("f", [0, 1, 0, 1, 0], [], COST, probation_percent=0.8)
    assert nab.score_file(part, COST, 1.0).raw == pytest.approx(0.0)
    assert nab.probation_length(15902) == 750
    assert nab.probation_length(100) == 15


def test_a_false_positive_just_after_a_window_is_partly_forgiven() -> None:
    # Window of 11 rows ending at row 20; alarm 5 rows later: S(5 / 10) * fpWeight.
    predictions = [0] * 40
    predictions[25] = 1
    raw = _raw(predictions, [(10, 20)], STANDARD)
    assert raw == pytest.approx(-1.0 + nab.scaled_sigmoid(0.5) * 0.11)
    assert -0.11 < raw + 1.0 < 0
    predictions[25], predictions[39] = 0, 1  # 1.9 widths past: nearly a full false positive
    assert _raw(predictions, [(10, 20)], STANDARD) == pytest.approx(
        -1.0 + nab.scaled_sigmoid(1.9) * 0.11
    )


def test_threshold_sweep_matches_nab_sweeper_test() -> None:
    """NAB tests/integration/sweeper_test.py::testCalcScoreByThresholdReturnsExpectedScores."""
    profile = nab.Profile("t", 1.0, 1.0, 5.0)
    # Rows 0-1 probationary; windows A (rows 3-4) and B (row 5); sweep values set by hand.
    part = nab.FileSweep(
        "f",
        anomaly=np.array([0.5, 0.5, 0.0, 0.2, 0.3, 0.5, 0.5]),
        sweep=np.array([-1000, -1000, -3, 20, 10, 5, -3], dtype=float),
        window=np.array([-2, -2, -1, 0, 0, 1, -1]),
        windows=2,
    )
    curve = nab.score_by_threshold([part], profile)
    assert list(curve.thresholds) == [1.1, 0.5, 0.3, 0.2, 0.0]
    assert list(curve.scores) == pytest.approx([-10, 5 - 3 - 5, 5 - 3 + 10, 22, 19])
    assert list(curve.tp) == [0, 1, 2, 3, 3] and list(curve.fp) == [0, 1, 1, 1, 2]
    assert curve.best() == (0.2, 22.0)


def test_score_by_threshold_agrees_with_scoring_each_threshold() -> None:
    rng = np.random.default_rng(3)
    parts, spans = [], [[(300, 340), (600, 650)], [(200, 260)]]
    for number, windows in enumerate(spans):
        scores = np.round(rng.random(900), 2)
        parts.append(nab.sweep_file(f"f{number}", scores, windows, STANDARD))
    curve = nab.score_by_threshold(parts, STANDARD)
    for threshold, score in zip(curve.thresholds[1::7], curve.scores[1::7], strict=True):
        direct = sum(nab.score_file(p, STANDARD, threshold).raw for p in parts)
        assert direct == pytest.approx(score)


@needs_data
def test_windows_and_probation_give_nab_published_row_counts() -> None:
    corpus = nab.load_corpus(DATA)
    spans = corpus.spans()
    with (DATA / "published_raw_results_standard_profile.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["detector"] == "ARTime"]
    assert len(rows) == 10
    for row in rows:
        part = nab.sweep_file(
            row["file"], np.zeros(len(corpus.series[row["file"]][1])), spans[row["file"]], STANDARD
        )
        inside = int((part.window >= 0).sum())
        outside = int((part.window == -1).sum())
        assert inside == int(row["TP"]) + int(row["FN"])
        assert outside == int(row["TN"]) + int(row["FP"])
        assert inside + outside == int(row["total_count"])


@needs_data
def test_published_realtweets_standard_scores_are_reproduced() -> None:
    """Per-file raw results summed and normalised give the published realTweets figures."""
    raw: dict[str, float] = defaultdict(float)
    with (DATA / "published_raw_results_standard_profile.csv").open() as handle:
        for row in csv.DictReader(handle):
            raw[row["detector"]] += float(row["raw_score"])
    with (DATA / "recomputed_scores_from_published_results.csv").open() as handle:
        published = {r["detector"]: float(r["standard_realTweets"]) for r in csv.DictReader(handle)}
    windows = sum(len(w) for w in nab.load_corpus(DATA).windows.values())
    assert windows == 33
    assert nab.normalise(raw["null"], windows, STANDARD) == pytest.approx(0.0)
    for detector, expected in published.items():
        got = nab.normalise(raw[detector], windows, STANDARD)
        assert math.isclose(got, expected, abs_tol=0.1), (detector, got, expected)
    assert len(published) == 14
