"""Suggested replies: is the real agent's reply among the top 3 suggestions? And how fast?

    .venv/bin/python -m bench.suggest [--data DIR] [--only quality|speed]

Quality, on twcs-sample (Customer Support on Twitter, CC BY-NC-SA: read from ../shared for this
evaluation only, nothing of it is copied into the repository):

- A *pair* is a customer tweet (inbound) and a brand tweet replying to it (`in_response_to`,
  threaded by `clameur.pipeline.readers.read_twcs`). One memory per brand (a brand is a
  workspace). Events are replayed in time order: a pair enters its brand's memory when the
  brand's reply is sent; a *query* happens when the customer tweet arrives, for every customer
  tweet that the brand answered (the real reply is the brand's first reply to it). Queries come
  before additions of the same second. Pairs of the query's own thread are excluded
  (`exclude_conversation`), so no same-thread leakage and no peeking at the future.
- A suggestion *is* the real reply under two criteria, both on the answer key (`answer_key`:
  handles, links, numbers, agent signature and greeting name removed, case, accents,
  punctuation and spaces folded): **exact** (keys equal) and **close** (token-set Jaccard of the
  keys >= 0.6). Hit@1 and hit@3 are reported for each, overall and for the 10 brands with the
  most queries. *Reachable* is the share of queries whose real reply (same criterion) is held
  by at least one pair already in the brand's memory from another thread: what a perfect
  ranker could reach.
- Rankers: the shipped `ReplyMemory`; the same with popularity 0 (similarity only); the
  baseline "the 3 most frequent answers of the brand so far" (ties: most recent first); and
  popularity weights around the shipped one, on the first and second halves of the queries in
  time. The shipped weight (0.05) was set beforehand, not tuned here: it lets popularity break
  near-ties of similarity without overriding it (0.05 x log(1 + 100 uses) = 0.23); the first
  half cannot tell the weights apart. *Hit@3 when reachable* divides hit@3 by reachable.

Speed: a memory filled with 50,000 synthetic pairs (the words of twcs customer tweets shuffled,
a third of them replaced by Zipf-distributed made-up words, so the vocabulary grows as in a real
workspace; 3,000 distinct replies), then `suggest` for real twcs customer tweets; CPU time per
call on one pinned core, the time to add the pairs (sweeps included), and the memory held
(tracemalloc, measured on a separate build: it slows allocations down).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

from bench.common import RESULTS, envelope, percentile, pin_to_one_core, shown, write_json
from clameur.inbox.suggest import DEFAULT_POPULARITY, ReplyMemory, answer_key
from clameur.pipeline.readers import read_twcs

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TWCS = "twcs-sample/twcs_head_complete_threads.csv"
JSON_FILE = RESULTS / "suggest.json"
MD_FILE = RESULTS / "suggest.md"
JACCARD = 0.6
POPULARITY_GRID = (0.0, 0.02, 0.05, 0.1, 0.2)
SPEED_PAIRS = 50_000


@dataclass(frozen=True, slots=True)
class Pair:
    """A customer tweet and the brand's reply to it."""

    brand: str
    thread: str
    inbound: str
    inbound_at: datetime
    author: str
    reply: str
    reply_at: datetime
    first: bool  # the brand's first reply to this tweet: the one a query is scored against


def load_pairs(path: Path) -> list[Pair]:
    """The (customer tweet, brand reply) pairs of twcs, threaded by the project's reader."""
    tweets = {}
    for record in read_twcs(path):
        data = record.data
        if data is None:
            continue
        data["at"] = datetime.strptime(data["created_at"], "%a %b %d %H:%M:%S %z %Y")
        tweets[data["id"]] = data
    pairs = []
    for reply in sorted(tweets.values(), key=lambda tweet: (tweet["at"], int(tweet["id"]))):
        inbound = tweets.get(reply["in_reply_to"] or "")
        if reply["inbound"] or inbound is None or not inbound["inbound"]:
            continue
        pairs.append((inbound, reply))
    seen: set[tuple[str, str]] = set()
    out = []
    for inbound, reply in pairs:
        brand = reply["author"]["handle"]
        first = (brand, inbound["id"]) not in seen
        seen.add((brand, inbound["id"]))
        out.append(
            Pair(
                brand=brand,
                thread=inbound["conversation_id"],
                inbound=inbound["text"],
                inbound_at=inbound["at"],
                author=inbound["author"]["handle"],
                reply=reply["text"],
                reply_at=reply["at"],
                first=first,
            )
        )
    return out


