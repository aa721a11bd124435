"""`clameur analyze`: the analysis of a file of posts, as JSON lines, without a database."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from clameur.kit.text import normalise
from clameur.nlp.analysis import Analyzer, PostText
from clameur.pipeline.ingest import count_lines, validate_record
from clameur.pipeline.readers import read_jsonl
from clameur.pipeline.schemas import PostIn

BATCH = 1000


def _batches(path: Path, errors: Console) -> Iterator[list[PostIn]]:
    batch: list[PostIn] = []
    for record in read_jsonl(path):
        outcome: PostIn | str = (
            record.error if record.data is None else validate_record(record.data)  # type: ignore[assignment]
        )
        if isinstance(outcome, str):
            errors.print(f"line {record.line}: skipped: {outcome}", markup=False, highlight=False)
            continue
        batch.append(outcome)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _result(post: PostIn, analysis: Any) -> dict[str, Any]:
    original = analysis.duplicate_of.split(":", 1)[1] if analysis.duplicate_of else None
    return {
        "id": post.id,
        "lang": analysis.lang,
        "sentiment": {"label": analysis.sentiment, "score": analysis.sentiment_score},
        "intents": analysis.intents,
        "hostile": analysis.hostile,
        "duplicate_of": original,
        "influence": analysis.influence,
    }


def analyze_command(
    input: Path = typer.Option(
        ..., "--input", "-i", exists=True, dir_okay=False, help="JSONL posts."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="JSONL results (default: stdout)."
    ),
) -> None:
    """Analyse posts in the import schema: language, sentiment, intents, hostility,
    near-duplicates, influence. Streams: memory stays flat on any file size."""
    errors = Console(stderr=True, soft_wrap=True)
    analyzer = Analyzer()
    sink: IO[str] = output.open("w", encoding="utf-8") if output else sys.stdout
    total = count_lines(input)
    progress = Progress(
        TextColumn("[bold]Analysing[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("posts"),
        TimeRemainingColumn(),
        console=errors,
        disable=not errors.is_terminal,
        transient=True,
    )
    done = 0
    try:
        with progress:
            task = progress.add_task("analyse", total=max(total, 1))
            for batch in _batches(input, errors):
                texts = [
                    PostText(
                        key=f"{post.network}:{post.id}",
                        text=normalise(post.text),
                        lang=post.lang,
                        followers=post.author.followers if post.author else 0,
                        verified=post.author.verified if post.author else False,
                        metrics=post.metrics,
                        sentiment=post.sentiment,
                        intents=post.intents or None,
                    )
                    for post in batch
                ]
                for post, analysis in zip(batch, analyzer.analyze(texts), strict=True):
                    sink.write(json.dumps(_result(post, analysis), ensure_ascii=False) + "\n")
                done += len(batch)
                progress.update(task, completed=min(done, total))
    finally:
        if output:
            sink.close()
    if output:
        errors.print(f"{done} posts analysed into {output}.")
