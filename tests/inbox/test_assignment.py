"""Assignment: round-robin and by load per queue, agents away, capacity, reassignment history."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import add_posts, make_record, make_workspace
from clameur.inbox.actions import NotAssignable, assign, assignable_users
from clameur.inbox.assignment import reassign_open, set_away, set_queue_assignment
from clameur.inbox.triage import ensure_inbox_defaults
from clameur.kit.errors import Forbidden
from clameur.models import AuditEvent, Conversation, NetworkAccount, Queue, Role, User


def _team(session: Session) -> dict[str, User]:
    people = {}
    for name, role in (("ann", Role.agent), ("bob", Role.agent), ("cyd", Role.agent)):
        people[name] = User(email=f"{name}@example.org", name=name, password_hash="-", role=role)
    people["max"] = User(email="max@example.org", name="max", password_hash="-", role=Role.manager)
    people["vic"] = User(email="vic@example.org", name="vic", password_hash="-", role=Role.viewer)
    session.add_all(people.values())
    session.flush()
    return people


def _care(session: Session, mode: str, manager: User) -> int:
    ws = make_workspace(session)
    session.add(NetworkAccount(workspace_id=ws.id, network="x", handle="lueursfest"))
    ensure_inbox_defaults(session, ws.id)
    care = session.scalars(select(Queue).where(Queue.slug == "care")).one()
    set_queue_assignment(session, care, mode, manager)
    return ws.id


def _complaints(session: Session, ws: int, count: int, start: int = 0) -> list[Conversation]:
    add_posts(
        session,
        ws,
        [
            make_record(
                id=f"c{start + n}",
                text=f"@lueursfest remboursement toujours pas reçu, c'est honteux {n}",
                author={"handle": f"customer{start + n}"},
            )
            for n in range(count)
        ],
    )
    return list(session.scalars(select(Conversation).order_by(Conversation.id)))


def test_round_robin_gives_each_agent_a_conversation_in_turn(session: Session) -> None:
    people = _team(session)
    ws = _care(session, "round_robin", people["max"])
    for user in (people["max"],):
        set_away(session, user, True)  # the manager answers no customer today
    conversations = _complaints(session, ws, 6)
    names = {user.id: name for name, user in people.items()}
    assert [names[c.assignee_id] for c in conversations] == ["ann", "bob", "cyd"] * 2


def test_an_agent_away_gets_nothing_new_and_keeps_what_is_theirs(session: Session) -> None:
    people = _team(session)
    ws = _care(session, "round_robin", people["max"])
    set_away(session, people["max"], True)
    first = _complaints(session, ws, 3)
    bobs = [c.id for c in first if c.assignee_id == people["bob"].id]
    set_away(session, people["bob"], True)
    later = _complaints(session, ws, 4, start=10)[3:]
    assert people["bob"].id not in {c.assignee_id for c in later}
    assert [session.get(Conversation, i).assignee_id for i in bobs] == [people["bob"].id]


def test_by_load_gives_the_least_loaded_agent_within_capacity(session: Session) -> None:
    people = _team(session)
    ws = _care(session, "load", people["max"])
    set_away(session, people["max"], True)
    people["ann"].inbox_capacity = 1
    people["bob"].inbox_capacity = 2
    people["cyd"].inbox_capacity = 0
    session.flush()
    conversations = _complaints(session, ws, 4)
    assignees = [c.assignee_id for c in conversations]
    assert sorted(a for a in assignees if a) == sorted(
        [people["ann"].id, people["bob"].id, people["bob"].id]
    )
    assert assignees.count(None) == 1  # everyone at capacity: it waits in its queue


def test_a_manual_queue_assigns_nobody(session: Session) -> None:
    people = _team(session)
    ws = _care(session, "manual", people["max"])
    assert {c.assignee_id for c in _complaints(session, ws, 2)} == {None}


def test_a_manager_reassigns_an_agents_conversations_and_the_history_keeps_it(
    session: Session,
) -> None:
    people = _team(session)
    ws = _care(session, "round_robin", people["max"])
    set_away(session, people["max"], True)
    _complaints(session, ws, 3)
    moved = reassign_open(session, ws, people["ann"].id, people["cyd"].id, people["max"])
    assert moved == 1
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assigned").order_by(AuditEvent.id)
    ).all()
    last = events[-1]
    assert last.user_id == people["max"].id
    assert (last.data["previous"], last.data["to"]) == (people["ann"].id, people["cyd"].id)
    assert events[0].data["mode"] == "round_robin"  # the automatic one is kept too


def test_only_a_manager_changes_how_a_queue_assigns(session: Session) -> None:
    people = _team(session)
    ws = _care(session, "manual", people["max"])
    care = session.scalars(select(Queue).where(Queue.workspace_id == ws)).first()
    assert care is not None
    with pytest.raises(Forbidden):
        set_queue_assignment(session, care, "load", people["ann"])
    with pytest.raises(Forbidden):
        reassign_open(session, ws, people["bob"].id, None, people["ann"])


def test_a_read_only_viewer_cannot_be_given_a_conversation(session: Session) -> None:
    people = _team(session)
    ws = _care(session, "manual", people["max"])
    [conversation] = _complaints(session, ws, 1)
    with pytest.raises(NotAssignable, match="vic has read-only access") as refused:
        assign(session, conversation, people["vic"].id, people["max"])
    assert refused.value.status_code == 400
    assert conversation.assignee_id is None
    assign(session, conversation, people["ann"].id, people["max"])
    assert conversation.assignee_id == people["ann"].id


def test_only_people_who_can_answer_are_offered_as_assignees(session: Session) -> None:
    people = _team(session)
    people["bob"].active = False
    names = [user.name for user in assignable_users(session)]
    assert names == ["ann", "cyd", "max"]
