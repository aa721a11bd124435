"""`clameur db`: the database schema."""

from __future__ import annotations

import typer

from clameur.cli.common import console, open_engine, settings
from clameur.store import migrate

app = typer.Typer(
    help="The database schema: upgrade it, see where it stands.", no_args_is_help=True
)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the migrations up to the latest (or the given) revision."""
    config = settings()
    engine = open_engine(config, check=False)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"Database {url} is already at revision {after}.")
    else:
        console.print(f"Database {url} upgraded from {before or 'empty'} to {after}.")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'.")) -> None:
    """Take the schema back to an earlier revision (data in dropped tables is lost)."""
    engine = open_engine(settings(), check=False)
    migrate.downgrade(engine, revision)
    console.print(f"Database now at revision {migrate.current_revision(engine) or 'base'}.")


@app.command()
def current() -> None:
    """Show the database's revision and the latest one."""
    engine = open_engine(settings(), check=False)
    now = migrate.current_revision(engine)
    head = migrate.head_revision()
    state = "up to date" if now == head else "needs `clameur db upgrade`"
    console.print(f"Database revision: {now or 'empty'}; latest: {head} ({state}).")
