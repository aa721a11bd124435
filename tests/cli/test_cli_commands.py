from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from builders import make_record
from clameur.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder with its own SQLite database, as `make demo` would use."""
    monkeypatch.setenv("CLAMEUR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CLAMEUR_DATABASE__URL", raising=False)
    return tmp_path


def test_commands_refuse_a_database_that_is_not_migrated(env: Path) -> None:
    result = runner.invoke(app, ["user", "list"])
    assert result.exit_code == 1
    assert "clameur db upgrade" in result.output


def test_db_upgrade_is_idempotent(env: Path) -> None:
    first = runner.invoke(app, ["db", "upgrade"])
    second = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0 and "upgraded from empty" in first.output
    assert second.exit_code == 0 and "already at revision" in second.output


def test_import_prints_a_summary_and_writes_rejects(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    source = env / "posts.jsonl"
    source.write_text(
        "\n".join(json.dumps(r) for r in [make_record(), make_record(), {"id": "z"}]) + "\n"
    )
    result = runner.invoke(app, ["import", str(source)])
    assert result.exit_code == 0, result.output
    assert "2 imported" in result.output
    assert "0 already present" in result.output
    assert "1 rejected" in result.output
    rejects = (env / "posts.jsonl.rejects.jsonl").read_text().splitlines()
    assert json.loads(rejects[0])["line"] == 3
    again = runner.invoke(app, ["import", str(source), "--format", "jsonl"])
    assert "0 imported" in again.output and "2 already present" in again.output


def test_import_refuses_an_unknown_format_with_a_clear_message(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    source = env / "posts.txt"
    source.write_text("hello\n")
    result = runner.invoke(app, ["import", str(source)])
    assert result.exit_code == 2
    assert "--format" in result.output


def test_user_add_creates_a_login_with_a_role(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(
        app, ["user", "add", "Ana@Example.com", "--role", "viewer", "--password", "longenough"]
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(app, ["user", "list"])
    assert "ana@example.com" in listing.output and "viewer" in listing.output


def test_user_add_refuses_a_short_password(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["user", "add", "bo@example.com", "--password", "short"])
    assert result.exit_code == 1
    assert "at least 8" in result.output


def test_demo_load_twice_duplicates_nothing(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    first = runner.invoke(app, ["demo", "load", "--history", "200"])
    second = runner.invoke(app, ["demo", "load", "--history", "200"])
    assert first.exit_code == 0, first.output
    assert "200 posts" in first.output
    assert "already loaded" in second.output
    assert "demo@clameur.local" in second.output


def test_demo_load_fills_the_publishing_calendar_and_the_demo_worker_publishes(
    env: Path, monkeypatch: Any
) -> None:
    from sqlalchemy import select

    from clameur.models import Publication
    from clameur.settings import get_settings
    from clameur.store.engine import make_engine, make_session_factory

    runner.invoke(app, ["db", "upgrade"])
    assert runner.invoke(app, ["demo", "load", "--history", "50"]).exit_code == 0
    monkeypatch.setenv("CLAMEUR_DEMO__ENABLED", "true")
    worked = runner.invoke(app, ["worker", "--once"])
    assert worked.exit_code == 0, worked.output
    factory = make_session_factory(make_engine(get_settings().database_url))
    with factory() as session:
        publications = session.scalars(select(Publication)).all()
    statuses = sorted({(p.network, p.status) for p in publications if p.status != "scheduled"})
    assert ("mastodon", "sent") in statuses and ("bluesky", "sent") in statuses
    assert {p.status for p in publications if p.created_by_id and p.approved_by_id is None} == {
        "awaiting_approval"
    }
    assert sum(p.status == "scheduled" for p in publications) == 6


def test_worker_once_drains_the_inbound_queue(env: Path) -> None:
    from clameur.models import Post, Workspace
    from clameur.pipeline.runner import enqueue_posts
    from clameur.settings import get_settings
    from clameur.store.engine import make_engine, make_session_factory, unit_of_work

    runner.invoke(app, ["db", "upgrade"])
    factory = make_session_factory(make_engine(get_settings().database_url))
    with unit_of_work(factory) as session:
        workspace = Workspace(slug="acme", name="Acme")
        session.add(workspace)
        session.flush()
        enqueue_posts(session, workspace.id, "test", [make_record(), make_record()])
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 new posts stored" in result.output
    with unit_of_work(factory) as session:
        assert session.query(Post).count() == 2


def test_accounts_list_and_poll_say_what_there_is(env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    listed = runner.invoke(app, ["accounts", "list"])
    assert listed.exit_code == 0, listed.output
    polled = runner.invoke(app, ["accounts", "poll"])
    assert polled.exit_code == 0 and "No account is due" in polled.output
    bad = runner.invoke(app, ["accounts", "backfill", "1", "--since", "yesterday"])
    assert bad.exit_code != 0 and "not a date" in bad.output
