"""Run the benchmarks and write bench/results/{import,matching,listening}.json and README.md.

    python -m bench.run [--only import|matching|listening] [--posts N]

Each part pins itself to one core. Work files (the JSONL input, the databases) go to
bench/.work/, which git ignores; the million-post database of the listening benchmark is kept
there and reused while Clameur's version, the schema revision and the data parameters are
unchanged (`--rebuild` forces a new one). The import benchmark always starts from an empty
database.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import importing, listening, matching
from bench.common import RESULTS, WORK, envelope, pin_to_one_core, remove_database, write_json
from bench.report import write_readme

PARTS = ("import", "matching", "listening")


def _log(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts (all by default) and regenerate the markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part")
    parser.add_argument("--posts", type=int, default=200_000, help="posts in the import file")
    parser.add_argument(
        "--queries", type=int, default=1000, help="saved queries (import, listening)"
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="posts per import batch")
    parser.add_argument(
        "--no-cli", action="store_true", help="skip the `clameur import` subprocess"
    )
    parser.add_argument("--match-posts", type=int, default=20_000, help="posts for the matching")
    parser.add_argument(
        "--listening-posts", type=int, default=1_000_000, help="posts in the listening database"
    )
    parser.add_argument("--requests", type=int, default=100, help="requests per listening view")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the listening database")
    parser.add_argument("--work", type=Path, default=WORK, help="folder for work files")
    args = parser.parse_args(argv)
    parts = args.only or list(PARTS)

    core = pin_to_one_core()
    _log(f"Pinned to core {core}; work files in {args.work}")
    args.work.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    kept_import_db: Path | None = None
    started = time.perf_counter()

    if "import" in parts:
        _log(f"Import: {args.posts:,} posts, {args.queries:,} saved queries ...")
        t0 = time.perf_counter()
        kept_import_db = args.work / "import.db" if "listening" in parts else None
        figures = importing.run(
            args.work,
            posts=args.posts,
            queries=args.queries,
            batch_size=args.batch_size,
            cli=not args.no_cli,
            keep_database=kept_import_db,
        )
        data = envelope("import", figures.pop("parameters"), figures)
        write_json(RESULTS / "import.json", data)
        cli = figures.get("cli") or {}
        for mode, run in figures["in_process"].items():
            _log(
                f"  analysis {mode}: {run['posts_per_s']:,.0f} posts/s in process "
                f"({run['posts_per_cpu_s']:,.0f} per CPU-s)"
            )
        _log(
            f"  {cli.get('posts_per_s') or 0:,.0f} posts/s through the CLI "
            f"({time.perf_counter() - t0:.0f} s)"
        )

    if "matching" in parts:
        _log(f"Matching: {args.match_posts:,} posts, 1,000 and 10,000 saved queries ...")
        t0 = time.perf_counter()
        figures = matching.run(posts=args.match_posts)
        data = envelope("matching", figures.pop("parameters"), figures)
        write_json(RESULTS / "matching.json", data)
        for row in figures["sets"]:
            _log(
                f"  {row['saved_queries']:,} queries: {row['prefilter']['posts_per_s']:,.0f} "
                f"posts/s with the prefilter, {row['naive']['posts_per_s']:,.0f} naive, "
                f"identical: {row['identical']['identical']}"
            )
        _log(f"  ({time.perf_counter() - t0:.0f} s)")

    if "listening" in parts:
        _log(f"Listening: {args.listening_posts:,} posts ...")
        t0 = time.perf_counter()
        figures = listening.run(
            args.work,
            target=args.listening_posts,
            import_db=kept_import_db,
            import_posts=args.posts,
            queries=args.queries,
            batch_size=args.batch_size,
            requests=args.requests,
            rebuild=args.rebuild,
            log=_log,
        )
        if kept_import_db is not None:
            remove_database(kept_import_db)  # when the cached database was reused
        data = envelope("listening", figures.pop("parameters"), figures)
        write_json(RESULTS / "listening.json", data)
        web = figures.get("web") or {}
        for view in figures["views"]:
            name = view["name"]
            service = figures["service"][name]
            shown = web.get(name) or {}
            _log(
                f"  {name:16} web p95 {shown.get('p95_ms', '—')} ms, "
                f"service p95 {service['p95_ms']} ms"
            )
        _log(f"  ({time.perf_counter() - t0:.0f} s)")

    readme = write_readme()
    _log(f"Wrote {readme} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
