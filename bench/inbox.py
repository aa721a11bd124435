"""The inbox on real customer-care threads: `python -m bench.inbox`.

Imports `../shared/data/twcs-sample` (1,042 threads between customers and 73 brands on Twitter)
through `clameur import --format twcs` into a fresh SQLite database whose workspace owns the
brands' accounts, then checks that the conversations the inbox built are exactly the real
threads, and reports per brand the first-response and resolution times the product computed.
twcs has no "resolved" event: the resolution time here is from the customer's first message to
the brand's last answer in the thread. The data set is non-commercial: it is read from
`../shared`, never copied into the repository.
"""

from __future__ import annotations

import csv
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.common import (
    RESULTS,
    ROOT,
    WORK,
    envelope,
    fresh_database,
    remove_database,
    stopwatch,
    write_json,
)
from clameur.models import Author, Conversation, ConversationItem, NetworkAccount, Post
from clameur.pipeline.ingest import import_file
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import create_workspace

SAMPLE = ROOT.parent / "shared" / "data" / "twcs-sample" / "twcs_head_complete_threads.csv"


def _threads(path: Path) -> tuple[dict[str, set[str]], set[str]]:
    """Real threads (thread id -> tweet ids) and the brands' screen names."""
    threads: dict[str, set[str]] = defaultdict(set)
    brands: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            threads[row["thread_id"]].add(row["tweet_id"])
            if row["inbound"].strip().lower() != "true":
                brands.add(row["author_id"])
    return dict(threads), brands


def _minutes(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"n": 0}
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "median_min": round(statistics.median(ordered) / 60, 1),
        "p90_min": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))] / 60, 1),
        "mean_min": round(statistics.fmean(ordered) / 60, 1),
    }


def run(path: Path = SAMPLE) -> dict[str, Any]:
    threads, brands = _threads(path)
    db = WORK / "inbox-twcs.db"
    engine, factory = fresh_database(db)
    with unit_of_work(factory) as session:
        workspace = create_workspace(session, "twcs", "Customer Support on Twitter", [])
        workspace_id = workspace.id
        for brand in sorted(brands):
            session.add(NetworkAccount(workspace_id=workspace_id, network="x", handle=brand))
    with stopwatch() as took:
        summary = import_file(factory, workspace_id, path, "twcs", WORK / "inbox-twcs.rejects")
    with unit_of_work(factory) as session:
        rows = session.execute(
            select(
                Conversation.id,
                Conversation.first_inbound_at,
                Conversation.first_response_at,
                Conversation.last_response_at,
                Post.external_id,
                ConversationItem.inbound,
                Author.handle,
            )
            .join(ConversationItem, ConversationItem.conversation_id == Conversation.id)
            .join(Post, Post.id == ConversationItem.post_id)
            .outerjoin(Author, Author.id == Post.author_id)
            .where(Conversation.workspace_id == workspace_id)
        ).all()
    engine.dispose()
    remove_database(db)

    built: dict[int, set[str]] = defaultdict(set)
    times: dict[int, tuple[Any, Any, Any]] = {}
    brand_of: dict[int, str] = {}
    for conversation_id, first_in, first_out, last_out, tweet, inbound, handle in rows:
        built[conversation_id].add(tweet)
        times[conversation_id] = (first_in, first_out, last_out)
        if not inbound and handle:
            brand_of.setdefault(conversation_id, handle)
    real = {frozenset(tweets) for tweets in threads.values()}
    made = {frozenset(tweets) for tweets in built.values()}
    exact = real & made
    routed = set().union(*built.values()) if built else set()
    first_response: dict[str, list[float]] = defaultdict(list)
    resolution: dict[str, list[float]] = defaultdict(list)
    for conversation_id, (first_in, first_out, last_out) in times.items():
        brand = brand_of.get(conversation_id, "(unanswered)")
        if first_in and first_out:
            first_response[brand].append((first_out - first_in).total_seconds())
            first_response["(all brands)"].append((first_out - first_in).total_seconds())
        if first_in and last_out:
            resolution[brand].append((last_out - first_in).total_seconds())
            resolution["(all brands)"].append((last_out - first_in).total_seconds())
    per_brand = {
        brand: {"first_response": _minutes(first_response[brand]), "resolution": _minutes(values)}
        for brand, values in sorted(resolution.items(), key=lambda item: -len(item[1]))
    }
    return {
        "parameters": {"file": "shared/data/twcs-sample/" + path.name, "brands": len(brands)},
        "import": {
            "imported": summary.imported,
            "rejected": summary.rejected,
            "seconds": round(took["s"], 1),
        },
        "threads": {
            "real": len(real),
            "conversations": len(made),
            "identical": len(exact),
            "real_not_rebuilt": len(real - made),
            "conversations_not_real": len(made - real),
            "tweets_in_conversations": len(routed),
            "tweets": sum(len(tweets) for tweets in threads.values()),
        },
        "per_brand": per_brand,
    }


