from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from builders import add_posts, make_record, make_workspace
from clameur.listening.service import create_query
from clameur.models import Match, Post
from clameur.store import bulk
from clameur.store.base import UTCDateTime


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 7, 5, 22, 0, 14, tzinfo=UTC),
        datetime(2026, 7, 5, 22, 0, 14, 123456, tzinfo=UTC),
        datetime(2026, 7, 6, 0, 30, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
        datetime(2026, 7, 5, 22, 0, 14),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
    ],
)
def test_bulk_times_are_the_text_the_orm_writes_on_sqlite(value: datetime) -> None:
    dialect = sqlite.dialect()
    orm = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert orm is not None
    assert UTCDateTime.sqlite_text(value) == orm(value)


def test_bulk_times_refuse_what_is_not_a_time() -> None:
    with pytest.raises(TypeError):
        UTCDateTime.sqlite_text("2026-07-05 22:00:14")  # type: ignore[arg-type]


def test_matches_written_twice_are_stored_once(session: Session) -> None:
    workspace = make_workspace(session)
    query = create_query(session, workspace.id, "festival", "festival")
    add_posts(session, workspace.id, [make_record() for _ in range(3)])
    posts = session.execute(select(Post.id, Post.created_at).order_by(Post.id)).all()
    rows = [(query.id, created_at, post_id) for post_id, created_at in posts]
    table = Match.__table__
    columns = ("query_id", "created_at", "post_id")
    assert bulk.insert_rows(session, table, columns, rows[:2], conflict=columns) == []  # type: ignore[arg-type]
    bulk.insert_rows(session, table, columns, rows, conflict=columns)  # type: ignore[arg-type]
    stored = session.execute(
        select(Match.post_id, Match.created_at).where(Match.query_id == query.id)
    ).all()
    assert sorted(stored) == sorted((post_id, created_at) for post_id, created_at in posts)


def test_a_statement_over_more_values_than_the_driver_takes_runs_in_chunks(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = make_workspace(session)
    add_posts(session, workspace.id, [make_record() for _ in range(7)])
    ids = list(session.scalars(select(Post.id)))
    monkeypatch.setitem(bulk.MAX_PARAMETERS, session.get_bind().dialect.name, 3)
    bulk.execute_in(
        session,
        "UPDATE posts SET lang = {param} WHERE id IN ({values})",
        ids,
        before=("xx",),
    )
    assert session.scalar(select(func.count()).where(Post.lang == "xx")) == 7
