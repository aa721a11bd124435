"""Import throughput: `clameur import` of a JSONL file of demo posts into a fresh SQLite database
whose workspace holds a thousand saved queries, on one core.

Three measurements of the same path:

- **in process**: `import_file`, as `clameur import` calls it, timed around the call;
- **CLI**: the `clameur import` command in a subprocess (interpreter start, imports, progress bar);
- **per stage**: a smaller run of the same `import_file` with timers around each stage
  (read, validate, normalise, language, match, store, commit), plus the hottest functions of a
  profile of a slice.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from bench.common import (
    HISTORY_END,
    ROOT,
    STAGES,
    WORKSPACE_SLUG,
    checkpoint,
    file_size_mib,
    fresh_database,
    open_database,
    prepare_workspace,
    remove_database,
    shown,
    sqlite_url,
    stopwatch,
)
from bench.queries import GENERATOR_VERSION, demo_queries, workspace_queries
from clameur.connectors.demo.generator import DemoStream
from clameur.models import Match, Post
from clameur.pipeline import ingest, stages
from clameur.store.engine import unit_of_work

TARGET_POSTS_PER_S = 5000.0
MODES = ("language", "full")
STORE_PARTS = ("insert authors", "insert posts", "insert matches", "reply links", "inbox routing")


def write_posts(path: Path, count: int, seed: int) -> dict[str, Any]:
    """The demo's history as a JSONL file (kept between runs: it is deterministic)."""
    meta_path = path.with_suffix(".meta.json")
    meta = {"count": count, "seed": seed, "end": HISTORY_END.isoformat(), "generator": 1}
    if path.exists() and meta_path.exists() and json.loads(meta_path.read_text()) == meta:
        return {"generated": False, "seconds": 0.0, "mib": round(path.stat().st_size / 2**20, 1)}
    with stopwatch() as took:
        records = DemoStream(seed=seed).history(count, HISTORY_END)
        with path.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    meta_path.write_text(json.dumps(meta))
    return {
        "generated": True,
        "seconds": round(took["s"], 1),
        "mib": round(path.stat().st_size / 2**20, 1),
    }


def head_of(source: Path, target: Path, lines: int) -> Path:
    """The first `lines` lines of a file."""
    with source.open(encoding="utf-8") as handle, target.open("w", encoding="utf-8") as out:
        for number, line in enumerate(handle):
            if number >= lines:
                break
            out.write(line)
    return target


def _counts(factory: Any) -> tuple[int, int]:
    with unit_of_work(factory) as session:
        posts = session.scalar(select(func.count(Post.id))) or 0
        matches = session.scalar(select(func.count()).select_from(Match)) or 0
    return int(posts), int(matches)


def import_in_process(
    db: Path, source: Path, queries: list[tuple[str, str]], batch_size: int, analysis: str
) -> dict[str, Any]:
    """Fresh database, workspace and queries, then `import_file` timed as the CLI runs it."""
    with stopwatch() as setup:
        engine, factory = fresh_database(db)
        workspace_id = prepare_workspace(factory, queries)
    rejects = source.with_name(source.name + ".rejects.jsonl")
    with stopwatch() as took:
        summary = ingest.import_file(
            factory, workspace_id, source, "jsonl", rejects, batch_size, analysis=analysis
        )
    posts, matches = _counts(factory)
    checkpoint(engine)
    engine.dispose()
    return {
        "analysis": analysis,
        "posts_per_s": round(summary.imported / took["s"], 1),
        "seconds": round(took["s"], 2),
        "cpu_seconds": round(took["cpu"], 2),
        "posts_per_cpu_s": round(summary.imported / took["cpu"], 1),
        "setup_seconds": round(setup["s"], 2),
        "imported": summary.imported,
        "present": summary.present,
        "rejected": summary.rejected,
        "matches": summary.matches,
        "matches_per_post": round(summary.matches / max(1, summary.imported), 2),
        "posts_in_database": posts,
        "matches_in_database": matches,
        "database_mib": file_size_mib(db),
    }


