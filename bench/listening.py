"""Listening page latency on a database of a million posts and a thousand saved queries.

The database is the import benchmark's (200,000 posts through `clameur import`), grown with four
earlier weeks of demo posts through the same `run_batch` the import uses. It is kept in
bench/.work and reused while Clameur's version, the schema (revision and migration scripts), the
language enricher's version and the data parameters are the same (`--rebuild` forces a new one).

Each view is requested ~100 times, its parameters rotating through realistic values, after a
short warm-up: once through `list_posts` (the service, one session per request as the web opens
it) and once over HTTP from the web application served by uvicorn on its own core (signed in,
HTML rendered), the client on another core. For every view the slowest SQL statement of one
request is kept with its EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import clameur
from bench.common import (
    HISTORY_END,
    ROOT,
    WORKSPACE_SLUG,
    checkpoint,
    file_size_mib,
    fresh_database,
    open_database,
    percentile,
    prepare_workspace,
    remove_database,
    shown,
    stopwatch,
)
from bench.queries import GENERATOR_VERSION, workspace_queries
from clameur.connectors.demo.generator import DemoStream
from clameur.listening.service import PostFilters, list_posts, load_query_index
from clameur.models import Match, Post, SavedQuery, User, Workspace
from clameur.nlp import language
from clameur.pipeline.ingest import validate_record
from clameur.pipeline.schemas import PostIn
from clameur.pipeline.stages import run_batch
from clameur.store import migrate
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import add_user

TARGET_P95_MS = 150.0
WEEK_POSTS = 200_000
PAGE_SIZE = 50
PAGES_DEEP = 20
BENCH_USER = ("bench@clameur.local", "clameur-bench")
ZONE = ZoneInfo("Europe/Paris")
# What people type: common words of the demo's conversation, and ad-hoc queries.
COMMON_WORDS = ("festival", "lueurs", "navette", "pass", "concert", "billet")
ADHOC_QUERIES = (
    "navette* NEAR/5 retard",
    '(rembours* OR refund*) -"no refund"',
    '"food trucks" OR buvette',
    "kid lavande annul*",
    "shuttle* lang:en",
    '(cigalune OR "mistral sonore") AND (prix OR price*)',
)
TWO_NETWORKS = (("x", "instagram"), ("facebook", "reddit"), ("bluesky", "mastodon"))


# -- the database -------------------------------------------------------------------------------


def schema_fingerprint() -> str:
    """A digest of the migration scripts: revisions are still edited in place before a release."""
    digest = hashlib.sha256()
    for script in sorted((migrate.MIGRATIONS / "versions").glob("*.py")):
        digest.update(script.name.encode())
        digest.update(script.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(target: int, import_posts: int, seed: int, queries: int) -> dict[str, Any]:
    """What the cached database depends on; a change to any of these rebuilds it."""
    return {
        "clameur": clameur.__version__,
        "schema": migrate.head_revision(),
        "schema_fingerprint": schema_fingerprint(),
        "language_enricher": language.ENRICHER_VERSION,
        "posts": target,
        "import_posts": import_posts,
        "seed": seed,
        "history_end": HISTORY_END.isoformat(),
        "saved_queries": queries,
        "query_generator": GENERATOR_VERSION,
        "week_posts": WEEK_POSTS,
    }


def add_posts(
    factory: sessionmaker[Session], workspace_id: int, records: list[dict[str, Any]], batch: int
) -> int:
    """Validate and ingest records with the import's own functions, one commit per batch."""
    with unit_of_work(factory) as session:
        index = load_query_index(session, workspace_id)
    added = 0
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        posts = [post for post in map(validate_record, chunk) if isinstance(post, PostIn)]
        with unit_of_work(factory) as session:
            added += run_batch(session, workspace_id, posts, index, chunk).imported
    return added


