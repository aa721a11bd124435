"""NAB scoring (Numenta Anomaly Benchmark v1.1), pure Python and NumPy.

Follows the semantics of NAB's reference code (numenta/NAB `nab/sweeper.py`, the threshold
optimisation of `nab/optimizer.py`, the normalisation of `nab/runner.py`):

- Each labelled window rewards the earliest detection inside it with
  ``tpWeight * S(-(right - i + 1) / width) / S(-1)``, where ``S(x) = 2 / (1 + e^(5x)) - 1`` is
  the scaled sigmoid (so the window's first point earns the full ``tpWeight``); a window
  without detection costs ``fnWeight``. Further detections in the same window add nothing.
- A detection outside every window costs ``fpWeight * S((i - right_prev) / (width_prev - 1))``
  when a window precedes it (NAB's rule: an alarm shortly after a window is forgiven in part;
  ``S`` is -1 beyond 3 widths), and ``fpWeight`` when none does.
- The probationary period, ``min(floor(0.15 * n), 0.15 * 5000)`` first rows of each file, is
  not scored (750 rows for every realTweets file).
- A detection is a row whose anomaly score is ``>= threshold``. The threshold is optimised per
  profile over the whole corpus by sweeping every distinct anomaly score (``nab.sweeper``'s
  ``calcScoreByThreshold``; ties go to the highest threshold, as NAB's stable sort does).
- Normalised score = ``100 * (raw - null) / (perfect - null)`` with ``null = -fnWeight * W``
  (a detector that never fires) and ``perfect = tpWeight * W``, W the number of windows.

What is proved against the published figures (tests/radar/test_nab_scoring.py): the data set
folder gives NAB's per-file raw results (standard profile), not the detectors' per-timestamp
outputs, so the test reproduces the aggregation and normalisation of every published detector's
realTweets score (within 0.1), and checks that these windows and this probationary period give
exactly NAB's published per-file TP+FN / TN+FP row counts. The window/sigmoid/false-positive
and threshold-sweep arithmetic is tested on hand-built cases taken from NAB's own unit tests.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

PROBATION_PERCENT = 0.15
# NAB caps the probationary period at 15% of 5,000 rows (nab/sweeper.py).
PROBATION_CAP_ROWS = 5000


@dataclass(frozen=True)
class Profile:
    """A NAB application profile: the weights of true positives, false positives, misses."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


# NAB config/profiles.json.
PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", 1.0, 0.11, 1.0),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
}


def scaled_sigmoid(position: float) -> float:
    """NAB's scaled sigmoid of a relative position (-1: window start, 0: window end)."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def _scaled_sigmoid_array(position: np.ndarray) -> np.ndarray:
    # exp overflows harmlessly to inf (-> -1) far past a window; clip to keep NumPy quiet.
    value = 2.0 / (1.0 + np.exp(np.clip(5.0 * position, -700.0, 700.0))) - 1.0
    return np.where(position > 3.0, -1.0, value)


MAX_TP = scaled_sigmoid(-1.0)


def probation_length(rows: int, percent: float = PROBATION_PERCENT) -> float:
    """How many first rows of a file NAB leaves unscored."""
    return min(math.floor(percent * rows), percent * PROBATION_CAP_ROWS)


def window_indices(
    timestamps: Sequence[datetime], windows: Sequence[tuple[datetime, datetime]]
) -> list[tuple[int, int]]:
    """Row indices (first, last) of each window: the rows whose timestamps fall inside it."""
    stamps = np.array([t.timestamp() for t in timestamps])
    spans = []
    for start, end in windows:
        first = int(np.searchsorted(stamps, start.timestamp(), side="left"))
        last = int(np.searchsorted(stamps, end.timestamp(), side="right")) - 1
        if last < first:
            raise ValueError(f"window {start} .. {end} holds no row")
        spans.append((first, last))
    return spans


@dataclass
class FileSweep:
    """Per row of one file: its weighted score if detected, and its window (-1 outside)."""

    name: str
    anomaly: np.ndarray
    sweep: np.ndarray
    window: np.ndarray  # window number within the file, -1 outside any, -2 in probation
    windows: int


def sweep_file(
    name: str,
    anomaly_scores: Sequence[float] | np.ndarray,
    spans: Sequence[tuple[int, int]],
    profile: Profile,
    probation_percent: float = PROBATION_PERCENT,
) -> FileSweep:
    """Weight every row of a file as NAB's `calcSweepScore` does, given its window rows."""
    anomaly = np.asarray(anomaly_scores, dtype=np.float64)
    rows = len(anomaly)
    index = np.arange(rows)
    window = np.full(rows, -1, dtype=np.int64)
    sweep = np.full(rows, -profile.fp_weight)  # before any window: a full false positive
    ordered = sorted(spans)
    for number, (first, last) in enumerate(ordered):
        width = last - first + 1
        inside = slice(first, last + 1)
        position = -(last - index[inside] + 1) / width
        sweep[inside] = _scaled_sigmoid_array(position) * profile.tp_weight / MAX_TP
        window[inside] = number
        # Rows after this window and before the next one are scored against this window.
        stop = ordered[number + 1][0] if number + 1 < len(ordered) else rows
        after = slice(last + 1, stop)
        past = np.abs(index[after] - last) / max(width - 1, 1)
        sweep[after] = _scaled_sigmoid_array(past) * profile.fp_weight
    window[: int(math.ceil(probation_length(rows, probation_percent)))] = -2
    return FileSweep(name, anomaly, sweep, window, len(ordered))


