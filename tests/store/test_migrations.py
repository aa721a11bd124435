from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, Table, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from builders import make_workspace
from clameur.kit.errors import SchemaOutOfDate
from clameur.kit.time import utcnow
from clameur.models import NetworkAccount, Publication
from clameur.store import migrate
from clameur.store.engine import make_engine, unit_of_work


def test_migration_history_is_linear() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    for revision in revisions:
        assert not revision.is_merge_point
        assert not revision.is_branch_point
    assert revisions[-1].down_revision is None


def test_an_empty_database_is_refused_with_the_command_to_run(sqlite_file: str) -> None:
    engine = make_engine(sqlite_file)
    with pytest.raises(SchemaOutOfDate, match="clameur db upgrade"):
        migrate.ensure_current(engine)


def test_upgrade_brings_the_database_to_the_latest_revision(sqlite_file: str) -> None:
    engine = make_engine(sqlite_file)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    migrate.ensure_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"posts", "authors", "saved_queries", "matches", "workspaces", "users"} <= tables
    assert "posts_fts" in tables


def test_downgrade_to_base_removes_every_table(sqlite_file: str) -> None:
    engine = make_engine(sqlite_file)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def test_sqlite_database_runs_in_wal_mode(sqlite_file: str) -> None:
    engine = make_engine(sqlite_file)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_migrations_create_every_table_and_column_of_the_models(sqlite_file: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from clameur.store.base import Base

    engine = make_engine(sqlite_file)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    missing = [
        diff
        for diff in differences
        if isinstance(diff, tuple)
        and diff[0] in ("add_table", "add_column", "add_index", "remove_column")
    ]
    assert missing == []


def test_publication_descriptions_migrate_down_and_up_and_old_rows_read_as_none(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        workspace = make_workspace(session)
        account = NetworkAccount(workspace_id=workspace.id, network="mastodon", handle="acme")
        session.add(account)
        session.flush()
        ids = {"workspace_id": workspace.id, "account_id": account.id}
    migrate.downgrade(engine, "0008")
    try:
        assert "media_alts" not in {c["name"] for c in inspect(engine).get_columns("publications")}
        with engine.begin() as connection:
            # A publication written before 0009, through the table as it was then.
            publications = Table("publications", MetaData(), autoload_with=connection)
            connection.execute(
                publications.insert().values(
                    **ids,
                    network="mastodon",
                    batch_key="b" * 36,
                    body="Written before descriptions existed.",
                    media_urls=["https://cdn.example.org/a.jpg"],
                    promotional=False,
                    status="sent",
                    scheduled_at=utcnow(),
                    idempotency_key="old-key",
                    attempts=1,
                    created_at=utcnow(),
                )
            )
    finally:
        migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision() == "0009"
    with factory() as session:
        [old] = session.scalars(select(Publication)).all()
        assert old.media_urls == ["https://cdn.example.org/a.jpg"] and old.media_alts == []
