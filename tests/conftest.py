"""Test databases: every database test runs on SQLite and, when CLAMEUR_TEST_DATABASE_URL points
to a PostgreSQL server, on a throw-away PostgreSQL database too. Schemas are built by running the
migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import clameur.models  # noqa: F401  (registers every table)
from clameur.store import migrate
from clameur.store.base import Base
from clameur.store.engine import make_engine, make_session_factory, normalise_url

PG_ENV = "CLAMEUR_TEST_DATABASE_URL"


def _throwaway_postgres() -> Iterator[str]:
    admin_url = make_url(normalise_url(os.environ[PG_ENV]))
    name = f"clameur_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database engine, once per backend for the whole run."""
    if request.param == "postgresql":
        if not os.environ.get(PG_ENV):
            pytest.skip(
                f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"
            )
        generator = _throwaway_postgres()
        url = next(generator)
    else:
        generator = None
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    db = make_engine(url)
    migrate.upgrade(db)
    yield db
    db.dispose()
    if generator is not None:
        next(generator, None)


def _wipe(db: Engine) -> None:
    with db.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (flushes are visible inside it)."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A real session factory, for code that commits; the tables are emptied afterwards."""
    _wipe(engine)
    yield make_session_factory(engine)
    _wipe(engine)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    """The URL of a new, empty SQLite file."""
    return f"sqlite:///{tmp_path / 'clameur.db'}"
