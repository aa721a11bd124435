"""`clameur user`: people who can log in."""

from __future__ import annotations

import typer
from rich.table import Table

from clameur.cli.common import console, friendly_errors, open_store, settings
from clameur.models import Role, User
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import add_user

app = typer.Typer(help="Users: add them, list them.", no_args_is_help=True)


@app.command("add")
def add(
    email: str = typer.Argument(..., help="Login e-mail."),
    name: str = typer.Option("", help="Display name."),
    role: Role = typer.Option(Role.agent, help="admin, manager, agent or viewer."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters."
    ),
) -> None:
    """Create a user who can log in."""
    with friendly_errors():
        _engine, factory = open_store(settings())
        with unit_of_work(factory) as session:
            user = add_user(session, email, name, password, role)
            console.print(f"User {user.email} ({user.role.value}) created.")


@app.command("list")
def list_users() -> None:
    """List the users."""
    with friendly_errors():
        _engine, factory = open_store(settings())
        with unit_of_work(factory) as session:
            table = Table("e-mail", "name", "role", "active")
            for user in session.query(User).order_by(User.email):
                table.add_row(
                    user.email, user.name, user.role.value, "yes" if user.active else "no"
                )
            console.print(table)