def jaccard(left: str, right: str) -> float:
    """Token-set Jaccard of two answer keys."""
    a, b = set(left.split()), set(right.split())
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class MostFrequent:
    """The baseline: the brand's most frequent answers so far, whatever the message."""

    def __init__(self) -> None:
        self.uses: Counter[str] = Counter()
        self.latest: dict[str, int] = {}
        self.threads: dict[str, Counter[str]] = defaultdict(Counter)
        self.clock = 0

    def add(self, pair: Pair) -> None:
        key = answer_key(pair.reply)
        if not key:
            return
        self.clock += 1
        self.uses[key] += 1
        self.latest[key] = self.clock
        self.threads[pair.thread][key] += 1

    def suggest(self, pair: Pair, k: int = 3) -> list[str]:
        own = self.threads.get(pair.thread, Counter())
        counts = [(n - own[key], self.latest[key], key) for key, n in self.uses.items()]
        counts = [item for item in counts if item[0] > 0]
        counts.sort(reverse=True)
        return [key for _, _, key in counts[:k]]


def replay(pairs: Sequence[Pair], rankers: dict[str, Callable[[], Any]]) -> list[dict[str, Any]]:
    """Replay every brand's pairs in time order; one row per query with each ranker's top 3."""
    events: list[tuple[datetime, int, int, Pair]] = []
    for index, pair in enumerate(pairs):
        events.append((pair.reply_at, 1, index, pair))  # the pair enters memory
        if pair.first:
            events.append((pair.inbound_at, 0, index, pair))  # a query; before adds of its second
    events.sort(key=lambda event: (event[0], event[1], event[2]))
    memories: dict[tuple[str, str], Any] = {}
    held: dict[str, list[tuple[str, str]]] = defaultdict(list)
    rows = []
    for at, kind, _, pair in events:
        if kind == 1:
            for name, make in rankers.items():
                memory = memories.setdefault((name, pair.brand), make())
                if isinstance(memory, MostFrequent):
                    memory.add(pair)
                else:
                    memory.add(
                        pair.inbound,
                        pair.reply,
                        brand=pair.brand,
                        author=pair.author,
                        at=pair.reply_at,
                        conversation=pair.thread,
                    )
            held[pair.brand].append((answer_key(pair.reply), pair.thread))
            continue
        truth = answer_key(pair.reply)
        others = [key for key, thread in held[pair.brand] if thread != pair.thread and key]
        row: dict[str, Any] = {
            "brand": pair.brand,
            "at": at,
            "truth": truth,
            "memory": len(others),
            "reachable_exact": truth in others,
            "reachable_close": any(jaccard(truth, key) >= JACCARD for key in others),
        }
        for name, make in rankers.items():
            memory = memories.setdefault((name, pair.brand), make())
            if isinstance(memory, MostFrequent):
                keys = memory.suggest(pair)
            else:
                found = memory.suggest(pair.inbound, k=3, exclude_conversation=pair.thread)
                keys = [suggestion.answer for suggestion in found]
            row[name] = keys
        rows.append(row)
    return rows


