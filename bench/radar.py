"""Radar anomaly detection on NAB realTweets: Clameur's detector and two baselines, NAB-scored.

    .venv/bin/python -m bench.radar [--data DIR] [--no-loso]

Runs `clameur.radar.detector.SeriesDetector` (fixed default parameters, and the previous
defaults, without the quiet-day share and the refractory period, as the "before" row), NAB's
windowed Gaussian and a seasonal EWMA (`clameur.radar.baselines`) over the 10 Twitter-volume series,
one causal pass each, and scores them with `clameur.radar.nab` (the threshold optimised per
profile over the 10 files, as NAB does over its corpus). Beside them, the published realTweets
figures of ARTime, CAD OSE and windowed Gaussian (recomputed from NAB's own per-file results,
see the data folder's README; their thresholds were tuned on NAB's whole corpus). Also:
throughput of `update()` (points per CPU second, one core), the size of a dumped state, and a
leave-one-series-out check of the detector's hyper-parameter grid. Writes
bench/results/radar.json and radar.md.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bench.common import RESULTS, ROOT, envelope, pin_to_one_core, write_json
from clameur.radar import nab
from clameur.radar.baselines import SeasonalEwmaDetector, WindowedGaussianDetector
from clameur.radar.detector import DetectorParams, Reading, SeriesDetector, alert_threshold

JSON_FILE = RESULTS / "radar.json"
MD_FILE = RESULTS / "radar.md"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "nab-realtweets"
PROFILE_NAMES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
TARGETS = {"standard": 82.0, "reward_low_FP_rate": 72.0, "reward_low_FN_rate": 88.0}
PUBLISHED = (
    ("ARTime", "ARTime"),
    ("contextOSE", "CAD OSE"),
    ("windowedGaussian", "NAB windowed Gaussian"),
)
# The detector before the quiet-day share and the refractory period (its defaults up to
# commit f699035): these two knobs off reproduce its scores exactly.
BEFORE = DetectorParams(quiet_day_share=0.0, refractory=0)
# The grid of the leave-one-series-out check: the three knobs that moved the score most while
# the defaults were chosen (on all 10 series); the defaults are its centre.
GRID = {
    "poisson_floor": (0.4, 0.5, 0.7),
    "memory_floor": (3.0, 4.0, 5.0),
    "long_span": (36, 48, 72),
}

# Changes measured against the defaults and not taken (in-sample / leave-one-series-out / grid
# mean, standard profile first then low FP and low FN; defaults 81.4 / 73.0 / 74.1). Kept here
# so that a regeneration of radar.md keeps them.
TRIED = (
    "Slower learning from readings far outside the band (robust EWMA), so that a sustained "
    "burst keeps a high surprise: the spread learning from residuals winsorised at 2.5 spreads "
    "instead of 3: 80.0 / 72.0 / 73.5 (low FP 65.5 / 56.5 / 58.2); at 2 spreads 77.0 in-sample "
    "(106 false-positive rows instead of 78), at 1.5 70.4 (31/33 windows); learning at 0.7 of the "
    "rate beyond 3 spreads: 80.5 / 77.5 / 73.0 (low FP 66.5 / 58.8 / 57.0), at 0.3 74.8 "
    "in-sample; level and rhythm learning from upward residuals winsorised at 2 spreads: "
    "79.0 / 75.0 / 73.7; the 4-hour average fed residuals winsorised at 2 or 3 spreads: 76.7 and "
    "79.5 in-sample (5 and more: no change). Each adds false-positive rows (88 at 2.5 "
    "spreads, 106 at 2, 120 at a rate of 0.3): the spread that grows during a burst seems to "
    "be what keeps its later buckets quiet once the refractory period is over.",
    "The other way, 3.5 spreads: 82.4 / 79.6 / 74.2 (low FP 70.6 / 67.8 / 59.8, low FN "
    "88.3 / 85.4 / 81.2: the grid mean moves by 0.6 at most); a narrow peak (3.25: 81.9, "
    "3.75: 80.7, 4: 79.6; with `memory_floor` 3 or 5: 77.2 and 74.8), so not taken.",
    "A bucket's surprise supported by the previous bucket's (min of the two, a one-bucket "
    "delay that costs about 0.002 under NAB's sigmoid): 65.9 in-sample, 27/33 windows (78 -> 65 "
    "false-positive rows); half-weighted 65.8; a fifth 71.3 / 69.0 / 68.6. Seven windows are "
    "found at an isolated single-bucket spike (AMZN, FB twice, GOOG, IBM, PFE twice), against "
    "about 17 isolated false positives, and a missed window costs as much as 17 of them.",
    "A fixed, data-independent map of the surprise to [0, 1]: any increasing map gives the same "
    "NAB score as thresholding the surprise itself (the threshold sweep only ranks scores); "
    "with the memory replaced by a constant, z / (z + 5), 64.2 in-sample (low FP 41.3, 153 "
    "false-positive rows, 31/33 windows). The memory of past surprises is what lets one "
    "threshold serve every series.",
    "Refractory period started at 0.5: 68.9 in-sample (a precursor silences its window); at "
    "0.6: 80.3 / 72.0 / 73.2; started by the undamped score: no change.",
)


class Detector(Protocol):
    def update(self, timestamp: Any, value: float) -> Reading: ...

    def dump_state(self) -> bytes: ...


def run_detector(
    make: Callable[[], Detector], corpus: nab.NabCorpus
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Scores of every series in one causal pass, with the CPU time and state size."""
    outputs: dict[str, np.ndarray] = {}
    points = 0
    cpu = 0.0
    sizes = []
    for name, (stamps, values) in corpus.series.items():
        detector = make()
        plain = values.tolist()
        started = time.process_time()
        scores = [detector.update(t, v).score for t, v in zip(stamps, plain, strict=True)]
        cpu += time.process_time() - started
        outputs[name] = np.array(scores)
        points += len(scores)
        sizes.append(len(detector.dump_state()))
    speed = {
        "points": points,
        "cpu_seconds": round(cpu, 2),
        "points_per_cpu_second": round(points / cpu),
        "microseconds_per_update": round(cpu / points * 1e6, 2),
        "state_bytes": max(sizes),
    }
    return outputs, speed


