"""Service-level breaches tell the managers, once per breach, counted in business hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from builders import add_posts, make_record, make_workspace
from clameur.inbox.sla import notify_breaches
from clameur.models import AuditEvent, Conversation, NetworkAccount, Notification, Role, User
from clameur.pipeline.runner import Runner
from clameur.store.engine import unit_of_work

# Friday 5 June 2026, 19:00 in Paris: the team has gone home for the weekend.
FRIDAY_EVENING = datetime(2026, 6, 5, 17, 0, tzinfo=UTC)


def _people(session: Session) -> tuple[int, int]:
    manager = User(
        email="camille@example.org", name="Camille", password_hash="-", role=Role.manager
    )
    agent = User(email="yanis@example.org", name="Yanis", password_hash="-", role=Role.agent)
    session.add_all([manager, agent])
    session.flush()
    return manager.id, agent.id


def _complaint(
    session: Session, at: datetime, text: str = "@lueursfest toujours rien"
) -> Conversation:
    ws = make_workspace(session)
    session.add(NetworkAccount(workspace_id=ws.id, network="x", handle="lueursfest"))
    session.flush()
    add_posts(
        session,
        ws.id,
        [make_record(id="c1", text=text, created_at=at.isoformat(), author={"handle": "marie"})],
    )
    return session.scalars(select(Conversation)).one()


def _notifications(session: Session) -> list[Notification]:
    return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_a_breach_is_told_to_each_manager_once_and_not_twice(session: Session) -> None:
    manager, _agent = _people(session)
    conversation = _complaint(session, FRIDAY_EVENING - timedelta(days=4))  # a Monday
    due = conversation.first_response_due
    assert due is not None
    first = notify_breaches(session, now=due + timedelta(minutes=1))
    again = notify_breaches(session, now=due + timedelta(minutes=30))
    assert (first.notifications, again.notifications) == (1, 0)
    [notification] = _notifications(session)
    assert notification.user_id == manager  # agents are not told
    assert notification.kind == "sla_first_response"
    assert notification.link == f"/inbox?c={conversation.id}"
    assert notification.body == "marie" and notification.read_at is None
    breached = session.scalars(select(AuditEvent).where(AuditEvent.action == "sla_breached")).all()
    assert [event.data["timer"] for event in breached] == ["first_response"]


def test_a_message_on_friday_evening_is_not_overdue_during_the_weekend(session: Session) -> None:
    _people(session)
    conversation = _complaint(session, FRIDAY_EVENING)
    due = conversation.first_response_due
    assert due is not None and due.weekday() == 0  # counted in business hours: Monday
    saturday = FRIDAY_EVENING + timedelta(days=1)
    assert notify_breaches(session, now=saturday).notifications == 0
    assert notify_breaches(session, now=due - timedelta(minutes=1)).notifications == 0
    assert notify_breaches(session, now=due + timedelta(minutes=1)).notifications == 1


def test_the_resolution_breach_is_a_second_breach_told_once(session: Session) -> None:
    _people(session)
    conversation = _complaint(session, FRIDAY_EVENING - timedelta(days=4))
    assert conversation.first_response_due and conversation.resolution_due
    assert conversation.resolution_due > conversation.first_response_due
    notify_breaches(session, now=conversation.first_response_due + timedelta(minutes=1))
    later = conversation.resolution_due + timedelta(minutes=1)
    assert notify_breaches(session, now=later).notifications == 1
    assert notify_breaches(session, now=later + timedelta(hours=1)).notifications == 0
    kinds = [n.kind for n in _notifications(session)]
    assert kinds == ["sla_first_response", "sla_resolution"]


def test_an_answered_or_resolved_conversation_is_not_overdue(session: Session) -> None:
    _people(session)
    conversation = _complaint(session, FRIDAY_EVENING - timedelta(days=4))
    due = conversation.first_response_due
    assert due is not None
    conversation.status = "resolved"
    session.flush()
    assert notify_breaches(session, now=due + timedelta(hours=1)).notifications == 0


def test_a_breach_older_than_a_day_when_first_noticed_is_recorded_without_an_alarm(
    session: Session,
) -> None:
    _people(session)
    conversation = _complaint(session, FRIDAY_EVENING - timedelta(days=4))
    due = conversation.first_response_due
    assert due is not None
    report = notify_breaches(session, now=due + timedelta(days=2))
    assert report.notifications == 0 and report.skipped_old >= 1
    assert conversation.sla_notified_through is not None


def test_the_runner_tells_the_managers_in_its_rounds(factory: sessionmaker[Session]) -> None:
    recent = datetime.now(UTC) - timedelta(days=3)
    with unit_of_work(factory) as session:
        _people(session)
        conversation = _complaint(session, recent)
        conversation.first_response_due = datetime.now(UTC) - timedelta(minutes=5)
        conversation.resolution_due = datetime.now(UTC) + timedelta(days=1)
    runner = Runner(factory)
    runner.run_once()
    runner.next_sla_check = 0.0
    runner.run_once()
    with factory() as session:
        assert [n.kind for n in _notifications(session)] == ["sla_first_response"]
