"""bench/results/README.md: the figures of the latest runs as short tables, with their targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS, STAGES

STAGE_LABELS = {
    "load_queries": "load the saved queries (once)",
    "read": "read JSONL",
    "validate": "validate (pydantic)",
    "normalise": "normalise text",
    "analysis": "analysis (language only / every stage)",
    "match": "match saved queries",
    "store": "store (SQL, FTS, replies)",
    "commit": "commit (RELEASE of the batch savepoint: WAL write)",
    "other": "other (batch wrapper, import loop)",
}


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**pass**" if ok else "**miss**")


def _origin(data: dict[str, Any]) -> str:
    git = data.get("git") or {}
    changed = git.get("local_changes_in_src") or []
    commit = (git.get("commit") or "?")[:10] + (
        f" + uncommitted changes to {len(changed)} file(s) of src/" if changed else ""
    )
    machine = data.get("machine") or {}
    return (
        f"{data.get('date', '?')}, commit {commit}; {machine.get('cpu', '?')}, "
        f"{machine.get('cores', '?')} cores (pinned to {machine.get('affinity')}), "
        f"Python {machine.get('python', '?')}, SQLite {machine.get('sqlite', '?')}, "
        f"load average {machine.get('load_average', '?')}"
    )


MODE_LABELS = {
    "language": "language only (the spine's chain; the rest by `clameur reanalyze`)",
    "full": "every analysis stage (language, sentiment, intents, hostility, duplicates, influence)",
}


def _import_section(data: dict[str, Any]) -> list[str]:
    params = data["parameters"]
    runs = data["in_process"]
    cli = data.get("cli") or {}
    target = data["target_posts_per_s"]
    lines = [
        "## 1. Import throughput",
        "",
        f"`clameur import` of {params['posts']:,} demo posts (JSONL) into a fresh SQLite "
        f"database, workspace with {params['saved_queries']:,} saved queries "
        f"({params['saved_queries_from_demo']} of the demo + generated brand queries), "
        f"batches of {params['batch_size']:,}, one core. Wall-clock rate, and the rate per CPU "
        f"second of the importing process (what it would do on an idle core). The import "
        "target was set for the spine's chain (normalise, language, match, store): that is "
        "`clameur import --analysis language`; the default `--analysis full` adds every "
        f"analysis stage. {_origin(data)}.",
        "",
        "| measure | posts/s (wall) | posts per CPU-s | seconds | matches per post | target "
        "| verdict (wall) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for mode, run in runs.items():
        judged = mode == "language"
        lines.append(
            f"| `import_file`, analysis {MODE_LABELS.get(mode, mode)} | "
            f"{_number(run['posts_per_s'])} | {_number(run.get('posts_per_cpu_s'))} | "
            f"{_number(run['seconds'], 1)} | {run['matches_per_post']} | "
            + (
                f"≥ {_number(target)} | {_verdict(run['posts_per_s'] >= target)} |"
                if judged
                else "— | (no target) |"
            )
        )
    if cli:
        ok = cli.get("posts_per_s") is not None and cli["posts_per_s"] >= target
        lines.append(
            f"| `clameur import --analysis {cli.get('analysis', 'full')}` subprocess (start-up, "
            f"progress bar) | {_number(cli.get('posts_per_s'))} | "
            f"{_number(cli.get('posts_per_cpu_s'))} | {_number(cli.get('seconds'), 1)} | — | "
            f"≥ {_number(target)} | {_verdict(ok)} |"
        )
    full = runs.get("full") or next(iter(runs.values()))
    lines += [
        "",
        f"Database after the full import: {_number(full['database_mib'])} MiB. Queries that "
        "test `sentiment:` or `intent:` match only once those stages ran: fewer matches "
        "per post with the language-only chain until `clameur reanalyze` completes it.",
    ]
    for mode, breakdown in data["breakdown"].items():
        lines += [
            "",
            f"Per stage, analysis {mode}, from a run of {breakdown['posts']:,} posts with timers "
            f"around each stage ({_number(breakdown['posts_per_s'])} posts/s wall, "
            f"{_number(breakdown.get('posts_per_cpu_s'))} per CPU-s there; loading the models "
            "once is in the analysis line); a budget of 5,000 posts/s is 200 µs per post:",
            "",
            "| stage | CPU µs/post | share | wall µs/post | posts per CPU-s if alone |",
            "|---|---:|---:|---:|---:|",
        ]
        stages = breakdown["stages"]
        for stage in ("load_queries", *STAGES, "other"):
            row = stages.get(stage)
            if not row:
                continue
            share = row.get("cpu_share")
            lines.append(
                f"| {STAGE_LABELS.get(stage, stage)} | {_number(row.get('cpu_us_per_post'), 1)} "
                f"| {'—' if share is None else f'{share * 100:.0f}%'} | "
                f"{_number(row.get('wall_us_per_post'), 1)} | "
                f"{_number(row.get('posts_per_cpu_s_alone'))} |"
            )
    return lines


def _matching_section(data: dict[str, Any]) -> list[str]:
    params = data["parameters"]
    token = data["tokenization"]
    lines = [
        "## 2. Saved-query matching",
        "",
        f"{params['posts']:,} demo posts; prefilter = `QueryIndex.match`, naive = "
        f"`match_all_naive` (every query, on a sample of "
        + " / ".join(f"{n:,}" for n in params["naive_sample_posts"].values())
        + f" posts). {params['queries_about_demo_world']:.0%} of the generated queries are "
        f"about the demo's world. Tokenizing costs "
        f"{token['tokenize_us_per_post'] + token['view_us_per_post']:.0f} µs/post on top "
        f"(shared by both). {_origin(data)}.",
        "",
        "| saved queries | prefilter posts/s (wall / per CPU-s) | naive posts/s (wall / per "
        "CPU-s) | speed-up | with tokenizing, per CPU-s (prefilter / naive) | queries "
        "evaluated per post (prefilter / naive) | matches per post | same results |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in data["sets"]:
        same = row["identical"]
        pre, naive = row["prefilter"], row["naive"]
        lines.append(
            f"| {row['saved_queries']:,} | {_number(pre['posts_per_s'])} / "
            f"{_number(pre.get('posts_per_cpu_s'))} | {_number(naive['posts_per_s'])} / "
            f"{_number(naive.get('posts_per_cpu_s'))} | {row['speedup']}× | "
            f"{_number(pre.get('with_tokenization_posts_per_cpu_s'))} / "
            f"{_number(naive.get('with_tokenization_posts_per_cpu_s'))} | "
            f"{row['queries_evaluated_per_post']['prefilter_mean']} / "
            f"{row['queries_evaluated_per_post']['naive']:,} | {row['matches_per_post']} | "
            f"{'yes' if same['identical'] else 'NO'} ({same['same']:,}/{same['posts_compared']:,}"
            " posts) |"
        )
    return lines


def _listening_section(data: dict[str, Any]) -> list[str]:
    params = data["parameters"]
    database = data["database"]
    target = data["target_p95_ms"]
    web = data.get("web") or {}
    service = data["service"]
    lines = [
        "## 3. Listening page latency",
        "",
        f"{database.get('posts_in_workspace', params['posts']):,} posts, "
        f"{database.get('saved_queries', params['saved_queries']):,} saved queries, "
        f"{_number(database.get('matches'))} matches (SQLite, "
        f"{_number(database.get('database_mib'))} MiB"
        f"{', reused from cache' if database.get('reused') else ''}). Up to "
        f"{params['requests_per_view']} requests per view, parameters rotating; pages of "
        f"{params['page_size']}. *Web*: {params['web']}, latency seen by the client and the "
        f"server's CPU per request; *service*: `list_posts` alone, in process. Target: p95 < "
        f"{_number(target)} ms (judged on the web figures). {_origin(data)}.",
        "",
        "| view | web p50 / p95 / max (ms) | web server CPU ms/request | service p50 / p95 / max "
        "(ms) | service CPU p95 (ms) | verdict |",
        "|---|---:|---:|---:|---:|---|",
    ]
    labels = {view["name"]: view["label"] for view in data["views"]}
    for name, label in labels.items():
        ours = service.get(name)
        theirs = web.get(name)
        judged = theirs or ours
        lines.append(
            f"| {label} | "
            + (
                f"{theirs['p50_ms']} / {theirs['p95_ms']} / {theirs['max_ms']} | "
                f"{_number(theirs.get('server_cpu_ms_per_request'), 1)}"
                if theirs
                else "— | —"
            )
            + " | "
            + (
                f"{ours['p50_ms']} / {ours['p95_ms']} / {ours['max_ms']} | "
                f"{_number(ours.get('cpu_p95_ms'), 1)}"
                if ours
                else "— | —"
            )
            + f" | {_verdict(judged['pass'] if judged else None)} |"
        )
    if data.get("web_error"):
        lines += ["", f"Web not measured: {data['web_error']}"]
    return lines


def write_readme(path: Path | None = None) -> Path:
    """Regenerate the markdown summary from the JSON files present."""
    path = path or RESULTS / "README.md"
    sections: list[str] = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench.run [--only import|matching|listening]`); "
        "every figure, parameter and query plan is in the JSON file beside this one. Figures, "
        "not timed tests: compare runs on the same machine.",
        "",
    ]
    timings: list[str] = []
    for name, render in (
        ("import", _import_section),
        ("matching", _matching_section),
        ("listening", _listening_section),
    ):
        data = _load(name)
        if data is None:
            sections += [f"## {name}", "", "Not run yet.", ""]
            continue
        sections += [*render(data), "", f"Details: [{name}.json]({name}.json).", ""]
        took = data.get("timings_s") or {}
        timings.append(
            f"{name} {sum(took.values()):.0f} s ("
            + ", ".join(f"{key} {value:.0f} s" for key, value in took.items())
            + ")"
        )
    sections += [
        "## Language identification and other evaluations",
        "",
        "Accuracy and speed of the language detectors on public French/English data: "
        "[langid.md](langid.md) ([langid.json](langid.json)), written by `bench/langid.py`.",
    ]
    others = sorted(
        each.name
        for each in path.parent.glob("*.md")
        if each.name not in ("README.md", "langid.md")
    )
    if others:
        sections.append(
            "Written by their own scripts in bench/: "
            + ", ".join(f"[{name}]({name})" for name in others)
            + "."
        )
    sections.append("")
    if timings:
        sections += ["Time taken: " + "; ".join(timings) + ".", ""]
    path.write_text("\n".join(sections), encoding="utf-8")
    return path