def score_all(outputs: dict[str, np.ndarray], spans: dict[str, Any]) -> dict[str, Any]:
    """NAB scores for the three profiles, threshold optimised on the corpus."""
    figures = {}
    for name in PROFILE_NAMES:
        profile = nab.PROFILES[name]
        result = nab.score_corpus(outputs, spans, profile)
        figures[name] = {
            "normalised": round(result.normalised, 1),
            "raw": round(result.raw, 3),
            "threshold": round(result.threshold, 6),
            "windows_detected": sum(f.windows_detected for f in result.files),
            "windows": result.windows,
            "false_positive_rows": sum(f.fp for f in result.files),
            "files": {
                f.name: {
                    "raw": round(f.raw, 3),
                    "detected": f.windows_detected,
                    "windows": f.windows,
                    "fp": f.fp,
                }
                for f in result.files
            },
        }
    return figures


def leave_one_series_out(
    corpus: nab.NabCorpus, spans: dict[str, Any], base: DetectorParams
) -> dict[str, Any]:
    """Parameters and threshold chosen on 9 series, the 10th scored with them; raw scores pooled."""
    names = sorted(corpus.series)
    configs = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    runs = []
    for config in configs:
        params = replace(base, **config)
        outputs, _ = run_detector(lambda p=params: SeriesDetector(params=p), corpus)
        runs.append(outputs)
    figures: dict[str, Any] = {
        "grid": {k: list(v) for k, v in GRID.items()},
        "configs": len(configs),
    }
    for profile_name in PROFILE_NAMES:
        profile = nab.PROFILES[profile_name]
        sweeps = [
            {n: nab.sweep_file(n, outputs[n], spans[n], profile) for n in names} for outputs in runs
        ]
        in_sample = []
        for config_sweeps in sweeps:
            curve = nab.score_by_threshold(list(config_sweeps.values()), profile)
            in_sample.append(nab.normalise(curve.best()[1], curve.windows, profile))
        pooled_raw = 0.0
        chosen = {}
        for held in names:
            best: tuple[float, int, float] | None = None
            for index, config_sweeps in enumerate(sweeps):
                curve = nab.score_by_threshold(
                    [config_sweeps[n] for n in names if n != held], profile
                )
                threshold, raw = curve.best()
                if best is None or raw > best[0]:
                    best = (raw, index, threshold)
            assert best is not None
            _, index, threshold = best
            pooled_raw += nab.score_file(sweeps[index][held], profile, threshold).raw
            chosen[held] = configs[index]
        windows = sum(len(w) for w in corpus.windows.values())
        figures[profile_name] = {
            "normalised": round(nab.normalise(pooled_raw, windows, profile), 1),
            "in_sample_best_of_grid": round(max(in_sample), 1),
            "in_sample_worst_of_grid": round(min(in_sample), 1),
            "in_sample_mean_of_grid": round(sum(in_sample) / len(in_sample), 1),
            "chosen": chosen,
        }
    return figures