def score(rows: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    """Hit@1 and hit@3 of a ranker under the exact and close criteria."""
    counts = Counter()
    for row in rows:
        keys = row[name]
        exact = [key == row["truth"] for key in keys]
        close = [jaccard(key, row["truth"]) >= JACCARD for key in keys]
        counts["exact@1"] += bool(exact[:1] and exact[0])
        counts["exact@3"] += any(exact)
        counts["close@1"] += bool(close[:1] and close[0])
        counts["close@3"] += any(close)
        counts["answered"] += bool(keys)
    n = len(rows)
    figures: dict[str, Any] = {"queries": n}
    for key in ("exact@1", "exact@3", "close@1", "close@3", "answered"):
        figures[key] = round(counts[key] / n, 4) if n else None
    return figures


def reachable(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What a perfect ranker could reach: the real answer is somewhere in memory."""
    n = len(rows)
    return {
        "queries": n,
        "exact": round(sum(row["reachable_exact"] for row in rows) / n, 4) if n else None,
        "close": round(sum(row["reachable_close"] for row in rows) / n, 4) if n else None,
        "empty_memory": round(sum(row["memory"] == 0 for row in rows) / n, 4) if n else None,
    }


def quality(data: Path) -> dict[str, Any]:
    """Replay twcs-sample and score every ranker."""
    path = data / TWCS
    pairs = load_pairs(path)
    rankers: dict[str, Callable[[], Any]] = {"shipped": ReplyMemory, "most_frequent": MostFrequent}
    for weight in POPULARITY_GRID:
        rankers[f"popularity={weight:g}"] = lambda weight=weight: ReplyMemory(popularity=weight)
    rows = replay(pairs, rankers)
    brands = Counter(row["brand"] for row in rows)
    top = [brand for brand, _ in brands.most_common(10)]
    half = len(rows) // 2
    ordered = sorted(rows, key=lambda row: row["at"])
    result: dict[str, Any] = {
        "data": shown(path),
        "pairs": len(pairs),
        "queries": len(rows),
        "brands": len(brands),
        "reachable": reachable(rows),
        "overall": {name: score(rows, name) for name in ("shipped", "most_frequent")},
        "popularity": {
            name: {
                "first_half": score(ordered[:half], name),
                "second_half": score(ordered[half:], name),
                "all": score(rows, name),
            }
            for name in rankers
            if name.startswith("popularity=")
        },
        "by_brand": {},
    }
    for brand in top:
        mine = [row for row in rows if row["brand"] == brand]
        result["by_brand"][brand] = {
            "reachable": reachable(mine),
            **{name: score(mine, name) for name in ("shipped", "most_frequent")},
        }
    return result


def synthetic_pairs(
    data: Path, count: int, seed: int = 7
) -> tuple[list[tuple[str, str]], list[str]]:
    """`count` made-up pairs built from the words of twcs tweets, and real customer tweets."""
    rng = random.Random(seed)
    pairs = load_pairs(data / TWCS)
    inbound = [pair.inbound for pair in pairs]
    replies = [pair.reply for pair in pairs]
    words = [text.split() for text in inbound]
    made_up = [f"w{rank}x" for rank in range(1, 200_001)]
    cumulative = list(accumulate(1.0 / rank for rank in range(1, len(made_up) + 1)))
    variants = [f"{rng.choice(replies)} (v{n})" for n in range(3_000)]
    out = []
    for _ in range(count):
        tokens = list(rng.choice(words))
        rng.shuffle(tokens)
        extra = rng.choices(made_up, cum_weights=cumulative, k=max(1, len(tokens) // 3))
        for position, word in zip(rng.sample(range(len(tokens)), len(extra)), extra, strict=False):
            tokens[position] = word
        out.append((" ".join(tokens + extra[len(tokens) :]), rng.choice(variants)))
    return out, inbound


def speed(data: Path) -> dict[str, Any]:
    """Suggestion latency over a full memory; add throughput; memory held."""
    pairs, queries = synthetic_pairs(data, SPEED_PAIRS)
    # Memory held, measured on a first build (tracemalloc slows every allocation down)...
    gc.collect()
    tracemalloc.start()
    measured = ReplyMemory(capacity=SPEED_PAIRS)
    for inbound, reply in pairs:
        measured.add(inbound, reply, conversation="c")
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del measured
    gc.collect()
    # ... and time, on a second one.
    memory = ReplyMemory(capacity=SPEED_PAIRS)
    start = time.process_time()
    for inbound, reply in pairs:
        memory.add(inbound, reply, conversation="c")
    add_cpu = time.process_time() - start
    timings = []
    for query in queries[:1_000]:
        start = time.process_time()
        memory.suggest(query, k=3)
        timings.append(time.process_time() - start)
    # One more pass past capacity: the oldest are forgotten, the memory stays bounded.
    extra, _ = synthetic_pairs(data, SPEED_PAIRS // 5, seed=8)
    for inbound, reply in extra:
        memory.add(inbound, reply)
    return {
        "pairs": SPEED_PAIRS,
        "add_cpu_s": round(add_cpu, 2),
        "add_us_per_pair": round(add_cpu / SPEED_PAIRS * 1e6, 1),
        "memory_mib": round(held / 2**20, 1),
        "suggest_queries": len(timings),
        "suggest_ms_p50": round(percentile(timings, 0.5) * 1e3, 2),
        "suggest_ms_p95": round(percentile(timings, 0.95) * 1e3, 2),
        "suggest_ms_max": round(max(timings) * 1e3, 2),
        "held_after_overflow": len(memory),
    }


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def markdown(result: dict[str, Any]) -> str:
    """The results page."""
    lines = ["# Suggested replies: the real reply among the top 3?", ""]
    lines.append(
        f"Produced by `python -m bench.suggest` on {result['date']} "
        f"({result['machine']['cpu']}, Python {result['machine']['python']}). "
        "Engine: `clameur.inbox.suggest.ReplyMemory` (TF-IDF over folded words, word bigrams "
        "and character 4-grams; answers grouped by their key; score = best similarity + "
        f"{DEFAULT_POPULARITY} x log(1 + uses))."
    )
    lines.append("")
    doc = (__doc__ or "").split("Quality, on twcs-sample", 1)[1].split("Speed:", 1)[0]
    quality_part = result.get("quality")
    if quality_part:
        lines += ["## Protocol", "", "Quality, on twcs-sample" + doc.rstrip(), ""]
        q = quality_part
        r = q["reachable"]
        lines.append(
            f"{q['pairs']:,} pairs, {q['queries']:,} queries, {q['brands']} brands "
            f"(`{q['data']}`). For {pct(r['empty_memory'])} of the queries the brand's memory "
            "holds nothing yet from another thread (no suggestion possible)."
        )
        lines += ["", "## Overall", ""]
        lines.append("| ranker | exact@1 | exact@3 | close@1 | close@3 | some suggestion |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        names = {"shipped": "**shipped ReplyMemory**", "most_frequent": "baseline: most frequent"}
        for name, label in names.items():
            s = q["overall"][name]
            lines.append(
                f"| {label} | {pct(s['exact@1'])} | {pct(s['exact@3'])} | {pct(s['close@1'])} "
                f"| {pct(s['close@3'])} | {pct(s['answered'])} |"
            )
        lines.append(
            f"| reachable (a perfect ranker) | | {pct(r['exact'])} | | {pct(r['close'])} | |"
        )
        lines.append("")
        for name, label in names.items():
            s = q["overall"][name]
            lines.append(
                f"Hit@3 when reachable, {label}: exact {pct(s['exact@3'] / r['exact'])}, "
                f"close {pct(s['close@3'] / r['close'])}."
            )
        shipped, baseline = q["overall"]["shipped"], q["overall"]["most_frequent"]
        lines += [
            "",
            "Reading: the sample is a few days of 73 brands, so a brand's memory holds a few "
            "dozen pairs when a query comes (1,612 pairs in all; a workspace's memory would "
            f"hold up to 50,000). The real reply is in memory at all (close criterion) for only "
            f"{pct(r['close'])} of the queries: most replies are written for the case at hand. "
            f"The absolute figures (shipped close@3 {pct(shipped['close@3'])}, baseline "
            f"{pct(baseline['close@3'])}) say more about the sample than about the engine; the "
            "share of reachable answers found is the fairer reading. On this sample the "
            "frequency baseline is as good or better: the reusable answers here are canned "
            "ones (Uber_Support's 'send us a note' link, Chipotle's 'DM us'), given whatever "
            "the message; similarity wins where answers depend on the question "
            "(comcastcares, AskPlayStation, Delta, SouthwestAir), at counts of one to two "
            "queries. The difference between the two rankers is a handful of queries: not "
            "significant. A larger, longer share of twcs would be needed to tell them apart "
            "and to tune the popularity weight.",
        ]
        lines += ["", "## The 10 brands with the most queries (top-3, exact / close)", ""]
        lines.append(
            "| brand | queries | shipped exact@3 | shipped close@3 | baseline exact@3 "
            "| baseline close@3 | shipped close@1 | reachable exact / close |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for brand, b in q["by_brand"].items():
            s, m, rb = b["shipped"], b["most_frequent"], b["reachable"]
            lines.append(
                f"| {brand} | {s['queries']} | {pct(s['exact@3'])} | {pct(s['close@3'])} "
                f"| {pct(m['exact@3'])} | {pct(m['close@3'])} | {pct(s['close@1'])} "
                f"| {pct(rb['exact'])} / {pct(rb['close'])} |"
            )
        lines += ["", "## Popularity weight (first half of the queries in time / second half)", ""]
        lines.append("| weight | exact@3 | close@1 | close@3 | close@3 all |")
        lines.append("|---:|---:|---:|---:|---:|")
        for name, p in q["popularity"].items():
            a, b, c = p["first_half"], p["second_half"], p["all"]
            lines.append(
                f"| {name.split('=')[1]} | {pct(a['exact@3'])} / {pct(b['exact@3'])} "
                f"| {pct(a['close@1'])} / {pct(b['close@1'])} "
                f"| {pct(a['close@3'])} / {pct(b['close@3'])} | {pct(c['close@3'])} |"
            )
        lines.append("")
    speed_part = result.get("speed")
    if speed_part:
        s = speed_part
        lines += ["## Speed", "", "Speed:" + (__doc__ or "").split("Speed:", 1)[1].rstrip(), ""]
        lines.append("| measure | value |")
        lines.append("|---|---:|")
        lines.append(f"| pairs in memory | {s['pairs']:,} |")
        lines.append(
            f"| `suggest` CPU ms, p50 / p95 / max ({s['suggest_queries']:,} queries) "
            f"| {s['suggest_ms_p50']} / {s['suggest_ms_p95']} / {s['suggest_ms_max']} |"
        )
        lines.append(f"| `add` CPU µs per pair (sweeps included) | {s['add_us_per_pair']} |")
        lines.append(f"| memory held at 50,000 pairs (tracemalloc) | {s['memory_mib']} MiB |")
        lines.append(f"| pairs held after 10,000 more | {s['held_after_overflow']:,} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", choices=("quality", "speed"))
    args = parser.parse_args()
    previous: dict[str, Any] = {}
    if JSON_FILE.exists():
        previous = json.loads(JSON_FILE.read_text("utf-8"))
    figures: dict[str, Any] = {
        "quality": previous.get("quality"),
        "speed": previous.get("speed"),
    }
    pin_to_one_core()
    if args.only in (None, "quality"):
        figures["quality"] = quality(args.data)
    if args.only in (None, "speed"):
        figures["speed"] = speed(args.data)
    parameters = {"jaccard": JACCARD, "popularity_grid": list(POPULARITY_GRID), "k": 3}
    result = envelope("suggest", parameters, figures)
    write_json(JSON_FILE, result)
    MD_FILE.write_text(markdown(result), "utf-8")
    print(MD_FILE.read_text("utf-8"))


if __name__ == "__main__":
    main()
