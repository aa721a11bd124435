"""From raw records to validated posts, and the import of whole files."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from clameur.listening.service import load_query_index
from clameur.nlp.analysis import LANGUAGE_ONLY, STAGES
from clameur.pipeline.readers import read_records
from clameur.pipeline.schemas import PostIn
from clameur.pipeline.stages import new_analyzer, run_batch_isolating_failures
from clameur.store.engine import unit_of_work


def describe_validation_error(error: ValidationError) -> str:
    """A one-line reason naming each faulty field."""
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "record"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "missing":
            message = "is required"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def validate_record(data: dict[str, Any]) -> PostIn | str:
    """The post, or the reason it is rejected."""
    try:
        return PostIn.model_validate(data)
    except ValidationError as error:
        return describe_validation_error(error)


@dataclass(slots=True)
class ImportSummary:
    """What an import did."""

    imported: int = 0
    present: int = 0
    rejected: int = 0
    matches: int = 0
    lines: int = 0
    rejects_path: Path | None = None
    reject_reasons: list[str] = field(default_factory=list)


# What `clameur import --analysis` accepts: every stage now, or language now and the rest later.
ANALYSIS_MODES: dict[str, tuple[str, ...]] = {"full": STAGES, "language": LANGUAGE_ONLY}


def count_lines(path: Path) -> int:
    """Lines in a file, counted fast, for progress bars."""
    total = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            total += chunk.count(b"\n")
    return total


@contextmanager
def long_lived_objects_frozen() -> Iterator[None]:
    """Keep the cycle collector off the objects that exist now (the saved-query index, the
    analysis models), and let it run less often, until the block ends.

    An import holds a batch of posts alive while it works, so tens of thousands of objects
    reach the oldest generation per batch and trigger full collections every few batches;
    each one walked the whole heap (the models: ~1 M objects), ~50 µs a post in all. Frozen,
    they are skipped; unfrozen afterwards, they are collected as before. A batch's own
    objects die by reference counting, not by the collector: a young generation of 50,000
    objects instead of 700 spares ~10 µs a post of scans that find nothing to free."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    frozen = not gc.get_freeze_count()  # if someone else froze the heap, theirs to unfreeze
    if frozen:
        gc.freeze()
    try:
        yield
    finally:
        if frozen:
            gc.unfreeze()
        gc.set_threshold(*thresholds)


def import_file(
    factory: sessionmaker[Session],
    workspace_id: int,
    path: Path,
    fmt: str,
    rejects_path: Path,
    batch_size: int = 1000,
    on_progress: Callable[[int, ImportSummary], None] | None = None,
    keep_raw: bool = True,
    analysis: str = "full",
) -> ImportSummary:
    """Import a file batch by batch; each batch commits on its own, so an interrupted import
    keeps what it accepted and a re-run adds only what is missing.

    `analysis="language"` defers every analysis stage but language identification, for archives
    loaded in bulk: `clameur reanalyze` completes the posts later and re-matches the saved
    queries that test `sentiment:` or `intent:`."""
    if analysis not in ANALYSIS_MODES:
        raise ValueError(f"unknown analysis mode {analysis!r}: use {', '.join(ANALYSIS_MODES)}")
    summary = ImportSummary()
    with unit_of_work(factory) as session:
        index = load_query_index(session, workspace_id)
        analyzer = new_analyzer(session, workspace_id, stages=ANALYSIS_MODES[analysis])
    rejects_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_rejects = rejects_path.with_name(rejects_path.name + ".part")
    posts: list[PostIn] = []
    raws: list[dict[str, Any] | None] = []
    lines: list[int] = []
    last_line = 0

    def flush() -> None:
        if not posts:
            return
        with unit_of_work(factory) as session:
            result, failures = run_batch_isolating_failures(
                session, workspace_id, posts, index, raws if keep_raw else None, analyzer
            )
        for position, reason in failures.items():
            reject(lines[position], reason, raws[position])
        summary.imported += result.imported
        summary.present += result.present
        summary.matches += result.matches
        posts.clear()
        raws.clear()
        lines.clear()
        if on_progress:
            on_progress(last_line, summary)

    with long_lived_objects_frozen(), tmp_rejects.open("w", encoding="utf-8") as rejects:

        def reject(line: int, reason: str, data: dict[str, Any] | None) -> None:
            summary.rejected += 1
            entry = {"line": line, "reason": reason, "record": data}
            rejects.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
            if len(summary.reject_reasons) < 5:
                summary.reject_reasons.append(f"line {line}: {reason}")

        for record in read_records(path, fmt):
            last_line = record.line
            summary.lines += 1
            outcome: PostIn | str = (
                record.error if record.data is None else validate_record(record.data)  # type: ignore[assignment]
            )
            if isinstance(outcome, str):
                reject(record.line, outcome, record.data)
                continue
            posts.append(outcome)
            raws.append(record.data)
            lines.append(record.line)
            if len(posts) >= batch_size:
                flush()
        flush()
    if summary.rejected:
        tmp_rejects.replace(rejects_path)
        summary.rejects_path = rejects_path
    else:
        tmp_rejects.unlink()
        rejects_path.unlink(missing_ok=True)
    if on_progress:
        on_progress(last_line, summary)
    return summary
