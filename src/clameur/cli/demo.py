"""`clameur demo`: the demo workspace."""

from __future__ import annotations

import typer
from rich.progress import Progress

from clameur.cli.common import console, friendly_errors, open_store, settings
from clameur.connectors.demo.workspace import DEMO_USERS
from clameur.workspaces.demo import load_demo

app = typer.Typer(
    help="The demo workspace: a fictional festival and its social buzz.", no_args_is_help=True
)


@app.command("load")
def load(
    history: int = typer.Option(3000, min=0, help="Posts of calm history over the last week."),
) -> None:
    """Create the demo workspace, users and saved queries, and a week of posts (once)."""
    with friendly_errors():
        config = settings()
        _engine, factory = open_store(config)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Loading demo history", total=history or 1)
            result = load_demo(
                factory,
                history=history,
                seed=config.demo.seed,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        if result.users or result.queries or result.posts:
            console.print(
                f"Demo workspace ready: {result.users} users, {result.queries} saved queries, "
                f"{result.posts} posts."
            )
        else:
            console.print("Demo workspace already loaded.")
        admin = next(u for u in DEMO_USERS if u["role"] == "admin")
        console.print(
            f"Demo login: [bold]{admin['email']}[/] / password [bold]{admin['password']}[/]"
        )
