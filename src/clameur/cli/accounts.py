"""`clameur accounts`: the network accounts, their health, polling and backfills."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clameur.accounts import service
from clameur.cli.common import console, friendly_errors, open_store, settings
from clameur.models import Workspace
from clameur.store.engine import unit_of_work

app = typer.Typer(help="Network accounts: health, polling, backfills.", no_args_is_help=True)


def _day(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("list")
def list_command() -> None:
    """Every account of every workspace with its state."""
    with friendly_errors():
        _engine, factory = open_store(settings())
        table = Table(
            "id", "workspace", "network", "account", "state", "last success", "last error"
        )
        with unit_of_work(factory) as session:
            for workspace in session.query(Workspace).order_by(Workspace.id):
                for health in service.health(session, workspace.id):
                    account = health.account
                    table.add_row(
                        str(account.id),
                        workspace.slug,
                        health.title,
                        account.handle,
                        account.status if account.config_encrypted else "no credentials",
                        f"{account.last_success_at:%Y-%m-%d %H:%M}"
                        if account.last_success_at
                        else "-",
                        (account.last_error or "")[:60],
                    )
        console.print(table)


@app.command("poll")
def poll_command() -> None:
    """Poll now every account whose turn has come (the runner does it on its own)."""
    with friendly_errors():
        config = settings()
        _engine, factory = open_store(config)
        results = service.poll_due(factory, service.secret_box(config))
        for result in results:
            line = (
                f"account {result.account_id}: {result.posts} new posts "
                f"from {result.sources} sources"
            )
            if result.errors:
                line += " — " + "; ".join(result.errors)
            console.print(line)
        if not results:
            console.print("No account is due (or none has credentials).")


@app.command("backfill")
def backfill_command(
    account_id: Annotated[
        int, typer.Argument(help="The account's id (see `clameur accounts list`).")
    ],
    since: Annotated[str, typer.Option(help="Oldest day to read, YYYY-MM-DD.")],
    until: Annotated[str | None, typer.Option(help="Day after the last one to read.")] = None,
) -> None:
    """Read an account's past posts between two dates, as far back as its network allows."""
    with friendly_errors():
        config = settings()
        _engine, factory = open_store(config)
        start, end = _day(since), _day(until) if until else None
        total = ((end or datetime.now(UTC)) - start).total_seconds() or 1.0
        with Progress(
            TextColumn("[bold]backfill"),
            BarColumn(),
            TextColumn("{task.fields[posts]} posts · back to {task.fields[oldest]}"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("backfill", total=total, posts=0, oldest="-")

            def show(progress: service.BackfillProgress) -> None:
                reached = progress.oldest or end or datetime.now(UTC)
                done = ((end or datetime.now(UTC)) - max(reached, start)).total_seconds()
                oldest = f"{progress.oldest:%Y-%m-%d %H:%M}" if progress.oldest else "-"
                bar.update(task, completed=done, posts=progress.posts, oldest=oldest)

            result = service.backfill_account(
                factory, service.secret_box(config), account_id, start, end, on_page=show
            )
        console.print(
            f"{result.posts} posts queued from {result.pages} pages"
            + (f" ({result.stopped})" if result.stopped else "")
            + "; the pipeline stores them once each."
        )
