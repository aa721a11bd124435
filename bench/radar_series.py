"""The radar's cost in the app: counting posts into series and scoring every series each bucket.

A fresh SQLite database holds a workspace with `--queries` saved queries (the demo's and
generated brand queries, as in the import benchmark), so the radar keeps one series per query
plus the workspace, brand and competitor series. `--posts` demo posts over the last 7 days
are imported with every analysis stage, then:

- **counting**: `update_series` reads them once into 5-minute, hourly and daily buckets per
  network and language (with the author sketches and the hourly terms): posts per second;
- **catch-up**: the first scoring pass runs every series' detectors over the whole history
  (what a new installation or an import does once);
- **steady state**: one more bucket of posts arrives; counting it and scoring the finished bucket
  of *every* series is what the runner does each 5 minutes: seconds per pass, milliseconds per
  series, and how many series one core keeps up with in a 5-minute bucket at 10 % of its time.

Figures go to bench/results/radar_series.{json,md}. Run: `python -m bench.radar_series`.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import (
    ROOT,
    checkpoint,
    envelope,
    file_size_mib,
    fresh_database,
    pin_to_one_core,
    prepare_workspace,
    write_json,
)
from bench.queries import workspace_queries
from clameur.connectors.demo.generator import DemoStream
from clameur.kit.time import utcnow
from clameur.models import RadarBucket, RadarPoint, RadarSeries, RadarTerm
from clameur.pipeline import ingest
from clameur.radar.detection import score_workspace
from clameur.radar.series import BUCKET, bucket_start, update_series
from clameur.store.engine import unit_of_work

WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results"
BUCKET_SECONDS = 300.0
SHARE_OF_A_CORE = 0.10


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    import orjson

    with path.open("wb") as out:
        for record in records:
            out.write(orjson.dumps(record) + b"\n")


def _rows(factory: Any) -> dict[str, int]:
    with factory() as session:
        return {
            "series": session.scalar(select(func.count()).select_from(RadarSeries)) or 0,
            "buckets": session.scalar(select(func.count()).select_from(RadarBucket)) or 0,
            "points": session.scalar(select(func.count()).select_from(RadarPoint)) or 0,
            "terms": session.scalar(select(func.count()).select_from(RadarTerm)) or 0,
        }


def run(queries: int, posts: int, seed: int) -> dict[str, Any]:
    """Measure counting, catch-up scoring and one steady-state pass."""
    cores = pin_to_one_core()
    WORK.mkdir(parents=True, exist_ok=True)
    database = WORK / "radar_series.db"
    engine, factory = fresh_database(database)
    workspace_id = prepare_workspace(factory, workspace_queries(queries))
    now = bucket_start(utcnow())
    history = WORK / "radar_series.jsonl"
    stream = DemoStream(seed=seed)
    _write(history, stream.history(posts, end=now - BUCKET))
    started = time.perf_counter()
    rejects = WORK / "radar_series.rejects"
    summary = ingest.import_file(factory, workspace_id, history, "jsonl", rejects)
    imported_s = time.perf_counter() - started
    print(f"imported {summary.imported} posts in {imported_s:.1f} s")

    cpu = time.process_time()
    wall = time.perf_counter()
    counted = 0
    while True:
        with unit_of_work(factory) as session:
            result = update_series(session, workspace_id, limit=5000)
        counted += result.posts
        if result.posts < 5000:
            break
    count_wall = time.perf_counter() - wall
    count_cpu = time.process_time() - cpu
    after_count = _rows(factory)
    print(f"counted {counted} posts in {count_wall:.1f} s ({counted / count_wall:,.0f} posts/s)")

    cpu = time.process_time()
    wall = time.perf_counter()
    with unit_of_work(factory) as session:
        readings = score_workspace(session, workspace_id, now + timedelta(minutes=2))
    catchup_wall = time.perf_counter() - wall
    catchup_cpu = time.process_time() - cpu
    print(f"catch-up: {len(readings)} readings in {catchup_wall:.1f} s")

    # One more bucket of posts, then the runner's pass: count it, score every series.
    fresh = WORK / "radar_series.next.jsonl"
    per_bucket = max(50, posts // (7 * 288))
    moments = [now + BUCKET * i / per_bucket for i in range(per_bucket)]
    _write(fresh, [stream.next_posts(moment, 3600.0, 1)[0] for moment in moments])
    ingest.import_file(factory, workspace_id, fresh, "jsonl", rejects)
    cpu = time.process_time()
    wall = time.perf_counter()
    with unit_of_work(factory) as session:
        step = update_series(session, workspace_id, limit=5000)
    with unit_of_work(factory) as session:
        steady = score_workspace(session, workspace_id, now + BUCKET + timedelta(minutes=2))
    pass_wall = time.perf_counter() - wall
    pass_cpu = time.process_time() - cpu
    rows = _rows(factory)
    checkpoint(engine)
    series = rows["series"]
    per_series_ms = 1000 * pass_cpu / max(1, series)
    return {
        "cores": cores,
        "posts": counted,
        "series": series,
        "counting": {
            "posts_per_s": round(counted / count_wall, 1),
            "cpu_us_per_post": round(1e6 * count_cpu / max(1, counted), 1),
            "rows_after": after_count,
        },
        "catch_up": {
            "readings": len(readings),
            "seconds": round(catchup_wall, 2),
            "readings_per_cpu_s": round(len(readings) / max(catchup_cpu, 1e-9), 1),
        },
        "steady_pass": {
            "new_posts": step.posts,
            "readings": len(steady),
            "seconds": round(pass_wall, 3),
            "cpu_seconds": round(pass_cpu, 3),
            "cpu_ms_per_series": round(per_series_ms, 3),
            "series_per_core_at_10_percent": int(
                SHARE_OF_A_CORE * BUCKET_SECONDS * 1000 / max(per_series_ms, 1e-9)
            ),
        },
        "rows": rows,
        "database_mib": round(file_size_mib(database), 1),
    }


def write_markdown(result: dict[str, Any], path: Path) -> None:
    """The figures as a short report."""
    figures = result
    counting, catch_up, steady = figures["counting"], figures["catch_up"], figures["steady_pass"]
    lines = [
        "# Radar series: counting and scoring cost",
        "",
        f"Produced by `python -m bench.radar_series` on {result['date']}, "
        f"{figures['machine'].get('cpu', '')}, pinned to one core.",
        "",
        f"- Workspace with {result['parameters']['queries']} saved queries: "
        f"**{figures['series']} series** (workspace, brand, competitors, queries); "
        f"{figures['posts']:,} demo posts over the 7 days before now, full analysis.",
        f"- **Counting** posts into the series (5 min / hour / day buckets per network and "
        f"language, author sketches, hourly terms): **{counting['posts_per_s']:,} posts/s** "
        f"({counting['cpu_us_per_post']} µs CPU per post).",
        f"- **Catch-up** scoring of the whole history: {catch_up['readings']:,} readings in "
        f"{catch_up['seconds']} s ({catch_up['readings_per_cpu_s']:,} readings per CPU second, "
        "database reads and writes included).",
        f"- **Steady state**, one 5-minute bucket: counting its {steady['new_posts']} new posts "
        f"and scoring the finished bucket of every series took **{steady['seconds']} s** "
        f"({steady['cpu_ms_per_series']} ms CPU per series). At 10 % of one core, that keeps up "
        f"with about **{steady['series_per_core_at_10_percent']:,} series** per bucket.",
        f"- Rows: {figures['rows']['buckets']:,} buckets, {figures['rows']['points']:,} readings, "
        f"{figures['rows']['terms']:,} term counts; database {figures['database_mib']} MiB.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    """Run the benchmark and write its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()
    figures = run(args.queries, args.posts, args.seed)
    parameters = {"queries": args.queries, "posts": args.posts, "seed": args.seed}
    result = envelope("radar_series", parameters, figures)
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS / "radar_series.json", result)
    write_markdown(result, RESULTS / "radar_series.md")
    print((RESULTS / "radar_series.md").read_text())


if __name__ == "__main__":
    main()
