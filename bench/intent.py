"""Intent detection: complaints 10-fold CV (the paper's protocol), twcs figures, speed.

    .venv/bin/python -m bench.intent [--data DIR] [--only cv|variants|twcs|speed]

Complaints (Preotiuc-Pietro et al. 2019): 10-fold stratified cross-validation with a fixed
seed, every fold retraining the shipped recipe, its tuning done inside the training part only.
Variants of the recipe are reported beside it. twcs-topic-labels: the shipped model files
(evaluation only; the data are CC BY-NC-SA). Speed: CPU time on one pinned core. Each part
updates bench/results/intent.json and rewrites intent.md, so parts can run separately.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, envelope, pin_to_one_core, write_json
from clameur.nlp import hostility, intent, intent_train

DEFAULT_DATA = intent_train.DEFAULT_DATA
JSON_FILE = RESULTS / "intent.json"
MD_FILE = RESULTS / "intent.md"

# (name, cross_validate keyword arguments). The first is the shipped recipe.
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("shipped: n-grams + cues, C by inner 3-fold CV, threshold 0.5", {"tune_threshold": False}),
    ("n-grams + cues, C and threshold by inner 3-fold CV", {"tune_threshold": True}),
    (
        "n-grams + cues, fixed C=10, threshold 0.5 (no tuning)",
        {"c_grid": (10.0,), "tune_threshold": False},
    ),
    (
        "cues only (the French/other-language model), C by inner CV",
        {"use_ngrams": False, "tune_threshold": False},
    ),
]
# Measured during development (scikit-learn's StratifiedKFold, seed 0; scikit-learn's
# vectorisers or the shipped hashing, scikit-learn's LogisticRegression, C fixed by hand); not
# re-run here, since the bench needs no scikit-learn.
EXPLORATION = [
    ("scikit-learn tf-idf word 1-2 + char_wb 2-5, LR C=10, full @handles kept", 83.9),
    ("same with char_wb 1-6", 84.1),
    ("NB-weighted LR (NB-SVM style) on the same features, C=4, full @handles kept", 82.9),
    ("mean of the C=10 LR and the NB-weighted LR, full @handles kept", 83.7),
    ("hashed (2**20) word 1-2 + char_wb 2-5, LR C=10, full @handles kept", 84.2),
    ("same + cues, full @handles kept", 84.9),
    ("hashed, every @handle -> @user, no cues", 81.8),
    ("hashed, @handle -> @care / @user (shipped canonical form), no cues", 81.7),
    ("hashed, @handle -> @care / @user + cues (the shipped features)", 83.3),
    ("cues only (18 counts), LR, threshold 0.6", 77.3),
]


def run_cv(data: Path, variants: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    texts, labels, _ = intent_train.read_complaints(data)
    rows = []
    for name, options in variants:
        started = time.process_time()
        result = intent_train.cross_validate(texts, labels, **options)
        result.pop("proba")
        result["variant"] = name
        result["cpu_s"] = round(time.process_time() - started, 1)
        print(f"{name}: macro-F1 {result['macro_f1_mean_of_folds']:.4f}", flush=True)
        rows.append(result)
    return rows


def speed_posts(data: Path, count: int = 4000) -> tuple[list[str], list[str | None]]:
    """Half French, half English tweets from the shared data, as posts arrive."""
    texts: list[str] = []
    langs: list[str | None] = []
    for rel, lang in (
        ("umsab-sentiment-fr-en/french_train.csv", "fr"),
        ("tweeteval-sentiment/test.csv", "en"),
    ):
        with (data / rel).open(encoding="utf-8", newline="") as handle:
            rows = [
                row["text"]
                for _, row in zip(range(count // 2), csv.DictReader(handle), strict=False)
            ]
        texts += rows
        langs += [lang] * len(rows)
    return texts, langs


def timed(function: Any, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        function()
        best = min(best, time.process_time() - started)
    return best


def run_speed(data: Path, batch: int = 1000) -> dict[str, Any]:
    texts, langs = speed_posts(data)
    batches = [(texts[i : i + batch], langs[i : i + batch]) for i in range(0, len(texts), batch)]
    intent.predict_intents(texts[:10], langs[:10])
    hostility.predict_hostility(texts[:10], langs[:10])
    n = len(texts)

    def us(seconds: float) -> float:
        return round(seconds / n * 1e6, 1)

    featurize = timed(lambda: [intent.featurize(t) for t, _ in batches])
    intents = timed(lambda: [intent.predict_intents(t, x) for t, x in batches])
    hostile = timed(lambda: [hostility.predict_hostility(t, x) for t, x in batches])
    single = timed(
        lambda: [
            intent.predict_intents([t], [x]) for t, x in zip(texts[:500], langs[:500], strict=True)
        ],
        1,
    )
    return {
        "posts": n,
        "batch": batch,
        "us_per_post": {
            "featurize (canonical text, hashing, cues)": us(featurize),
            "predict_intents": us(intents),
            "predict_hostility": us(hostile),
            "intents + hostility": us(intents + hostile),
            "predict_intents one post at a time": round(single / 500 * 1e6, 1),
        },
        "posts_per_s_intents_and_hostility": round(n / (intents + hostile)),
    }


def write_markdown(report: dict[str, Any]) -> None:
    lines = [
        "# Intents: complaint (learned), question, praise, purchase intent, spam (rules)",
        "",
        f"Produced by `python -m bench.intent` on {report['date']} ({report['machine']['cpu']}, "
        f"pinned to one core). Model `{intent.ENRICHER_VERSION}`.",
        "",
    ]
    cv = report.get("cv")
    if cv:
        lines += [
            "## Complaints (Preotiuc-Pietro et al. 2019), 10-fold stratified CV",
            "",
            f"{cv['protocol']}. 3,449 English tweets, 1,232 complaints. Every fold retrains "
            "the recipe, tuning included, on the other nine folds only.",
            "",
            "| variant | macro-F1 (mean of folds ± sd) | pooled macro-F1 "
            "| complaint P / R / F1 | CPU s |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in cv["variants"]:
            lines.append(
                f"| {row['variant']} | {row['macro_f1_mean_of_folds'] * 100:.1f} ± "
                f"{row['macro_f1_std_of_folds'] * 100:.1f} | {row['macro_f1_pooled'] * 100:.1f} | "
                f"{row['complaint_precision'] * 100:.1f} / {row['complaint_recall'] * 100:.1f} / "
                f"{row['complaint_f1'] * 100:.1f} | {row['cpu_s']} |"
            )
        lines += [
            "",
            "Honesty note: tuning never sees the evaluation fold, but the choice between the "
            "first two rows (threshold fixed at 0.5 or tuned too) was made after seeing both, "
            "so the shipped row carries a little selection; the tuned-threshold row is the "
            "strictly nested figure.",
            "",
            "References: Preotiuc-Pietro et al. 2019, up to 79 F1 (feature-based and neural, "
            "distant supervision); Jin & Aletras 2020, up to 87 macro-F1 (transformers). "
            "Target: 82.",
            "",
            "Exploration during development (10-fold CV with scikit-learn's folds, seed 0, so "
            "other folds than above; C fixed by hand, threshold 0.5 unless said, so slightly "
            "optimistic; not re-run by this script):",
            "",
            "| variant | macro-F1 |",
            "|---|---:|",
        ]
        lines += [f"| {name} | {score:.1f} |" for name, score in EXPLORATION]
        lines += [
            "",
            "Keeping each brand's @handle gains about 1.5 points on this data set, but what it "
            "learns is the complaint rate of the 2017 brands in it; the shipped canonical form "
            "keeps only whether a handle looks like a customer-care account (@care) or not.",
            "",
        ]
    twcs = report.get("twcs")
    if twcs:
        lines += [
            "## twcs-topic-labels (Kecht et al. 2021), shipped models, English",
            "",
            "Topic labels, not intents: only two map onto ours (AmazonHelp's 200 inbound "
            "tweets). Tweets about a late delivery are complaints too but are not labelled "
            "Bad Support, so complaint precision here is a lower bound.",
            "",
            "| intent | twcs label | positives | predicted | precision | recall | F1 |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for name, row in twcs["mapped"].items():
            lines.append(
                f"| {name} | {row['brand']} {row['label']} | {row['positives']} | "
                f"{row['predicted']} | {row['precision']:.3f} | {row['recall']:.3f} | "
                f"{row['f1']:.3f} |"
            )
        shares = ", ".join(f"{k} {v:.1%}" for k, v in twcs["share_of_inbound_tweets"].items())
        topics = ", ".join(
            f"{k} {v['complaint_share']:.0%} of {v['tweets']}"
            for k, v in twcs["complaint_share_by_topic"].items()
        )
        lines += [
            "",
            f"Question, purchase intent and spam have no twcs label. Share of the 600 inbound "
            f"tweets given each intent: {shares}. Complaint share by problem topic: {topics}.",
            "",
        ]
    speed = report.get("speed")
    if speed:
        lines += [
            "## Speed (CPU time, one core, batches of "
            f"{speed['batch']}, {speed['posts']} French and English tweets)",
            "",
            "| stage | µs/post |",
            "|---|---:|",
        ]
        lines += [f"| {k} | {v} |" for k, v in speed["us_per_post"].items()]
        lines += [
            "",
            f"Intents and hostility together: {speed['posts_per_s_intents_and_hostility']:,} "
            "posts/s.",
            "",
        ]
    MD_FILE.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", choices=("cv", "variants", "twcs", "speed"))
    args = parser.parse_args()
    cores = pin_to_one_core()
    previous = json.loads(JSON_FILE.read_text("utf-8")) if JSON_FILE.exists() else {}
    figures = {k: previous[k] for k in ("cv", "twcs", "speed") if k in previous}
    started = time.perf_counter()
    if args.only in (None, "cv", "variants"):
        chosen = VARIANTS[:1] if args.only == "cv" else VARIANTS[1:] if args.only else VARIANTS
        rows = run_cv(args.data, chosen)
        kept = [
            r
            for r in figures.get("cv", {}).get("variants", [])
            if r["variant"] not in {n for n, _ in chosen}
        ]
        order = [name for name, _ in VARIANTS]
        figures["cv"] = {
            "protocol": f"{intent_train.FOLDS}-fold stratified CV, seed {intent_train.SEED}",
            "variants": sorted(kept + rows, key=lambda r: order.index(r["variant"])),
            "references": intent_train.REFERENCES,
        }
    if args.only in (None, "twcs"):
        figures["twcs"] = intent_train.evaluate_twcs(args.data)
    if args.only in (None, "speed"):
        figures["speed"] = run_speed(args.data)
    report = envelope(
        "intent",
        {
            "data": str(args.data),
            "pinned_to_cores": cores,
            "seconds": round(time.perf_counter() - started, 1),
        },
        figures,
    )
    write_json(JSON_FILE, report)
    write_markdown(report)
    print(f"wrote {JSON_FILE} and {MD_FILE}")


if __name__ == "__main__":
    main()