@dataclass
class ThresholdCurve:
    """The corpus score for every candidate threshold (highest first, 1.1 = never fires)."""

    thresholds: np.ndarray
    scores: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    windows: int

    def best(self) -> tuple[float, float]:
        """The (threshold, raw score) NAB's optimiser picks: the first maximum."""
        at = int(np.argmax(self.scores))
        return float(self.thresholds[at]), float(self.scores[at])


def score_by_threshold(sweeps: Sequence[FileSweep], profile: Profile) -> ThresholdCurve:
    """NAB's `calcScoreByThreshold` over several files at once, vectorised."""
    anomaly_parts, sweep_parts, group_parts = [], [], []
    offset = 0
    for part in sweeps:
        keep = part.window != -2
        anomaly_parts.append(part.anomaly[keep])
        sweep_parts.append(part.sweep[keep])
        group = part.window[keep]
        group_parts.append(np.where(group >= 0, group + offset, -1))
        offset += part.windows
    total_windows = offset
    anomaly = np.concatenate(anomaly_parts) if anomaly_parts else np.zeros(0)
    sweep = np.concatenate(sweep_parts) if sweep_parts else np.zeros(0)
    group = np.concatenate(group_parts) if group_parts else np.zeros(0, dtype=np.int64)

    order = np.argsort(-anomaly, kind="stable")
    anomaly, sweep, group = anomaly[order], sweep[order], group[order]
    outside = group == -1
    change = np.where(outside, sweep, 0.0)
    # A window's part is -fnWeight until detected, then the best (earliest) detection so far.
    inside_rows = np.flatnonzero(~outside)
    if len(inside_rows):
        by_window = inside_rows[np.argsort(group[inside_rows], kind="stable")]
        windows_sorted = group[by_window]
        starts = np.flatnonzero(np.r_[True, windows_sorted[1:] != windows_sorted[:-1]])
        ends = np.r_[starts[1:], len(by_window)]
        for start, end in zip(starts, ends, strict=True):
            rows = by_window[start:end]
            best = np.maximum.accumulate(np.r_[-profile.fn_weight, sweep[rows]])
            change[rows] = np.diff(best)
    running = -profile.fn_weight * total_windows + np.cumsum(change)
    tp = np.cumsum(~outside)
    fp = np.cumsum(outside)
    # One row per distinct anomaly score: the state after every row scoring at least that much.
    last_of_value = np.flatnonzero(np.r_[anomaly[1:] != anomaly[:-1], True])
    return ThresholdCurve(
        thresholds=np.r_[1.1, anomaly[last_of_value]],
        scores=np.r_[-profile.fn_weight * total_windows, running[last_of_value]],
        tp=np.r_[0, tp[last_of_value]],
        fp=np.r_[0, fp[last_of_value]],
        windows=total_windows,
    )


