"""`clameur models` and `clameur reanalyze`: train, evaluate and apply the analysis models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from clameur.cli.common import console, friendly_errors, open_store, settings
from clameur.listening.corrections import training_corrections
from clameur.nlp import hostility, intent, sentiment
from clameur.pipeline.reanalyze import ReanalyzeProgress, reanalyze
from clameur.radar.series import rebuild as rebuild_series
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import resolve_workspace

app = typer.Typer(help="The analysis models: train them, evaluate them.", no_args_is_help=True)
MODELS = Path(sentiment.__file__).parent / "models"


def default_data() -> Path:
    """The public data sets beside a checkout (../shared/data), or ./data/shared."""
    here = Path.cwd()
    for candidate in (here.parent / "shared" / "data", here / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return here.parent / "shared" / "data"


@app.command("train")
def train(
    data: Path = typer.Option(
        None, help="Folder of the public data sets (default ../shared/data)."
    ),
    out: Path = typer.Option(MODELS, help="Where to write the model files."),
    with_corrections: bool = typer.Option(
        False, "--with-corrections", help="Add the corrections people made in Clameur."
    ),
) -> None:
    """Train the shipped sentiment, intent and hostility models, deterministically."""
    with friendly_errors():
        folder = data or default_data()
        if not folder.is_dir():
            raise typer.BadParameter(f"no data folder at {folder}", param_hint="--data")
        corrections: dict[str, list[Any]] = {"sentiment": [], "intents": [], "hostile": []}
        if with_corrections:
            _engine, factory = open_store(settings())
            with unit_of_work(factory) as session:
                corrections = training_corrections(session)
            console.print(
                "Corrections used: "
                + ", ".join(f"{len(rows)} {name}" for name, rows in corrections.items())
            )
        out.mkdir(parents=True, exist_ok=True)
        for name, function, extra in (
            ("sentiment", sentiment.train_sentiment, corrections["sentiment"]),
            ("intents", intent.train_intents, corrections["intents"]),
            ("hostility", hostility.train_hostility, corrections["hostile"]),
        ):
            with console.status(f"Training {name}..."):
                metrics = function(folder, out, extra or None)
            console.print(f"[green]{name}[/] trained: {json.dumps(metrics, default=str)[:300]}")


@app.command("evaluate")
def evaluate(
    data: Path = typer.Option(
        None, help="Folder of the public data sets (default ../shared/data)."
    ),
    results: Path = typer.Option(Path("bench/results"), help="Where to write models.json."),
) -> None:
    """Score the shipped models on the public test splits; write bench/results/models.json."""
    folder = data or default_data()
    scores: dict[str, Any] = {}
    for name, function in (
        ("sentiment", sentiment.evaluate_sentiment),
        ("intent", intent.evaluate_intents),
        ("hostility", hostility.evaluate_hostility),
    ):
        with console.status(f"Evaluating {name}..."):
            scores[name] = function(folder)
    results.mkdir(parents=True, exist_ok=True)
    (results / "models.json").write_text(json.dumps(scores, indent=2, default=str) + "\n")
    table = Table("model", "figures")
    for name, figures in scores.items():
        table.add_row(name, json.dumps(figures, default=str)[:400])
    console.print(table)
    console.print(f"Written to {results / 'models.json'}")


def reanalyze_command(
    workspace: str | None = typer.Option(None, "--workspace", "-w", help="Workspace slug."),
    chunk: int = typer.Option(1000, min=10, help="Posts per committed chunk."),
) -> None:
    """Re-run the analysis where a newer model version exists; resumable."""
    with friendly_errors():
        _engine, factory = open_store(settings())
        with unit_of_work(factory) as session:
            target = resolve_workspace(session, workspace)
            workspace_id, name = target.id, target.name
        columns = (TextColumn(f"[bold]Re-analysing[/] {name}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("reanalyze", total=None)

            def advance(state: ReanalyzeProgress) -> None:
                progress.update(task, completed=state.scanned, total=state.total)

            done = reanalyze(factory, workspace_id, chunk, advance)
        console.print(
            f"{done.updated} of {done.scanned} posts re-analysed; the others were current."
        )
        if done.updated:
            # Negative volumes changed: the radar counts the workspace's posts again (its
            # runner pass does it in the background, from the first post).
            with unit_of_work(factory) as session:
                rebuild_series(session, workspace_id)
            console.print("The radar's series will be counted again from the new analysis.")
