"""The month calendar: whole weeks from the locale's first day, posts under their day in the
workspace's time zone, the month's published posts with its plan, only the days shown read."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from builders import make_workspace
from clameur.models import NetworkAccount, Publication
from clameur.publishing import service
from clameur.radar.crisis import start_crisis

NOVEMBER = date(2026, 11, 1)  # a Sunday


def _world(session: Session) -> dict[str, Any]:
    ws = make_workspace(session)  # Europe/Paris
    accounts = {}
    for network in ("x", "mastodon"):
        accounts[network] = NetworkAccount(workspace_id=ws.id, network=network, handle="acme")
        session.add(accounts[network])
    session.flush()
    return {"ws": ws.id, "accounts": accounts}


def _publication(
    session: Session,
    world: dict[str, Any],
    when: datetime,
    status: str = "scheduled",
    networks: tuple[str, ...] = ("x",),
    **overrides: Any,
) -> list[Publication]:
    """One composition, as rows: one publication per network, due (or sent) at `when`."""
    batch = str(uuid.uuid4())
    rows = []
    for network in networks:
        fields: dict[str, Any] = {
            "workspace_id": world["ws"],
            "account_id": world["accounts"][network].id,
            "network": network,
            "batch_key": batch,
            "body": "Les billets du samedi sont en vente !",
            "status": status,
            "scheduled_at": when,
            "idempotency_key": uuid.uuid4().hex,
            "sent_at": when if status == "sent" else None,
            **overrides,
        }
        rows.append(Publication(**fields))
    session.add_all(rows)
    session.flush()
    return rows


def _november(session: Session, world: dict[str, Any]) -> service.PublishingBoard:
    weeks = service.month_weeks(NOVEMBER)
    return service.board(session, world["ws"], days=(weeks[0][0], weeks[-1][-1]))


def test_a_month_starting_on_a_sunday_shows_six_weeks_from_monday() -> None:
    weeks = service.month_weeks(NOVEMBER, first_weekday=0)

    assert len(weeks) == 6
    assert weeks[0][0] == date(2026, 10, 26) and weeks[0][-1] == date(2026, 11, 1)
    assert weeks[-1][0] == date(2026, 11, 30) and weeks[-1][-1] == date(2026, 12, 6)
    assert {day.weekday() for week in weeks for day in week[:1]} == {0}
    assert all(len(week) == 7 for week in weeks)


def test_a_week_starting_on_sunday_puts_that_month_in_five_weeks() -> None:
    weeks = service.month_weeks(NOVEMBER, first_weekday=6)

    assert len(weeks) == 5
    assert weeks[0][0] == NOVEMBER and weeks[-1][-1] == date(2026, 12, 5)


def test_the_grid_marks_the_days_of_other_months_and_today() -> None:
    grid = service.month_grid(date(2026, 11, 17), {}, today=date(2026, 11, 22))

    cells = [cell for week in grid.weeks for cell in week]
    assert grid.month == NOVEMBER
    assert [c.day for c in cells if not c.in_month] == [
        *(date(2026, 10, d) for d in range(26, 32)),
        *(date(2026, 12, d) for d in range(1, 7)),
    ]
    assert [c.day for c in cells if c.is_today] == [date(2026, 11, 22)]
    assert (grid.previous, grid.next) == (date(2026, 10, 1), date(2026, 12, 1))


def test_months_are_read_from_the_address_and_counted_across_years() -> None:
    today = date(2026, 11, 22)
    assert service.month_of("2027-02", today) == date(2027, 2, 1)
    assert service.month_of("2027-13", today) == NOVEMBER
    assert service.month_of(None, today) == NOVEMBER
    assert service.add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert service.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)


def test_a_post_late_on_the_last_evening_is_on_that_day_in_the_workspace_zone(
    session: Session,
) -> None:
    world = _world(session)
    # 23:30 in Paris on 30 November is 22:30 UTC; 00:30 on 1 December is 23:30 UTC the 30th.
    [late] = _publication(session, world, datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    [after] = _publication(session, world, datetime(2026, 11, 30, 23, 30, tzinfo=UTC))

    board = _november(session, world)

    assert [e.first.id for e in board.calendar[date(2026, 11, 30)]] == [late.id]
    assert [e.first.id for e in board.calendar[date(2026, 12, 1)]] == [after.id]


def test_the_month_shows_what_was_published_with_what_is_planned_and_not_the_cancelled(
    session: Session,
) -> None:
    world = _world(session)
    # Sent on the 3rd although it was due on the 2nd: it is shown when it went out.
    sent = _publication(
        session,
        world,
        datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        status="sent",
        networks=("x", "mastodon"),
        sent_at=datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
    )
    waiting = _publication(
        session, world, datetime(2026, 11, 3, 7, 0, tzinfo=UTC), status="awaiting_approval"
    )
    failed = _publication(session, world, datetime(2026, 11, 3, 8, 0, tzinfo=UTC), status="failed")
    _publication(session, world, datetime(2026, 11, 3, 10, 0, tzinfo=UTC), status="cancelled")

    board = _november(session, world)

    assert date(2026, 11, 2) not in board.calendar
    day = board.calendar[date(2026, 11, 3)]
    assert [(e.state, [p.id for p in e.items]) for e in day] == [
        ("awaiting", [waiting[0].id]),
        ("failed", [failed[0].id]),
        ("sent", [p.id for p in sent]),
    ]
    assert day[-1].networks == ["x", "mastodon"]
    assert set(board.accounts) == {a.id for a in world["accounts"].values()}


def test_only_the_days_shown_are_read(session: Session) -> None:
    world = _world(session)
    _publication(session, world, datetime(2026, 10, 25, 12, 0, tzinfo=UTC))  # before the grid
    [shown] = _publication(session, world, datetime(2026, 10, 26, 12, 0, tzinfo=UTC))
    _publication(session, world, datetime(2026, 12, 7, 12, 0, tzinfo=UTC))  # after the grid
    _publication(
        session,
        world,
        datetime(2026, 9, 1, tzinfo=UTC),
        status="sent",
        sent_at=datetime(2026, 9, 1, tzinfo=UTC),
    )

    board = _november(session, world)

    assert [e.first.id for day in board.calendar.values() for e in day] == [shown.id]
    # The list of upcoming posts and the latest sent are not read for a month.
    assert board.upcoming == [] and board.sent == []


def test_promotional_posts_are_shown_held_during_a_crisis(session: Session) -> None:
    world = _world(session)
    [promo] = _publication(
        session, world, datetime(2026, 11, 12, 9, 0, tzinfo=UTC), promotional=True
    )
    [notice] = _publication(session, world, datetime(2026, 11, 12, 10, 0, tzinfo=UTC))
    start_crisis(session, world["ws"], None, reason="rappel produit")

    board = _november(session, world)

    assert [e.state for e in board.calendar[date(2026, 11, 12)]] == ["held", "scheduled"]
    assert board.held == {promo.id} and notice.id not in board.held


def test_a_composition_due_once_is_one_entry_with_its_networks(session: Session) -> None:
    world = _world(session)
    rows = _publication(
        session, world, datetime(2026, 11, 20, 9, 0, tzinfo=UTC), networks=("x", "mastodon")
    )

    [entry] = _november(session, world).calendar[date(2026, 11, 20)]

    assert [p.id for p in entry.items] == [p.id for p in rows]
    assert entry.networks == ["x", "mastodon"]
    assert entry.moment == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
