"""Which language detector to ship: accuracy on short French/English posts, and speed on one core.

Builds an evaluation set from the shared public data (label = the data set's language), runs
py3langid (all languages, and restricted to the languages a French/English brand meets) and lingua
(low- and high-accuracy modes, restricted likewise), each on raw and on cleaned text, then the
shipped detector of `clameur.nlp.language`, and as an option the shipped detector with lingua
deciding where it is unsure. Reports accuracy on French, on English, on posts of at most 40
characters and on posts cut to their first 40 characters, and throughput on one core. Writes
bench/results/langid.json and langid.md.

    .venv/bin/python -m bench.langid [--data DIR] [--out DIR]

Needs lingua-language-detector, from the `bench` extras (the shipped detector does not use it).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, envelope, pin_to_one_core, shown, write_json
from clameur.nlp import language

# The shared data sit next to the checkout: <root>/../shared/data.
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# (source name, file under the data folder). Only test splits, or whole sets that have no split.
# umsab english_test is not listed: all of it is inside tweeteval test.
SOURCES = {
    "fr": [
        ("umsab-fr-test", "umsab-sentiment-fr-en/french_test.csv"),
        ("mlma-fr", "mlma-hate-speech-fr-en/fr.csv"),
    ],
    "en": [
        ("tweeteval-test", "tweeteval-sentiment/test.csv"),
        ("mlma-en", "mlma-hate-speech-fr-en/en.csv"),
        ("complaints", "complaints-twitter/complaints.csv"),
    ],
}
PLAUSIBLE = language.LANGUAGES  # fr, en, es, de, it, pt, nl: the set the shipped detector uses
SHORT_CHARS = 40
# mlma-fr was collected with the insult "mongol", which Portuguese and Spanish share: in a hand
# check of 100 short mlma-fr posts, 14 of the 34 with "mongol" were Portuguese or Spanish and 4 too
# short to tell, against 3 of the other 66 not clearly French. Those posts reward a detector for
# answering "fr" to Portuguese, so they are left out (counted in the report).
MISLABELLED = {"mlma-fr": "mongol"}
# The "cut" bucket: posts of these sources (natural casing and accents, reliable labels) cut to
# their first 40 characters, because natural short French here is almost all from mlma-fr
# (lowercased, accents stripped).
CUT_SOURCES = ("umsab-fr-test", "tweeteval-test", "complaints")

Detector = Callable[[list[str]], list[str | None]]


@dataclass
class Post:
    text: str
    lang: str
    source: str


def read_source(data: Path, lang: str, name: str, rel: str) -> tuple[list[Post], int]:
    """Distinct non-blank texts of one CSV file, labelled with the data set's language; and how
    many were left out as likely mislabelled."""
    with (data / rel).open(encoding="utf-8", newline="") as handle:
        texts = [row["text"].strip() for row in csv.DictReader(handle)]
    posts = [Post(text, lang, name) for text in dict.fromkeys(texts) if text]
    marker = MISLABELLED.get(name)
    if marker is None:
        return posts, 0
    kept = [post for post in posts if marker not in post.text.lower()]
    return kept, len(posts) - len(kept)


def cut(text: str, limit: int = SHORT_CHARS) -> str:
    """The first words of `text` that fit in `limit` characters."""
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    return head[: head.rfind(" ")].rstrip() if " " in head else text[:limit]


def round_robin(pools: list[list[Post]], limit: int) -> list[Post]:
    """Take posts in turn from each (already shuffled) pool, so sources weigh alike."""
    taken: list[Post] = []
    cursors = [0] * len(pools)
    while len(taken) < limit and any(c < len(p) for c, p in zip(cursors, pools, strict=True)):
        for i, pool in enumerate(pools):
            if cursors[i] < len(pool) and len(taken) < limit:
                taken.append(pool[cursors[i]])
                cursors[i] += 1
    return taken


def build_sets(data: Path, per_language: int, short: int, seed: int) -> dict[str, list[Post]]:
    """Main set (all lengths), short bucket (<= 40 characters) and cut bucket, per language."""
    rng = random.Random(seed)
    sets: dict[str, list[Post]] = {"main": [], "short": [], "cut": []}
    for lang, sources in SOURCES.items():
        pools = []
        for name, rel in sources:
            posts, _ = read_source(data, lang, name, rel)
            rng.shuffle(posts)
            pools.append(posts)
        main = round_robin(pools, per_language)
        sets["main"] += main
        short_pools = [[p for p in pool if len(p.text) <= SHORT_CHARS] for pool in pools]
        sets["short"] += round_robin(short_pools, short)
        longer = [p for p in main if p.source in CUT_SOURCES and len(p.text) > SHORT_CHARS]
        sets["cut"] += [Post(cut(p.text), p.lang, p.source) for p in longer[:short]]
    return sets


def left_out(data: Path) -> dict[str, int]:
    return {
        name: read_source(data, lang, name, rel)[1]
        for lang, sources in SOURCES.items()
        for name, rel in sources
        if name in MISLABELLED
    }


# --- detectors -------------------------------------------------------------------------------


def py3langid_detector(langs: Sequence[str] | None) -> Detector:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    if langs:
        identifier.set_languages(list(langs))
    classify = identifier.classify

    def detect(texts: list[str]) -> list[str | None]:
        return [classify(text)[0] for text in texts]

    return detect


def lingua_detector(langs: Sequence[str], high_accuracy: bool) -> Detector:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in langs]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    if not high_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()
    detect_one = detector.detect_language_of

    def detect(texts: list[str]) -> list[str | None]:
        out: list[str | None] = []
        for text in texts:
            found = detect_one(text)
            out.append(found.iso_code_639_1.name.lower() if found is not None else None)
        return out

    return detect


def with_cleaning(detect: Detector) -> Detector:
    """Clean first; text left with no letter is not judged (None), as the shipped detector does."""
    clean = language.clean_for_language

    def detect_clean(texts: list[str]) -> list[str | None]:
        cleaned = [clean(text) for text in texts]
        judged = [i for i, text in enumerate(cleaned) if any(c.isalpha() for c in text)]
        found = detect([cleaned[i] for i in judged])
        out: list[str | None] = [None] * len(texts)
        for i, lang in zip(judged, found, strict=True):
            out[i] = lang
        return out

    return detect_clean


def shipped_batch(texts: list[str]) -> list[str | None]:
    return [lang for lang, _ in language.detect_languages(texts)]


def shipped_single(texts: list[str]) -> list[str | None]:
    return [language.detect_language(text)[0] for text in texts]


# An option measured, not shipped: where the shipped detector is unsure (probability below this,
# or no n-gram it knows), lingua's high-accuracy mode decides.
FALLBACK_BELOW = 0.5


def unsure(text: str, lang: str | None, confidence: float) -> bool:
    if lang is None:
        return bool(language._LETTER.search(language.clean_for_language(text)))
    return confidence < FALLBACK_BELOW


def shipped_with_lingua_fallback() -> Detector:
    lingua = lingua_detector(PLAUSIBLE, True)

    def detect(texts: list[str]) -> list[str | None]:
        found = language.detect_languages(texts)
        out = [lang for lang, _ in found]
        doubtful = [i for i, (lang, conf) in enumerate(found) if unsure(texts[i], lang, conf)]
        second = lingua([language.clean_for_language(texts[i]) for i in doubtful])
        for i, lang in zip(doubtful, second, strict=True):
            if lang is not None:
                out[i] = lang
        return out

    return detect


def fallback_share(posts: list[Post]) -> float:
    """Share of the judgeable posts that the fallback option hands to lingua."""
    texts = [p.text for p in posts]
    found = language.detect_languages(texts)
    judgeable = [
        unsure(text, lang, conf)
        for text, (lang, conf) in zip(texts, found, strict=True)
        if lang is not None or language._LETTER.search(language.clean_for_language(text))
    ]
    return round(sum(judgeable) / len(judgeable), 4) if judgeable else 0.0


SHIPPED = "**shipped**: py3langid, 7 languages, word boundaries"
OPTION = "option: shipped + lingua high below 0.5, batch"


def candidates() -> list[tuple[str, str, Callable[[], Detector]]]:
    """(detector, text given to it, factory)."""
    bases: list[tuple[str, Callable[[], Detector]]] = [
        ("py3langid, all languages", lambda: py3langid_detector(None)),
        ("py3langid, 7 languages", lambda: py3langid_detector(PLAUSIBLE)),
        ("lingua low accuracy, 7 languages", lambda: lingua_detector(PLAUSIBLE, False)),
        ("lingua high accuracy, 7 languages", lambda: lingua_detector(PLAUSIBLE, True)),
    ]
    rows: list[tuple[str, str, Callable[[], Detector]]] = []
    for name, factory in bases:
        rows.append((name, "raw", factory))
        rows.append((name, "cleaned", lambda f=factory: with_cleaning(f())))
    rows.append((SHIPPED + ", batch", "cleaned", lambda: shipped_batch))
    rows.append((SHIPPED + ", one by one", "cleaned", lambda: shipped_single))
    rows.append((OPTION, "cleaned", shipped_with_lingua_fallback))
    return rows


# --- measuring -------------------------------------------------------------------------------


def accuracy(posts: list[Post], found: list[str | None], lang: str | None = None) -> float:
    pairs = [(p, f) for p, f in zip(posts, found, strict=True) if lang is None or p.lang == lang]
    return round(sum(p.lang == f for p, f in pairs) / len(pairs), 4) if pairs else float("nan")


def timed(detect: Detector, texts: list[str], repeats: int) -> tuple[list[str | None], float]:
    """Predictions and the best CPU seconds per pass over `texts` (CPU time, not wall time: the
    machine may be shared, and the process is pinned to one core)."""
    best = float("inf")
    found: list[str | None] = []
    for _ in range(repeats):
        start = time.process_time()
        found = detect(texts)
        best = min(best, time.process_time() - start)
    return found, best


def evaluate(sets: dict[str, list[Post]], repeats: int) -> list[dict[str, object]]:
    main, short, cut_posts = sets["main"], sets["short"], sets["cut"]
    results = []
    for name, cleaning, factory in candidates():
        detect = factory()
        detect([p.text for p in main[:10]])  # warm up: the first call may load the model
        found, seconds = timed(detect, [p.text for p in main], repeats)
        found_short, seconds_short = timed(detect, [p.text for p in short], repeats)
        found_cut = detect([p.text for p in cut_posts])
        per_source = {
            source: accuracy(
                [p for p in main if p.source == source],
                [f for p, f in zip(main, found, strict=True) if p.source == source],
            )
            for source in sorted({p.source for p in main})
        }
        row = {
            "detector": name,
            "cleaning": cleaning,
            "accuracy_fr": accuracy(main, found, "fr"),
            "accuracy_en": accuracy(main, found, "en"),
            "accuracy_all": accuracy(main, found),
            "accuracy_short": accuracy(short, found_short),
            "accuracy_short_fr": accuracy(short, found_short, "fr"),
            "accuracy_short_en": accuracy(short, found_short, "en"),
            "accuracy_cut": accuracy(cut_posts, found_cut),
            "accuracy_cut_fr": accuracy(cut_posts, found_cut, "fr"),
            "accuracy_cut_en": accuracy(cut_posts, found_cut, "en"),
            "accuracy_by_source": per_source,
            "not_judged": {
                "main": sum(f is None for f in found),
                "short": sum(f is None for f in found_short),
                "cut": sum(f is None for f in found_cut),
            },
            "posts_per_s": round(len(main) / seconds),
            "us_per_post": round(seconds / len(main) * 1e6, 1),
            "us_per_short_post": round(seconds_short / len(short) * 1e6, 1),
        }
        results.append(row)
        print(
            f"{name:48} {cleaning:8} fr {row['accuracy_fr']:.3f} en {row['accuracy_en']:.3f} "
            f"short {row['accuracy_short']:.3f} cut {row['accuracy_cut']:.3f} "
            f"{row['posts_per_s']:>8} posts/s",
            flush=True,
        )
    return results


def describe_sets(sets: dict[str, list[Post]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, posts in sets.items():
        counts: dict[str, int] = {}
        for post in posts:
            counts[f"{post.lang}/{post.source}"] = counts.get(f"{post.lang}/{post.source}", 0) + 1
        out[key] = {
            "posts": len(posts),
            "by_language_and_source": dict(sorted(counts.items())),
            "median_chars": statistics.median(len(p.text) for p in posts),
        }
    return out


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    sets = report["eval_set"]
    machine, params = report["machine"], report["parameters"]
    packages = params["packages"]
    lines = [
        "# Language identification: short French/English posts",
        "",
        f"Produced by `python -m bench.langid` on {report['date']} ({machine['cpu']}, "
        f"Python {machine['python']}, pinned to core "
        f"{', '.join(map(str, params['pinned_to_cores']))}; py3langid "
        f"{packages['py3langid']}, lingua {packages['lingua-language-detector']}). "
        "Label = the data set's language.",
        "",
        f"- **fr / en**: main set, {sets['main']['posts']} posts (up to {params['per_language']} "
        f"per language from the test splits, median {sets['main']['median_chars']} chars).",
        f"- **short**: {sets['short']['posts']} posts of <= {SHORT_CHARS} chars "
        f"(median {sets['short']['median_chars']}); the French ones are almost all from mlma-fr "
        "(lowercased, accents stripped).",
        f"- **cut**: {sets['cut']['posts']} posts of umsab-fr, tweeteval and complaints cut to "
        f"their first {SHORT_CHARS} characters (whole words).",
        f'- Left out as likely mislabelled: {report["left_out"]} (posts with "mongol", '
        "largely Portuguese; see MISLABELLED in the script).",
        f"- 7 languages = {', '.join(PLAUSIBLE)}. Cleaned = `clean_for_language` (URLs, "
        "@mentions, '#', emoji, RT); a cleaned post with no letter left is not judged and counts "
        "as an error here.",
        "- Speed: CPU time on one core (the machine was shared, so not wall time), model loaded, "
        "best of the timed passes; µs/post on the main set and on the short bucket.",
        "",
        "| detector | text | fr | en | short (fr / en) | cut (fr / en) | posts/s | µs/post "
        "(all / short) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["results"]:
        lines.append(
            f"| {row['detector']} | {row['cleaning']} | {row['accuracy_fr']:.3f} | "
            f"{row['accuracy_en']:.3f} | {row['accuracy_short']:.3f} "
            f"({row['accuracy_short_fr']:.3f} / {row['accuracy_short_en']:.3f}) | "
            f"{row['accuracy_cut']:.3f} ({row['accuracy_cut_fr']:.3f} / "
            f"{row['accuracy_cut_en']:.3f}) | {row['posts_per_s']:,} | "
            f"{row['us_per_post']} / {row['us_per_short_post']} |"
        )
    rows = {(row["detector"], row["cleaning"]): row for row in report["results"]}
    shipped = rows[(SHIPPED + ", batch", "cleaned")]
    stock = rows[("py3langid, 7 languages", "cleaned")]
    lingua = rows[("lingua high accuracy, 7 languages", "cleaned")]
    option = rows[(OPTION, "cleaned")]
    lines += [
        "",
        f"Shipped: `{language.ENRICHER_VERSION}` (`clameur.nlp.language`): the same model as "
        "py3langid, scored over whole batches with numpy, on cleaned text with a space before and "
        "after it, so that the first and last words get the word-boundary n-grams every other "
        f"word has (short posts: {stock['accuracy_short']:.3f} without, "
        f"{shipped['accuracy_short']:.3f} with). lingua high alone: "
        f"{lingua['accuracy_short']:.3f} at {lingua['us_per_post']} µs per post. The lingua "
        f"fallback option gives {option['accuracy_short']:.3f} on short posts and "
        f"{option['accuracy_cut']:.3f} on cut ones (shipped: {shipped['accuracy_cut']:.3f}), "
        f"handing lingua this share of the posts: {report['fallback_share']}; not worth a "
        "second detector of 100 MB on disk and about 240 MB in memory.",
        "",
        "Accuracy per source and the posts left unjudged are in `langid.json`.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    parser.add_argument("--per-language", type=int, default=2000)
    parser.add_argument("--short", type=int, default=500, help="short posts per language")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes; the best counts")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    cores = pin_to_one_core()
    sets = build_sets(args.data, args.per_language, args.short, args.seed)
    parameters = {
        "data": os.path.relpath(args.data, ROOT),
        "per_language": args.per_language,
        "short_posts_per_language": args.short,
        "short_chars": SHORT_CHARS,
        "repeats": args.repeats,
        "seed": args.seed,
        "restricted_languages": list(PLAUSIBLE),
        "shipped": language.ENRICHER_VERSION,
        "packages": {
            name: metadata.version(name) for name in ("py3langid", "lingua-language-detector")
        },
        "pinned_to_cores": cores,
    }
    figures = {
        "left_out": left_out(args.data),
        "eval_set": describe_sets(sets),
        "results": evaluate(sets, args.repeats),
        "fallback_share": {key: fallback_share(posts) for key, posts in sets.items()},
    }
    report = envelope("langid", parameters, figures)
    write_json(args.out / "langid.json", report)
    write_markdown(args.out / "langid.md", report)
    print(f"wrote {shown(args.out / 'langid.json')} and {shown(args.out / 'langid.md')}")


if __name__ == "__main__":
    main()
