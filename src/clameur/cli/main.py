"""The `clameur` command line."""

from __future__ import annotations

import typer

from clameur.cli import accounts, db, demo, models, query, radar, user
from clameur.cli.analyze import analyze_command
from clameur.cli.importer import import_command
from clameur.cli.serve import serve_command, worker_command

app = typer.Typer(
    name="clameur",
    help="Clameur: listen to the networks, understand, act, guard your e-reputation.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(db.app, name="db")
app.add_typer(user.app, name="user")
app.add_typer(query.app, name="query")
app.add_typer(demo.app, name="demo")
app.add_typer(models.app, name="models")
app.add_typer(radar.app, name="radar")
app.add_typer(accounts.app, name="accounts")
app.command("import")(import_command)
app.command("serve")(serve_command)
app.command("worker")(worker_command)
app.command("analyze")(analyze_command)
app.command("reanalyze")(models.reanalyze_command)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
