"""What every command needs: settings, a checked database, errors printed without tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clameur.kit.errors import ClameurError
from clameur.settings import Settings, get_settings
from clameur.store import migrate
from clameur.store.engine import make_engine, make_session_factory

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    """The settings of this run."""
    return get_settings()


def open_engine(config: Settings, check: bool = True) -> Engine:
    """An engine on the configured database, refused if the schema is not current."""
    engine = make_engine(config.database_url, echo=config.database.echo)
    if check:
        migrate.ensure_current(engine)
    return engine


def open_store(config: Settings, check: bool = True) -> tuple[Engine, sessionmaker[Session]]:
    """An engine and its session factory."""
    engine = open_engine(config, check)
    return engine, make_session_factory(engine)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Print domain errors in one line and exit non-zero, instead of a traceback."""
    try:
        yield
    except ClameurError as error:
        err_console.print(f"[bold red]Error:[/] {error.message}")
        raise typer.Exit(1) from None