def _workspace_id(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        found = session.scalar(select(Workspace.id).where(Workspace.slug == WORKSPACE_SLUG))
        if found is None:
            raise RuntimeError("the benchmark workspace is missing")
        return int(found)


def ensure_database(
    work: Path,
    target: int = 1_000_000,
    import_db: Path | None = None,
    import_posts: int = 200_000,
    seed: int = 2017,
    queries: int = 1000,
    batch_size: int = 1000,
    rebuild: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[Path, dict[str, Any]]:
    """The million-post database: reused when its cache key matches, else built."""
    path = work / "listening.db"
    meta_path = work / "listening.meta.json"
    key = cache_key(target, import_posts, seed, queries)
    if not rebuild and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            return path, {**meta, "reused": True}
    remove_database(path)
    meta_path.unlink(missing_ok=True)
    with stopwatch() as took:
        if import_db is not None and import_db.exists():
            # The import benchmark's fresh database: its newest week, imported by the CLI path.
            for suffix in ("-wal", "-shm"):
                Path(f"{import_db}{suffix}").unlink(missing_ok=True)
            import_db.rename(path)
            engine, factory = open_database(path)
            workspace_id = _workspace_id(factory)
            source = "import benchmark database + run_batch"
        else:
            engine, factory = fresh_database(path)
            workspace_id = prepare_workspace(factory, workspace_queries(queries))
            log(f"  listening: ingesting the newest {import_posts:,} posts")
            add_posts(
                factory,
                workspace_id,
                DemoStream(seed=seed).history(import_posts, HISTORY_END),
                batch_size,
            )
            source = "run_batch"
        with unit_of_work(factory) as session:
            have = int(session.scalar(select(func.count(Post.id))) or 0)
        week = 1
        while have < target:
            count = min(WEEK_POSTS, target - have)
            end = HISTORY_END - timedelta(days=7 * week)
            log(f"  listening: ingesting {count:,} posts of the week ending {end:%Y-%m-%d}")
            records = DemoStream(seed=seed + week).history(count, end)
            have += add_posts(factory, workspace_id, records, batch_size)
            week += 1
        checkpoint(engine)
        engine.dispose()
    meta = {
        "key": key,
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(took["s"], 1),
        "source": source,
        "posts": have,
        "database": shown(path),
        "database_mib": file_size_mib(path),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return path, {**meta, "reused": False}


# -- SQL capture --------------------------------------------------------------------------------


@dataclass
class SqlLog:
    """Statements run while `active`, with their parameters and durations."""

    active: bool = False
    statements: list[tuple[str, Any, float]] = field(default_factory=list)

    def install(self, engine: Engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            conn.info.setdefault("bench_started", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            started = conn.info["bench_started"].pop()
            if self.active:
                self.statements.append((statement, parameters, time.perf_counter() - started))

    @contextmanager
    def capture(self) -> Iterator[list[tuple[str, Any, float]]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


def explain(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN for a captured statement, one line per step."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


# -- views --------------------------------------------------------------------------------------


@dataclass
class View:
    """One listening view: how to ask for it, through the service and through the web."""

    name: str
    label: str
    filters: list[PostFilters]
    params: list[dict[str, Any]]
    paginate: bool = False


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, clock.min, tzinfo=ZONE).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), clock.min, tzinfo=ZONE).astimezone(UTC)
    return start, end


def rare_words(engine: Engine, count: int = 12) -> list[tuple[str, int]]:
    """Words found in a few dozen to a few hundred posts (from the full-text index itself)."""
    with engine.connect() as connection:
        connection.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_vocab "
            "USING fts5vocab(main, posts_fts, row)"
        )
        rows = connection.exec_driver_sql(
            "SELECT term, doc FROM temp.bench_vocab WHERE doc BETWEEN 30 AND 400 "
            "AND length(term) >= 6 AND term GLOB '[a-z]*' AND NOT term GLOB '*[0-9]*' "
            "ORDER BY term"
        ).all()
    if not rows:
        return [("vestiaire", 0)]
    step = max(1, len(rows) // count)
    return [(term, doc) for term, doc in rows[::step][:count]]


def word_counts(engine: Engine, words: tuple[str, ...]) -> dict[str, int]:
    """In how many posts each word occurs."""
    with engine.connect() as connection:
        return {
            word: int(
                connection.exec_driver_sql(
                    "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?", (f'"{word}"',)
                ).scalar()
                or 0
            )
            for word in words
        }


def build_views(
    factory: sessionmaker[Session], engine: Engine, workspace_id: int
) -> tuple[list[View], dict[str, Any]]:
    """The realistic views and the values they rotate through."""
    with unit_of_work(factory) as session:
        counts = session.execute(
            select(Match.query_id, func.count().label("n"))
            .group_by(Match.query_id)
            .order_by(func.count().desc())
        ).all()
        names = dict(
            session.execute(
                select(SavedQuery.id, SavedQuery.name).where(
                    SavedQuery.workspace_id == workspace_id
                )
            ).all()
        )
        newest, oldest = session.execute(
            select(func.max(Post.created_at), func.min(Post.created_at)).where(
                Post.workspace_id == workspace_id
            )
        ).one()
    by_count = {query_id: n for query_id, n in counts}
    top = [query_id for query_id, _n in counts[:10]]
    # Any saved query, as people click through the sidebar: every 10th by id.
    spread = sorted(names)[::10]
    newest_day = newest.astimezone(ZONE).date()
    oldest_day = oldest.astimezone(ZONE).date()
    days = [
        oldest_day + timedelta(days=offset) for offset in range((newest_day - oldest_day).days + 1)
    ]
    rare = rare_words(engine)
    common = word_counts(engine, COMMON_WORDS)
    networks = [
        "x",
        "instagram",
        "facebook",
        "reddit",
        "youtube",
        "bluesky",
        "mastodon",
        "linkedin",
    ]

    def views_of(name: str, label: str, items: list[tuple[PostFilters, dict[str, Any]]],
                 paginate: bool = False) -> View:  # fmt: skip
        return View(name, label, [f for f, _ in items], [p for _, p in items], paginate)

    def day_filter(day: date) -> tuple[PostFilters, dict[str, Any]]:
        since, until = _day_bounds(day)
        return PostFilters(since=since, until=until), {
            "since": day.isoformat(),
            "until": day.isoformat(),
        }

    views = [
        views_of("newest", "Newest posts, no filter", [(PostFilters(), {})]),
        views_of(
            "saved_query_top",
            "Saved query, one of the 10 with most matches",
            [(PostFilters(query_id=q), {"query_id": q}) for q in top],
        ),
        views_of(
            "saved_query_any",
            "Saved query, any (every 10th)",
            [(PostFilters(query_id=q), {"query_id": q}) for q in spread],
        ),
        views_of(
            "network",
            "Network filter (one network)",
            [(PostFilters(networks=[n]), {"network": n}) for n in networks],
        ),
        views_of(
            "two_networks",
            "Network filter (two networks ticked)",
            [(PostFilters(networks=list(pair)), {"network": list(pair)}) for pair in TWO_NETWORKS],
        ),
        views_of(
            "language",
            "Language filter",
            [(PostFilters(langs=[lang]), {"lang": lang}) for lang in ("fr", "en", "es")],
        ),
        views_of("date_range", "Date range (one day)", [day_filter(day) for day in days]),
        views_of(
            "search_common",
            "Full-text search, common word",
            [(PostFilters(search=w), {"search": w}) for w in COMMON_WORDS],
        ),
        views_of(
            "search_rare",
            "Full-text search, rare word",
            [(PostFilters(search=w), {"search": w}) for w, _n in rare],
        ),
        views_of(
            "adhoc_query",
            "Ad-hoc query typed in the box",
            [(PostFilters(query_text=q), {"q": q}) for q in ADHOC_QUERIES],
        ),
        views_of("deep_pages", f"Pagination, {PAGES_DEEP} pages deep", [(PostFilters(), {})], True),
    ]
    described = {
        "saved_query_top": [
            {"id": q, "name": names.get(q), "matches": by_count.get(q, 0)} for q in top
        ],
        "saved_query_any": {
            "queries": len(spread),
            "median_matches": sorted(by_count.get(q, 0) for q in spread)[len(spread) // 2],
        },
        "days": [days[0].isoformat(), days[-1].isoformat()],
        "common_words": common,
        "rare_words": dict(rare),
        "adhoc_queries": list(ADHOC_QUERIES),
    }
    return views, described


# -- measuring ----------------------------------------------------------------------------------


def _summary(
    samples: list[float], cpu: list[float] | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    ms = [value * 1000 for value in samples]
    out = {
        "requests": len(ms),
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(sum(ms) / len(ms), 1),
        "pass": percentile(ms, 0.95) < TARGET_P95_MS,
    }
    if cpu:
        cpu_ms = [value * 1000 for value in cpu]
        out["cpu_p50_ms"] = round(percentile(cpu_ms, 0.50), 1)
        out["cpu_p95_ms"] = round(percentile(cpu_ms, 0.95), 1)
    return {**out, **(extra or {})}


def _replay(engine: Engine, statement: str, parameters: Any) -> float:
    """Seconds to run a SELECT and fetch all its rows (the cursor hook sees only the first step)."""
    with engine.connect() as connection:
        started = time.perf_counter()
        connection.exec_driver_sql(statement, parameters).fetchall()
        return time.perf_counter() - started


def _plan(engine: Engine, sql: SqlLog, call: Callable[[], Any]) -> dict[str, Any]:
    """One request with its SQL captured; each SELECT replayed in full, the slowest explained."""
    with sql.capture() as statements, stopwatch() as took:
        call()
    selects = [row for row in statements if row[0].lstrip().upper().startswith("SELECT")]
    if not selects:
        return {}
    replayed = [(statement, parameters, _replay(engine, statement, parameters))
                for statement, parameters, _first_step in selects]  # fmt: skip
    slowest = max(replayed, key=lambda row: row[2])
    return {
        "request_ms": round(took["s"] * 1000, 1),
        "statements": len(statements),
        "sql_ms": round(sum(row[2] for row in replayed) * 1000, 1),
        "slowest_sql_ms": round(slowest[2] * 1000, 1),
        "slowest_sql": " ".join(slowest[0].split()),
        "slowest_parameters": [str(value) for value in slowest[1]][:12],
        "query_plan": explain(engine, slowest[0], slowest[1]),
    }


def measure_service(
    factory: sessionmaker[Session],
    engine: Engine,
    sql: SqlLog,
    workspace_id: int,
    views: list[View],
    requests: int,
    warmup: int,
    budget_s: float,
) -> dict[str, Any]:
    """Each view through `list_posts`, one session per request."""

    def one(filters: PostFilters, cursor: str | None = None) -> str | None:
        with unit_of_work(factory) as session:
            page = list_posts(session, workspace_id, filters, cursor=cursor, limit=PAGE_SIZE)
            for post in page.posts:
                _ = post.author  # rendered with every post
            return page.next_cursor

    results: dict[str, Any] = {}
    for view in views:
        samples: list[float] = []
        cpu: list[float] = []
        if view.paginate:
            deepest: list[float] = []
            started = time.perf_counter()
            while len(samples) < requests and time.perf_counter() - started < budget_s:
                cursor = one(view.filters[0])
                for page in range(PAGES_DEEP):
                    with stopwatch() as took:
                        cursor = one(view.filters[0], cursor)
                    samples.append(took["s"])
                    cpu.append(took["cpu"])
                    if page == PAGES_DEEP - 1:
                        deepest.append(took["s"])
                    if cursor is None:
                        break
            results[view.name] = _summary(
                samples, cpu, {"deepest_page_p50_ms": round(percentile(deepest, 0.5) * 1000, 1)}
            )
            continue
        for number in range(warmup):
            one(view.filters[number % len(view.filters)])
        started = time.perf_counter()
        while len(samples) < requests and time.perf_counter() - started < budget_s:
            filters = view.filters[len(samples) % len(view.filters)]
            with stopwatch() as took:
                one(filters)
            samples.append(took["s"])
            cpu.append(took["cpu"])
        results[view.name] = _summary(samples, cpu)
    return results


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def web_client(
    path: Path, factory: sessionmaker[Session], log_path: Path
) -> Iterator[tuple[httpx.Client, dict[str, Any], Callable[[], float]]]:
    """`bench.serve` (uvicorn) on this process's core; a signed-in client on another core."""
    with unit_of_work(factory) as session:
        if session.scalar(select(User.id).where(User.email == BENCH_USER[0])) is None:
            add_user(session, BENCH_USER[0], "Bench", BENCH_USER[1], "admin")
    mine = sorted(os.sched_getaffinity(0))
    server_core = mine[0]
    others = [core for core in range(os.cpu_count() or 1) if core != server_core]
    client_core = others[0] if others else server_core
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "bench.serve",
        str(path),
        str(port),
        "--core",
        str(server_core),
    ]
    with log_path.open("w") as server_log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT)
    os.sched_setaffinity(0, {client_core})
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60.0)
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server stopped: see {shown(log_path)}")
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /healthz within 90 s")
            time.sleep(0.2)
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        if token is None:
            raise RuntimeError("no csrf_token field on /login")
        signed = client.post(
            "/login",
            data={
                "email": BENCH_USER[0],
                "password": BENCH_USER[1],
                "csrf_token": token.group(1),
                "next": "/listening",
            },
        )
        if signed.status_code != 303:
            raise RuntimeError(f"sign-in refused: HTTP {signed.status_code}")
        ticks = os.sysconf("SC_CLK_TCK")

        def server_cpu() -> float:
            """CPU seconds (user + system) the server process has used so far."""
            fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        yield (
            client,
            {
                "server": "uvicorn (bench.serve, as `clameur serve --no-runner`), keep-alive",
                "server_core": server_core,
                "client_core": client_core,
                "client": f"httpx {httpx.__version__}",
            },
            server_cpu,
        )
    finally:
        client.close()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        os.sched_setaffinity(0, set(mine))


_MORE = re.compile(r'hx-get="(/listening/posts\?[^"]+)"')


def measure_web(
    client: httpx.Client,
    server_cpu: Callable[[], float],
    views: list[View],
    requests: int,
    warmup: int,
    budget_s: float,
) -> dict[str, Any]:
    """Each view as the browser asks for it: the listening page, then "Load more" pages.

    Besides the latency seen by the client, the server's own CPU time per request (averaged over
    the view's requests, from /proc) says what a request costs whatever else runs on the machine.
    """

    def get(url: str) -> str:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
        return str(response.text)

    def page_url(params: dict[str, Any]) -> str:
        return "/listening" + ("?" + urlencode(params, doseq=True) if params else "")

    results: dict[str, Any] = {}
    for view in views:
        samples: list[float] = []
        sizes: list[int] = []
        spent = 0.0
        started = time.perf_counter()
        if view.paginate:
            deepest: list[float] = []
            while len(samples) < requests and time.perf_counter() - started < budget_s:
                body = get(page_url(view.params[0]))
                for page in range(PAGES_DEEP):
                    more = _MORE.search(body)
                    if more is None:
                        break
                    before = server_cpu()
                    with stopwatch() as took:
                        body = get(html.unescape(more.group(1)))
                    spent += server_cpu() - before
                    samples.append(took["s"])
                    sizes.append(len(body))
                    if page == PAGES_DEEP - 1:
                        deepest.append(took["s"])
            results[view.name] = _summary(
                samples,
                None,
                {
                    "server_cpu_ms_per_request": round(spent / len(samples) * 1000, 1),
                    "deepest_page_p50_ms": round(percentile(deepest, 0.5) * 1000, 1)
                    if deepest
                    else None,
                    "html_kib": round(sum(sizes) / len(sizes) / 1024, 1),
                    "endpoint": "/listening/posts?cursor=... (Load more)",
                },
            )
            continue
        for number in range(warmup):
            get(page_url(view.params[number % len(view.params)]))
        before = server_cpu()
        while len(samples) < requests and time.perf_counter() - started < budget_s:
            params = view.params[len(samples) % len(view.params)]
            with stopwatch() as took:
                body = get(page_url(params))
            samples.append(took["s"])
            sizes.append(len(body))
        spent = server_cpu() - before
        results[view.name] = _summary(
            samples,
            None,
            {
                "server_cpu_ms_per_request": round(spent / len(samples) * 1000, 1),
                "html_kib": round(sum(sizes) / len(sizes) / 1024, 1),
                "endpoint": "/listening",
            },
        )
    return results


def run(
    work: Path,
    target: int = 1_000_000,
    import_db: Path | None = None,
    import_posts: int = 200_000,
    queries: int = 1000,
    batch_size: int = 1000,
    requests: int = 100,
    warmup: int = 3,
    budget_s: float = 40.0,
    rebuild: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build or reuse the database, then measure every view through the service and the web."""
    timings: dict[str, float] = {}
    with stopwatch() as took:
        path, database = ensure_database(
            work, target, import_db, import_posts, queries=queries, batch_size=batch_size,
            rebuild=rebuild, log=log,
        )  # fmt: skip
    timings["database"] = took["s"]
    engine, factory = open_database(path)
    sql = SqlLog()
    sql.install(engine)
    workspace_id = _workspace_id(factory)
    with unit_of_work(factory) as session:
        database["posts_in_workspace"] = int(
            session.scalar(select(func.count(Post.id)).where(Post.workspace_id == workspace_id))
            or 0
        )
        database["saved_queries"] = int(
            session.scalar(
                select(func.count(SavedQuery.id)).where(SavedQuery.workspace_id == workspace_id)
            )
            or 0
        )
        database["matches"] = int(session.scalar(select(func.count()).select_from(Match)) or 0)
        database["has_sqlite_stat1"] = bool(
            session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
        )
    with stopwatch() as took:
        views, described = build_views(factory, engine, workspace_id)
    timings["views"] = took["s"]

    with stopwatch() as took:
        service = measure_service(
            factory, engine, sql, workspace_id, views, requests, warmup, budget_s
        )
    timings["service"] = took["s"]

    web: dict[str, Any] | None = None
    web_setup: dict[str, Any] | None = None
    web_error = None
    with stopwatch() as took:
        try:
            with web_client(path, factory, work / "serve.log") as (client, web_setup, cpu):
                web = measure_web(client, cpu, views, requests, warmup, budget_s)
        except Exception as error:  # the web app is young: report why, keep the service figures
            web_error = f"{type(error).__name__}: {error}"
    timings["web"] = took["s"]

    # One more request of each view with its SQL captured, for the plans.
    plans: dict[str, Any] = {}
    with stopwatch() as took:
        for view in views:
            filters = view.filters[0]

            def call(filters: PostFilters = filters) -> None:
                with unit_of_work(factory) as session:
                    list_posts(session, workspace_id, filters, limit=PAGE_SIZE)

            plans[view.name] = _plan(engine, sql, call)
    timings["plans"] = took["s"]
    engine.dispose()

    return {
        "parameters": {
            "posts": target,
            "saved_queries": queries,
            "requests_per_view": requests,
            "warmup_requests": warmup,
            "time_budget_per_view_s": budget_s,
            "page_size": PAGE_SIZE,
            "pages_deep": PAGES_DEEP,
            "web": "HTTP to uvicorn on its own core, signed in, HTML pages rendered",
        },
        "web_setup": web_setup,
        "target_p95_ms": TARGET_P95_MS,
        "database": database,
        "views": [{"name": view.name, "label": view.label} for view in views],
        "view_values": described,
        "service": service,
        "web": web,
        "web_error": web_error,
        "plans": plans,
        "timings_s": {key: round(value, 1) for key, value in timings.items()},
    }