def _synthetic_inbox(factory: Any, workspace_id: int, conversations: int, seed: int = 7) -> None:
    """`conversations` threads of 1 to 4 messages written straight into the tables (the pipeline
    would take an hour here): the shape the inbox reads, not the analysis."""
    import random
    from datetime import UTC, datetime, timedelta

    from clameur.inbox.triage import ensure_inbox_defaults
    from clameur.models import Author, Queue
    from clameur.store.bulk import insert_rows

    rng = random.Random(seed)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    words = "remboursement navette billet concert annulé retard merci refund shuttle ticket".split()
    with unit_of_work(factory) as session:
        ensure_inbox_defaults(session, workspace_id)
        session.add(NetworkAccount(workspace_id=workspace_id, network="x", handle="brand"))
        queues = list(session.scalars(select(Queue.id).where(Queue.workspace_id == workspace_id)))
        authors = insert_rows(
            session,
            Author.__table__,  # type: ignore[arg-type]
            ("network", "handle", "display_name", "followers", "verified", "updated_at"),
            [
                ("x", f"c{n}", f"Customer {n}", rng.randint(0, 90000), False, start)
                for n in range(conversations // 2)
            ]
            + [("x", "brand", "Brand", 50000, True, start)],
            conflict=("network", "handle"),
            returning=("id",),
        )
        author_ids = [row[0] for row in authors]
        brand = author_ids[-1]
    post_columns = (
        "workspace_id",
        "network",
        "external_id",
        "author_id",
        "text",
        "lang",
        "created_at",
        "ingested_at",
        "metrics",
        "in_reply_to",
        "conversation_key",
        "sentiment",
        "intents",
        "enrichments",
        "duplicate_count",
    )
    chunk = 5000
    for first in range(0, conversations, chunk):
        with unit_of_work(factory) as session:
            threads = []
            posts = []
            for n in range(first, min(conversations, first + chunk)):
                at = start + timedelta(minutes=n)
                size = rng.randint(1, 4)
                customer = author_ids[n % (len(author_ids) - 1)]
                key = f"t{n}"
                messages = []
                for m in range(size):
                    inbound = m % 2 == 0
                    external = f"{key}-{m}"
                    text = " ".join(rng.choice(words) for _ in range(12))
                    posts.append(
                        (
                            workspace_id,
                            "x",
                            external,
                            customer if inbound else brand,
                            ("@brand " if inbound else "") + text,
                            "fr",
                            at + timedelta(minutes=5 * m),
                            at,
                            {},
                            f"{key}-{m - 1}" if m else None,
                            key,
                            "negative" if inbound else None,
                            [],
                            {},
                            1,
                        )
                    )
                    messages.append((external, inbound, at + timedelta(minutes=5 * m)))
                threads.append((n, customer, at, size, messages))
            stored = dict(
                (external, post_id)
                for post_id, external in insert_rows(
                    session,
                    Post.__table__,
                    post_columns,
                    posts,  # type: ignore[arg-type]
                    conflict=("network", "external_id"),
                    returning=("id", "external_id"),
                )
            )
            conversation_rows = [
                (
                    workspace_id,
                    "x",
                    f"t{n}",
                    "public",
                    "open" if n % 3 else "resolved",
                    rng.choice(queues),
                    rng.randint(0, 100),
                    "normal",
                    [],
                    [],
                    False,
                    False,
                    False,
                    size,
                    at,
                    at,
                    at if size % 2 else None,
                    at,
                    at,
                )
                for n, customer, at, size, _messages in threads
            ]
            made = insert_rows(
                session,
                Conversation.__table__,  # type: ignore[arg-type]
                (
                    "workspace_id",
                    "network",
                    "thread_key",
                    "kind",
                    "status",
                    "queue_id",
                    "priority",
                    "priority_level",
                    "priority_reasons",
                    "tags",
                    "needs_approval",
                    "hidden",
                    "spam",
                    "message_count",
                    "first_inbound_at",
                    "last_inbound_at",
                    "waiting_since",
                    "created_at",
                    "updated_at",
                ),
                conversation_rows,
                conflict=("workspace_id", "network", "thread_key"),
                returning=("id", "thread_key"),
            )
            by_key = {key: conversation_id for conversation_id, key in made}
            insert_rows(
                session,
                ConversationItem.__table__,  # type: ignore[arg-type]
                ("conversation_id", "post_id", "inbound", "created_at"),
                [
                    (by_key[f"t{n}"], stored[external], inbound, moment)
                    for n, _c, _at, _size, messages in threads
                    for external, inbound, moment in messages
                ],
                conflict=("post_id",),
            )


def latency(conversations: int = 100_000, requests: int = 100) -> dict[str, Any]:
    """Opening a conversation and listing the inbox with `conversations` stored (in process,
    through the web app, signed in)."""
    import random
    import re
    import time

    from fastapi.testclient import TestClient

    from clameur.settings import Settings
    from clameur.web.app import create_app
    from clameur.workspaces.service import add_user

    db = WORK / "inbox-latency.db"
    engine, factory = fresh_database(db)
    with unit_of_work(factory) as session:
        workspace_id = create_workspace(session, "bench", "Bench", []).id
        add_user(session, "agent@example.com", "Agent", "bench-password", "agent")
    with stopwatch() as built:
        _synthetic_inbox(factory, workspace_id, conversations)
    settings = Settings(_env_file=None, data_dir=WORK)  # type: ignore[call-arg]
    client = TestClient(create_app(settings, factory))
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    client.post(
        "/login",
        data={
            "email": "agent@example.com",
            "password": "bench-password",
            "csrf_token": token.group(1) if token else "",
        },
    )
    with unit_of_work(factory) as session:
        ids = list(session.scalars(select(Conversation.id)))
    rng = random.Random(3)
    views: dict[str, list[float]] = {"open a conversation": [], "list (Care queue)": []}
    from clameur.inbox import suggestions

    # Warm-up: templates, and the suggestion memory, which learns the team's past answers in
    # the background the first time the workspace's inbox is opened (timed apart).
    with stopwatch() as learned:
        client.get(f"/inbox/c/{rng.choice(ids)}", headers={"HX-Request": "true"})
        while any(memory.building for memory in suggestions._MEMORIES.values()):
            time.sleep(0.2)
    for _ in range(5):
        client.get(f"/inbox/c/{rng.choice(ids)}", headers={"HX-Request": "true"})
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get(f"/inbox/c/{rng.choice(ids)}", headers={"HX-Request": "true"})
        views["open a conversation"].append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
        t0 = time.perf_counter()
        client.get("/inbox/list?queue=care")
        views["list (Care queue)"].append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    remove_database(db)
    out: dict[str, Any] = {
        "conversations": conversations,
        "build_seconds": round(built["s"], 1),
        "suggestion_memory_seconds": round(learned["s"], 1),
    }
    for name, values in views.items():
        ordered = sorted(values)
        out[name] = {
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
            "max_ms": round(ordered[-1], 1),
        }
    return out


def write_markdown(data: dict[str, Any]) -> Path:
    threads = data["threads"]
    lines = [
        "# The inbox on real customer-care threads (twcs sample)",
        "",
        f"Produced by `python -m bench.inbox` on {data['date']} "
        f"(commit {data['git']['commit'][:10]}). "
        "`clameur import --format twcs` of the sample into a fresh SQLite database whose "
        f"workspace owns the {data['parameters']['brands']} brands' accounts; the inbox builds "
        "conversations as posts arrive (mentions of a brand, replies, the brands' answers).",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| real threads in the file | {threads['real']:,} |",
        f"| conversations built by the inbox | {threads['conversations']:,} |",
        f"| conversations identical to a real thread (same tweets) | {threads['identical']:,} |",
        f"| real threads not rebuilt exactly | {threads['real_not_rebuilt']:,} |",
        f"| tweets in conversations / in the file | {threads['tweets_in_conversations']:,} / "
        f"{threads['tweets']:,} |",
        "",
        "## Speed with 100,000 conversations",
        "",
        "Synthetic conversations (1 to 4 messages) written into a fresh SQLite database; "
        "requests through the web app in process, signed in as an agent (target: opening a "
        "conversation under 150 ms). The suggestion memory learns the team's past answers in "
        "the background the first time a workspace's inbox is opened "
        f"({data.get('latency', {}).get('suggestion_memory_seconds', '?')} s here, timed apart; "
        "conversations open meanwhile, with fewer suggestions).",
        "",
        "| view | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---:|---:|---:|",
        *[
            f"| {name} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |"
            for name, row in data.get("latency", {}).items()
            if isinstance(row, dict)
        ],
        "",
        "## Response times per brand",
        "",
        "Per brand, as the product computed them (business time is not applied here: these are "
        "wall-clock minutes). First response: from the customer's first message to the brand's "
        "first answer. Resolution: twcs has no resolved event, so from the customer's first "
        "message to the brand's last answer in the thread.",
        "",
        "| brand | conversations | first response median (min) | p90 | resolution median (min) "
        "| p90 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for brand, row in data["per_brand"].items():
        first, done = row["first_response"], row["resolution"]
        lines.append(
            f"| {brand} | {done.get('n', 0)} | {first.get('median_min', '—')} | "
            f"{first.get('p90_min', '—')} | {done.get('median_min', '—')} | "
            f"{done.get('p90_min', '—')} |"
        )
    path = RESULTS / "inbox.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> int:
    if not SAMPLE.exists():
        print(f"twcs sample not found at {SAMPLE}", file=sys.stderr)
        return 1
    WORK.mkdir(parents=True, exist_ok=True)
    figures = run()
    figures["latency"] = latency()
    data = envelope("inbox", figures.pop("parameters"), figures)
    write_json(RESULTS / "inbox.json", data)
    print(write_markdown(data).read_text(encoding="utf-8")[:1500])
    return 0


if __name__ == "__main__":
    sys.exit(main())
