"""`clameur import`: load posts from a file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from clameur.cli.common import console, err_console, friendly_errors, open_store, settings
from clameur.pipeline.ingest import ImportSummary, count_lines, import_file
from clameur.pipeline.readers import FORMATS, guess_format
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import resolve_workspace


def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The file to import."),
    format: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help=f"One of {', '.join(FORMATS)}; guessed from the name if omitted.",
    ),
    workspace: str | None = typer.Option(None, "--workspace", "-w", help="Workspace slug."),
    rejects: Path | None = typer.Option(
        None, help="Where to write rejected lines (default: FILE.rejects.jsonl beside the file)."
    ),
    batch_size: int = typer.Option(1000, min=1, max=20000, help="Posts per committed batch."),
    analysis: str = typer.Option(
        "full",
        help="full: every analysis stage now. language: language only now, for fast bulk "
        "loads of archives; run `clameur reanalyze` afterwards to add sentiment, intents, "
        "hostility, near-duplicates and influence.",
    ),
) -> None:
    """Import posts from a JSONL, CSV or twcs file; a re-run never duplicates a post."""
    with friendly_errors():
        try:
            fmt = format or guess_format(file)
        except ValueError as error:
            err_console.print(f"[bold red]Error:[/] {error}")
            raise typer.Exit(2) from None
        if fmt not in FORMATS:
            err_console.print(
                f"[bold red]Error:[/] unknown format {fmt!r}: use {', '.join(FORMATS)}"
            )
            raise typer.Exit(2)
        config = settings()
        _engine, factory = open_store(config)
        with unit_of_work(factory) as session:
            target = resolve_workspace(session, workspace, create_default=True)
            workspace_id, workspace_name = target.id, target.name
        rejects_path = rejects or file.with_name(file.name + ".rejects.jsonl")
        total = count_lines(file)
        columns = (
            TextColumn("[bold]Importing[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("lines"),
            TextColumn("{task.fields[summary]}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(file.name, total=max(total, 1), summary="")

            def advance(line: int, summary: ImportSummary) -> None:
                progress.update(
                    task,
                    completed=min(line, total),
                    summary=f"{summary.imported} new, {summary.present} present, "
                    f"{summary.rejected} rejected",
                )

            try:
                summary = import_file(
                    factory,
                    workspace_id,
                    file,
                    fmt,
                    rejects_path,
                    batch_size,
                    advance,
                    analysis=analysis,
                )
            except ValueError as error:
                err_console.print(f"[bold red]Error:[/] {error}")
                raise typer.Exit(2) from None
            progress.update(task, completed=max(total, 1))
        console.print(
            f"Workspace [bold]{workspace_name}[/]: [green]{summary.imported} imported[/], "
            f"{summary.present} already present, "
            f"[{'red' if summary.rejected else 'green'}]{summary.rejected} rejected[/] "
            f"({summary.matches} saved-query matches)."
        )
        if analysis != "full" and summary.imported:
            console.print(
                "Analysis deferred: run [bold]clameur reanalyze[/] to add sentiment, intents, "
                "hostility, near-duplicates and influence."
            )
        if summary.rejects_path:
            for reason in summary.reject_reasons:
                console.print(f"  [red]rejected[/] {reason}")
            console.print(f"Rejected lines and reasons: {summary.rejects_path}")