def published(folder: Path) -> dict[str, dict[str, float]]:
    """The realTweets-only reference figures of the data folder."""
    with (folder / "recomputed_scores_from_published_results.csv").open() as handle:
        rows = {r["detector"]: r for r in csv.DictReader(handle)}
    columns = {
        "standard": "standard_realTweets",
        "reward_low_FP_rate": "lowFP_realTweets",
        "reward_low_FN_rate": "lowFN_realTweets",
    }
    return {key: {p: float(rows[key][c]) for p, c in columns.items()} for key, _ in PUBLISHED}


def markdown(result: dict[str, Any]) -> str:
    """The results as a page: protocol, the table side by side, speed, the honesty check."""
    machine = result["machine"]
    det = result["detectors"]
    lines = [
        "# Radar: anomaly detection on NAB realTweets",
        "",
        f"Produced by `python -m bench.radar` on {result['date']} ({machine['cpu']}, "
        f"Python {machine['python']}), commit {str(result['git']['commit'])[:10]}.",
        "",
        "## Protocol",
        "",
        "- Data: NAB v1.1 realTweets, mentions of 10 tickers per 5 minutes, 158,631 points, "
        "33 labelled windows (read from ../shared/data/nab-realtweets; nothing is copied here).",
        "- Every detector runs once over each series, causally (`update()` one point at a time, "
        "fresh state per series), with the same parameters for all ten series.",
        "- Scoring: `clameur.radar.nab`, NAB's rules (earliest detection per window through the "
        "scaled sigmoid, false positives weighted by distance after a window, 750-row "
        "probation, threshold optimised per profile over the 10 files, "
        "normalised 100 x (raw - null) / (perfect - null)). The scorer reproduces the published "
        "per-file aggregation of every NAB detector (tests/radar/test_nab_scoring.py).",
        "- Published rows: NAB's own per-file results for the realTweets files, normalised over "
        "these 33 windows; their thresholds were tuned on NAB's whole 58-file corpus, ours on "
        "realTweets (an advantage to ours, see the leave-one-series-out check).",
        "- Clameur's default parameters were chosen by looking at scores on these same ten "
        "series (in-sample): the leave-one-series-out line says what that tuning is worth.",
        "",
        "## NAB scores (normalised, realTweets)",
        "",
        "| detector | standard | reward low FP | reward low FN | windows found (std) | "
        "false-positive rows (std) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "clameur": "**Clameur `SeriesDetector`** (defaults)",
        "clameur_before": "Clameur before (no quiet-day share, no refractory period)",
        "windowed_gaussian": "windowed Gaussian (ours, NAB's algorithm)",
        "seasonal_ewma": "seasonal EWMA (hour of week)",
    }
    for key, label in labels.items():
        scores = det[key]["scores"]
        std = scores["standard"]
        lines.append(
            f"| {label} | {std['normalised']} | {scores['reward_low_FP_rate']['normalised']} | "
            f"{scores['reward_low_FN_rate']['normalised']} | {std['windows_detected']}/"
            f"{std['windows']} | {std['false_positive_rows']} |"
        )
    loso = result.get("leave_one_series_out")
    loso_before = result.get("leave_one_series_out_before")
    for row, label in ((loso, "Clameur"), (loso_before, "Clameur before")):
        if row:
            lines.append(
                f"| {label}, leave-one-series-out (grid of {row['configs']}) | "
                f"{row['standard']['normalised']} | {row['reward_low_FP_rate']['normalised']} | "
                f"{row['reward_low_FN_rate']['normalised']} | | |"
            )
    for key, label in PUBLISHED:
        p = result["published"][key]
        lines.append(
            f"| {label} (published results) | {p['standard']} | {p['reward_low_FP_rate']} | "
            f"{p['reward_low_FN_rate']} | | |"
        )
    target = " / ".join(str(TARGETS[p]) for p in PROFILE_NAMES)
    clameur = det["clameur"]["scores"]
    verdict = " / ".join(
        "met" if clameur[p]["normalised"] >= TARGETS[p] else "**missed**" for p in PROFILE_NAMES
    )
    lines += [
        "",
        f"Targets {target}: {verdict}. Thresholds picked (standard / low FP / low FN): "
        + " / ".join(str(clameur[p]["threshold"]) for p in PROFILE_NAMES)
        + f"; `alert_threshold(0.5)` = {alert_threshold(0.5):.3f}.",
        "",
        "Clameur per series, standard profile (raw score, windows found, false-positive rows):",
        "",
        "| series | raw | windows | FP rows |",
        "|---|---:|---:|---:|",
    ]
    for name, f in clameur["standard"]["files"].items():
        lines.append(f"| {name} | {f['raw']} | {f['detected']}/{f['windows']} | {f['fp']} |")
    lines += [
        "",
        "## Cost",
        "",
        "| detector | µs per update | updates per CPU second | state bytes |",
        "|---|---:|---:|---:|",
    ]
    for key, label in labels.items():
        s = det[key]["speed"]
        lines.append(
            f"| {label} | {s['microseconds_per_update']} | {s['points_per_cpu_second']:,} | "
            f"{s['state_bytes']:,} |"
        )
    lines += [
        "",
        "One core, pure Python; the state is what `dump_state()` returns (the windowed Gaussian "
        "keeps its 6,400-value window).",
    ]
    if loso:
        lines += [
            "",
            "## Leave one series out",
            "",
            "For each series: the grid point and threshold that score best on the other nine, "
            "then the series scored with them; the ten raw scores pooled and normalised. Grid: "
            + ", ".join(f"`{k}` {v}" for k, v in loso["grid"].items())
            + " (the other parameters at their defaults). The leave-one-out figure moves by "
            "several points with small changes of the detector (the weakest windows sit right "
            "at the threshold), so the mean of the grid's in-sample scores is given beside it: "
            "a steadier reading of how good the detector is away from its tuned point.",
            "",
            "| detector | profile | leave-one-out | in-sample mean of grid | best of grid | "
            "worst of grid |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for label, figures in (("now", loso), ("before", loso_before)):
            if not figures:
                continue
            for p in PROFILE_NAMES:
                row = figures[p]
                lines.append(
                    f"| {label} | {p} | {row['normalised']} | {row['in_sample_mean_of_grid']} | "
                    f"{row['in_sample_best_of_grid']} | {row['in_sample_worst_of_grid']} |"
                )
    lines += ["", "## Tried and not taken", ""]
    lines += [f"- {item}" for item in TRIED]
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--no-loso", action="store_true", help="skip the leave-one-out check")
    args = parser.parse_args(argv)
    pin_to_one_core()
    corpus = nab.load_corpus(args.data)
    spans = corpus.spans()
    makers: dict[str, Callable[[], Detector]] = {
        "clameur": SeriesDetector,
        "clameur_before": lambda: SeriesDetector(params=BEFORE),
        "windowed_gaussian": WindowedGaussianDetector,
        "seasonal_ewma": SeasonalEwmaDetector,
    }
    detectors = {}
    for key, make in makers.items():
        outputs, speed = run_detector(make, corpus)
        detectors[key] = {"scores": score_all(outputs, spans), "speed": speed}
        print(key, {p: detectors[key]["scores"][p]["normalised"] for p in PROFILE_NAMES}, speed)
    figures: dict[str, Any] = {
        "detectors": detectors,
        "published": published(args.data),
        "targets": TARGETS,
    }
    if not args.no_loso:
        figures["leave_one_series_out"] = leave_one_series_out(corpus, spans, DetectorParams())
        figures["leave_one_series_out_before"] = leave_one_series_out(corpus, spans, BEFORE)
    parameters = {
        "data": "../shared/data/nab-realtweets",
        "detector": asdict(DetectorParams()),
        "detector_before": asdict(BEFORE),
        "windowed_gaussian": {"window": 6400, "step": 100},
        "seasonal_ewma": {"rate": 0.1, "slots": "hour of week"},
        "probation_rows": 750,
    }
    result = envelope("radar", parameters, figures)
    write_json(JSON_FILE, result)
    MD_FILE.write_text(markdown(result), "utf-8")
    print(MD_FILE.read_text("utf-8"))


if __name__ == "__main__":
    main()