@dataclass
class FileScore:
    """One file scored at a fixed threshold, with NAB's row counts."""

    name: str
    raw: float
    tp: int
    tn: int
    fp: int
    fn: int
    windows: int
    windows_detected: int


def score_file(part: FileSweep, profile: Profile, threshold: float) -> FileScore:
    """Score one file at a threshold, as NAB's `scoreDataSet` does."""
    scored = part.window != -2
    detected = (part.anomaly >= threshold) & scored
    outside = part.window == -1
    raw = float(part.sweep[detected & outside].sum())
    found = 0
    for number in range(part.windows):
        hits = detected & (part.window == number)
        if hits.any():
            raw += float(part.sweep[hits].max())
            found += 1
        else:
            raw -= profile.fn_weight
    inside = scored & ~outside
    return FileScore(
        name=part.name,
        raw=raw,
        tp=int((detected & inside).sum()),
        tn=int((~detected & outside).sum()),
        fp=int((detected & outside).sum()),
        fn=int((~detected & inside).sum()),
        windows=part.windows,
        windows_detected=found,
    )


def normalise(raw: float, windows: int, profile: Profile) -> float:
    """NAB's normalised score: 0 for a detector that never fires, 100 for a perfect one."""
    null = -profile.fn_weight * windows
    perfect = profile.tp_weight * windows
    return 100.0 * (raw - null) / (perfect - null)


@dataclass
class CorpusScore:
    """A detector's result on a corpus for one profile."""

    profile: str
    threshold: float
    raw: float
    normalised: float
    windows: int
    files: list[FileScore] = field(default_factory=list)


def score_corpus(
    outputs: Mapping[str, Sequence[float] | np.ndarray],
    spans: Mapping[str, Sequence[tuple[int, int]]],
    profile: Profile,
    threshold: float | None = None,
) -> CorpusScore:
    """Score a detector's outputs, threshold optimised over the corpus unless one is given."""
    sweeps = [sweep_file(name, outputs[name], spans[name], profile) for name in sorted(outputs)]
    if threshold is None:
        threshold, _ = score_by_threshold(sweeps, profile).best()
    files = [score_file(part, profile, threshold) for part in sweeps]
    windows = sum(part.windows for part in sweeps)
    raw = sum(item.raw for item in files)
    return CorpusScore(
        profile.name, threshold, raw, normalise(raw, windows, profile), windows, files
    )


# -- the data set folder ---------------------------------------------------------------------


def parse_timestamp(text: str) -> datetime:
    """A NAB timestamp (`YYYY-MM-DD HH:MM:SS[.ffffff]`) as a naive datetime."""
    return datetime.fromisoformat(text.strip())


def read_series(path: Path) -> tuple[list[datetime], np.ndarray]:
    """The timestamps and values of a NAB data file (`timestamp,value`)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [parse_timestamp(r["timestamp"]) for r in rows], np.array(
        [float(r["value"]) for r in rows]
    )


@dataclass
class NabCorpus:
    """The series of a NAB folder and their labelled windows, keyed by file name."""

    series: dict[str, tuple[list[datetime], np.ndarray]]
    windows: dict[str, list[tuple[datetime, datetime]]]

    def spans(self) -> dict[str, list[tuple[int, int]]]:
        """Row indices of every window, per file."""
        return {
            name: window_indices(self.series[name][0], self.windows[name]) for name in self.series
        }


def load_corpus(folder: Path, category: str = "realTweets") -> NabCorpus:
    """Read `data/*.csv` and `labels_windows.json` of a NAB folder (see its README)."""
    labels = json.loads((folder / "labels_windows.json").read_text("utf-8"))
    series: dict[str, tuple[list[datetime], np.ndarray]] = {}
    windows: dict[str, list[tuple[datetime, datetime]]] = {}
    for path in sorted((folder / "data").glob("*.csv")):
        series[path.name] = read_series(path)
        limits = labels.get(f"{category}/{path.name}", [])
        windows[path.name] = [(parse_timestamp(a), parse_timestamp(b)) for a, b in limits]
    return NabCorpus(series, windows)