def import_cli(
    db: Path, source: Path, queries: list[tuple[str, str]], batch_size: int, analysis: str
) -> dict[str, Any]:
    """The same import through the `clameur import` command, in a subprocess on the same core."""
    engine, factory = fresh_database(db)
    prepare_workspace(factory, queries)
    engine.dispose()
    clameur = Path(sys.executable).with_name("clameur")
    command = (
        [str(clameur)] if clameur.exists() else [sys.executable, "-m", "clameur.cli.main"]
    ) + [
        "import",
        str(source),
        "--format",
        "jsonl",
        "--workspace",
        WORKSPACE_SLUG,
        "--batch-size",
        str(batch_size),
        "--analysis",
        analysis,
        "--rejects",
        str(source.with_name(source.name + ".cli-rejects.jsonl")),
    ]
    env = {
        **os.environ,
        "CLAMEUR_DATABASE__URL": sqlite_url(db),
        "CLAMEUR_DATA_DIR": str(db.parent),
        "COLUMNS": "120",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with stopwatch() as took:
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    output = (done.stdout + done.stderr).strip()
    found = re.search(r"(\d+) imported", output)
    imported = int(found.group(1)) if found else 0
    engine, factory = open_database(db, check=False)
    posts, matches = _counts(factory)
    engine.dispose()
    remove_database(db)
    return {
        "analysis": analysis,
        "posts_per_s": round(imported / took["s"], 1) if imported else None,
        "seconds": round(took["s"], 2),
        "cpu_seconds": round(cpu, 2),
        "posts_per_cpu_s": round(imported / cpu, 1) if imported and cpu else None,
        "exit_code": done.returncode,
        "imported": imported,
        "posts_in_database": posts,
        "matches_in_database": matches,
        "command": "clameur " + " ".join(command[1:]).replace(str(ROOT) + "/", ""),
        "output_tail": output.splitlines()[-1] if output else "",
    }


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


class _Timers:
    """Wall-clock and CPU seconds per stage, added up by wrappers around the pipeline."""

    def __init__(self) -> None:
        self.wall = dict.fromkeys(STAGES, 0.0)
        self.cpu = dict.fromkeys(STAGES, 0.0)
        self.batches = 0
        self.batch = [0.0, 0.0]
        self.unit = [0.0, 0.0]
        self.load_queries = [0.0, 0.0]

    def add(self, stage: str, since: tuple[float, float]) -> None:
        wall, cpu = _now()
        self.wall[stage] += wall - since[0]
        self.cpu[stage] += cpu - since[1]

    def wrap(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            since = _now()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(stage, since)

        return timed


def _add(total: list[float], since: tuple[float, float]) -> None:
    wall, cpu = _now()
    total[0] += wall - since[0]
    total[1] += cpu - since[1]


@contextmanager
def _patched(module: Any, name: str, replacement: Any) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


def import_by_stage(
    db: Path, source: Path, queries: list[tuple[str, str]], batch_size: int, analysis: str
) -> dict[str, Any]:
    """The same `import_file`, with timers (wall-clock and CPU) around each stage."""
    engine, factory = fresh_database(db)
    workspace_id = prepare_workspace(factory, queries)
    timers = _Timers()
    read_records = ingest.read_records
    unit_of_work_original = ingest.unit_of_work
    batch_original = ingest.run_batch_isolating_failures

    def timed_read(path: Path, fmt: str) -> Iterator[Any]:
        records = read_records(path, fmt)
        while True:
            since = _now()
            try:
                record = next(records)
            except StopIteration:
                timers.add("read", since)
                return
            timers.add("read", since)
            yield record

    @contextmanager
    def timed_unit(factory_: Any) -> Iterator[Any]:
        since = _now()
        batches = timers.batches
        try:
            with unit_of_work_original(factory_) as session:
                yield session
        finally:
            # The session that loads the saved queries into the prefilter runs no batch.
            _add(timers.unit if timers.batches > batches else timers.load_queries, since)

    def timed_batch(*args: Any, **kwargs: Any) -> Any:
        since = _now()
        timers.batches += 1
        try:
            return batch_original(*args, **kwargs)
        finally:
            _add(timers.batch, since)

    # On SQLite the batch's SAVEPOINT opens the transaction (pysqlite begins lazily), so its
    # RELEASE is the real commit: it writes the WAL. Counted as "commit", not in "store".
    released = [0.0, 0.0]

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info["bench_since"] = _now()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith(("RELEASE", "COMMIT")):
            _add(released, conn.info["bench_since"])

    # Inside "store": each table's INSERT (SQL and the conversion of its values), the reply
    # links and the inbox routing; "store, other" is the rest (rows built, match counts).
    parts = {part: [0.0, 0.0] for part in STORE_PARTS}
    insert_rows_original = stages.insert_rows

    def timed_insert_rows(session: Any, table: Any, *args: Any, **kwargs: Any) -> Any:
        since = _now()
        try:
            return insert_rows_original(session, table, *args, **kwargs)
        finally:
            _add(parts[f"insert {table.name}"], since)

    def timed_part(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            since = _now()
            try:
                return function(*args, **kwargs)
            finally:
                _add(parts[part], since)

        return timed

    rejects = source.with_name(source.name + ".rejects.jsonl")
    with (
        _patched(stages, "insert_rows", timed_insert_rows),
        _patched(stages, "_link_replies", timed_part("reply links", stages._link_replies)),
        _patched(stages, "route_new_posts", timed_part("inbox routing", stages.route_new_posts)),
        _patched(ingest, "read_records", timed_read),
        _patched(ingest, "validate_record", timers.wrap("validate", ingest.validate_record)),
        _patched(ingest, "unit_of_work", timed_unit),
        _patched(ingest, "run_batch_isolating_failures", timed_batch),
        _patched(stages, "normalise", timers.wrap("normalise", stages.normalise)),
        _patched(stages, "enrich", timers.wrap("analysis", stages.enrich)),
        _patched(stages, "match", timers.wrap("match", stages.match)),
        _patched(stages, "store", timers.wrap("store", stages.store)),
        stopwatch() as took,
    ):
        summary = ingest.import_file(
            factory, workspace_id, source, "jsonl", rejects, batch_size, analysis=analysis
        )
    posts = max(1, summary.imported)
    rows: dict[str, Any] = {}
    for clock, totals, elapsed, position in (
        ("wall", timers.wall, took["s"], 0),
        ("cpu", timers.cpu, took["cpu"], 1),
    ):
        # RELEASE of the batch's savepoint, and the unit of work's COMMIT after the batch.
        totals["commit"] = released[position] + max(
            0.0, timers.unit[position] - timers.batch[position]
        )
        # Item objects of run_batch, the import loop, the rejects file.
        other = elapsed - sum(totals.values()) - timers.load_queries[position]
        for stage, value in [
            ("load_queries", timers.load_queries[position]),
            *totals.items(),
            ("other", other),
        ]:
            row = rows.setdefault(stage, {})
            row[f"{clock}_us_per_post"] = round(value / posts * 1e6, 1)
            row[f"{clock}_share"] = round(value / elapsed, 3) if elapsed else None
            if clock == "cpu":
                row["posts_per_cpu_s_alone"] = round(posts / value) if value > 0 else None
    store_parts: dict[str, Any] = {}
    for position, clock in ((0, "wall"), (1, "cpu")):
        rest = (timers.wall if clock == "wall" else timers.cpu)["store"]
        rest -= sum(value[position] for part, value in parts.items() if part != "inbox routing")
        for part, value in [*parts.items(), ("store, other", [rest, rest])]:
            store_parts.setdefault(part, {})[f"{clock}_us_per_post"] = round(
                value[position] / posts * 1e6, 1
            )
    engine.dispose()
    remove_database(db)
    return {
        "analysis": analysis,
        "posts": summary.imported,
        "seconds": round(took["s"], 2),
        "cpu_seconds": round(took["cpu"], 2),
        "posts_per_s": round(summary.imported / took["s"], 1),
        "posts_per_cpu_s": round(summary.imported / took["cpu"], 1),
        "stages": rows,
        # Parts of "store" (the inbox routing runs after it: it is in "other").
        "store_parts": store_parts,
    }


def profile_slice(
    db: Path, source: Path, queries: list[tuple[str, str]], batch_size: int, top: int = 20
) -> list[dict[str, Any]]:
    """The functions with the most time of their own in a profiled import of a slice."""
    engine, factory = fresh_database(db)
    workspace_id = prepare_workspace(factory, queries)
    rejects = source.with_name(source.name + ".rejects.jsonl")
    profiler = cProfile.Profile()
    profiler.enable()
    ingest.import_file(factory, workspace_id, source, "jsonl", rejects, batch_size)  # full
    profiler.disable()
    engine.dispose()
    remove_database(db)
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    out = []
    for (filename, line, name), (_cc, calls, own, cumulative, _callers) in rows[:top]:
        where = filename
        for marker in ("site-packages/", "src/", "lib/python3"):
            if marker in filename:
                where = filename.split(marker, 1)[1]
                break
        out.append(
            {
                "function": f"{where}:{line}({name})",
                "calls": calls,
                "own_s": round(own, 3),
                "own_share": round(own / total, 3) if total else None,
                "cumulative_s": round(cumulative, 3),
            }
        )
    return out


def run(
    work: Path,
    posts: int = 200_000,
    queries: int = 1000,
    batch_size: int = 1000,
    seed: int = 2017,
    breakdown_posts: int = 40_000,
    profile_posts: int = 10_000,
    cli: bool = True,
    keep_database: Path | None = None,
) -> dict[str, Any]:
    """Every import measurement; the in-process database is kept at `keep_database`."""
    work.mkdir(parents=True, exist_ok=True)
    saved = workspace_queries(queries)
    source = work / f"import-{posts}-{seed}.jsonl"
    data = write_posts(source, posts, seed)
    timings: dict[str, float] = {}

    # "language" is the chain of the spine (normalise, language, match, store), which the
    # import target is set for; "full" adds every analysis stage. Both are `clameur import`.
    runs: dict[str, Any] = {}
    for mode in MODES:
        with stopwatch() as took:
            db = keep_database if (keep_database and mode == "full") else work / f"import-{mode}.db"
            runs[mode] = import_in_process(db, source, saved, batch_size, mode)
        timings[f"in_process_{mode}"] = took["s"]
        if db != keep_database:
            remove_database(db)

    cli_result = None
    if cli:
        with stopwatch() as took:
            cli_result = import_cli(work / "import-cli.db", source, saved, batch_size, "language")
        timings["cli"] = took["s"]

    breakdowns: dict[str, Any] = {}
    with stopwatch() as took:
        small = head_of(source, work / "import-breakdown.jsonl", min(posts, breakdown_posts))
        for mode in MODES:
            breakdowns[mode] = import_by_stage(
                work / "import-breakdown.db", small, saved, batch_size, mode
            )
        sliced = head_of(source, work / "import-profile.jsonl", min(posts, profile_posts))
        hot = profile_slice(work / "import-profile.db", sliced, saved, batch_size)
    timings["breakdown"] = took["s"]

    return {
        "parameters": {
            "posts": posts,
            "saved_queries": len(saved),
            "saved_queries_from_demo": len(demo_queries()),
            "query_generator": GENERATOR_VERSION,
            "batch_size": batch_size,
            "seed": seed,
            "history_end": HISTORY_END.isoformat(),
            "database": "SQLite (WAL, synchronous=NORMAL, wal_autocheckpoint=10000), fresh, "
            "migrated",
            "breakdown_posts": min(posts, breakdown_posts),
            "profile_posts": min(posts, profile_posts),
        },
        "target_posts_per_s": TARGET_POSTS_PER_S,
        "input": {"path": shown(source), **data},
        "in_process": runs,
        "cli": cli_result,
        "breakdown": breakdowns,
        "profile_top": hot,
        "timings_s": {key: round(value, 1) for key, value in timings.items()},
    }
