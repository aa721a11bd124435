"""Saved-query matching throughput: the prefilter (`QueryIndex.match`) against evaluating every
query (`match_all_naive`), with 1,000 and 10,000 saved queries, on the same demo posts.

Rates are given in wall-clock time and in CPU time of this process (µs/post are CPU time), since
the machine may be shared. Posts are prepared as ingest prepares them (normalised text, detected
language, network, author) before any timing. Tokenizing a post (`PostDoc.from_fields`) and
building its lookup tables (`PostDoc.view`) are timed apart, once: both matchers share them. The
naive matcher runs on a sample of the posts (it is slow by design); both answers are compared on
that sample.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import HISTORY_END, stopwatch
from bench.queries import DEMO_SHARE, GENERATOR_VERSION, workspace_queries
from clameur.connectors.demo.generator import DemoStream
from clameur.kit.text import normalise
from clameur.nlp import language
from clameur.query import PostDoc, QueryIndex, parse


def prepare_posts(count: int, seed: int) -> list[dict[str, Any]]:
    """Demo posts with what the matcher reads: normalised text, language, network, author."""
    records = DemoStream(seed=seed).history(count, HISTORY_END)
    texts = [normalise(record["text"]) for record in records]
    langs = language.detect_languages(texts)
    return [
        {
            "text": text,
            "lang": lang,
            "network": record["network"],
            "author": (record.get("author") or {}).get("handle"),
        }
        for record, text, (lang, _score) in zip(records, texts, langs, strict=True)
    ]


def make_docs(posts: list[dict[str, Any]]) -> list[PostDoc]:
    """Tokenized posts, as the pipeline's match stage builds them."""
    return [
        PostDoc.from_fields(post["text"], lang=post["lang"], network=post["network"],
                            author=post["author"])
        for post in posts
    ]  # fmt: skip


def _timed(function: Any, docs: list[PostDoc]) -> tuple[list[list[int]], float, float]:
    """The results, the wall-clock seconds and the CPU seconds of one pass."""
    start, start_cpu = time.perf_counter(), time.process_time()
    results = [function(doc) for doc in docs]
    return results, time.perf_counter() - start, time.process_time() - start_cpu


def _rates(posts: int, wall: float, cpu: float) -> dict[str, Any]:
    return {
        "posts": posts,
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "posts_per_s": round(posts / wall, 1),
        "posts_per_cpu_s": round(posts / cpu, 1),
        "us_per_post": round(cpu / posts * 1e6, 1),
    }


def measure(docs: list[PostDoc], count: int, naive_sample: int, repeats: int) -> dict[str, Any]:
    """Both matchers over the posts for one set of `count` saved queries."""
    queries = workspace_queries(count)
    with stopwatch() as built:
        index = QueryIndex({number: parse(text) for number, (_name, text) in enumerate(queries)})
    # Warm up: first calls fill the regex and prefix caches.
    for doc in docs[:200]:
        index.match(doc)
    best = best_cpu = float("inf")
    matched: list[list[int]] = []
    for _ in range(repeats):
        matched, seconds, cpu = _timed(index.match, docs)
        best, best_cpu = min(best, seconds), min(best_cpu, cpu)
    sample = docs[:naive_sample]
    naive, naive_seconds, naive_cpu = _timed(index.match_all_naive, sample)
    same = sum(1 for got, want in zip(matched, naive, strict=False) if got == want)
    candidates = [len(index.candidates(doc)) for doc in docs]
    always = len(index.candidates(PostDoc([])))
    matches = [len(found) for found in matched]
    return {
        "saved_queries": len(queries),
        "index_build_seconds": round(built["s"], 2),
        "prefilter": {**_rates(len(docs), best, best_cpu), "best_of": repeats},
        "naive": _rates(len(sample), naive_seconds, naive_cpu),
        "speedup": round((naive_cpu / len(sample)) / (best_cpu / len(docs)), 1),
        "queries_evaluated_per_post": {
            "prefilter_mean": round(sum(candidates) / len(candidates), 1),
            "prefilter_max": max(candidates),
            "always_evaluated": always,
            "naive": len(queries),
        },
        "matches_per_post": round(sum(matches) / len(matches), 2),
        "posts_with_a_match": round(sum(1 for m in matches if m) / len(matches), 3),
        "identical": {
            "posts_compared": len(sample),
            "same": same,
            "differ": len(sample) - same,
            "identical": same == len(sample),
        },
    }


def run(
    posts: int = 20_000,
    sizes: tuple[int, ...] = (1000, 10_000),
    naive_posts: dict[int, int] | None = None,
    seed: int = 11,
    repeats: int = 2,
) -> dict[str, Any]:
    """Matching throughput for each number of saved queries."""
    naive_posts = naive_posts or {1000: 5000, 10_000: 500}
    with stopwatch() as prepared:
        prepared_posts = prepare_posts(posts, seed)
    with stopwatch() as tokenized:
        docs = make_docs(prepared_posts)
    with stopwatch() as viewed:
        for doc in docs:
            doc.view()
    results = []
    timings: dict[str, float] = {}
    prepare_us = (tokenized["cpu"] + viewed["cpu"]) / posts * 1e6
    for size in sizes:
        with stopwatch() as took:
            result = measure(docs, size, min(posts, naive_posts.get(size, 1000)), repeats)
        for side in ("prefilter", "naive"):
            result[side]["with_tokenization_posts_per_cpu_s"] = round(
                1e6 / (result[side]["us_per_post"] + prepare_us), 1
            )
        results.append(result)
        timings[str(size)] = round(took["s"], 1)
    return {
        "parameters": {
            "posts": posts,
            "seed": seed,
            "history_end": HISTORY_END.isoformat(),
            "saved_query_sets": list(sizes),
            "naive_sample_posts": {str(k): min(posts, v) for k, v in naive_posts.items()},
            "query_generator": GENERATOR_VERSION,
            "queries_about_demo_world": DEMO_SHARE,
        },
        "tokenization": {
            "tokenize_us_per_post": round(tokenized["cpu"] / posts * 1e6, 1),
            "view_us_per_post": round(viewed["cpu"] / posts * 1e6, 1),
            "posts_per_cpu_s": round(posts / (tokenized["cpu"] + viewed["cpu"]), 1),
            "note": "PostDoc.from_fields (tokenize) and PostDoc.view (lookup tables), once per "
            "post, CPU time; not included in the matcher figures",
        },
        "sets": results,
        "timings_s": {"prepare": round(prepared["s"], 1), **timings},
    }
