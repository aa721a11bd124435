"""Only one reply in flight per conversation, guaranteed by the database; a held reply is not
approved when someone answered meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from builders import BASE_TIME, add_posts, make_record, make_workspace
from clameur.inbox.outbox import ReplyCollision, approve_reply, queue_reply
from clameur.models import Conversation, ConversationItem, NetworkAccount, Reply, Role, User


def _setup(session: Session) -> tuple[int, Conversation, int, User, User]:
    ws = make_workspace(session)
    session.add(NetworkAccount(workspace_id=ws.id, network="x", handle="lueursfest"))
    agent = User(email="yanis@example.org", name="Yanis", password_hash="-", role=Role.agent)
    manager = User(
        email="camille@example.org", name="Camille", password_hash="-", role=Role.manager
    )
    session.add_all([agent, manager])
    session.flush()
    add_posts(
        session,
        ws.id,
        [
            make_record(
                id="c1", text="@lueursfest remboursement ?", created_at=BASE_TIME.isoformat()
            )
        ],
    )
    conversation = session.scalars(select(Conversation)).one()
    seen = session.scalars(select(ConversationItem.id)).one()
    return ws.id, conversation, seen, agent, manager


def test_the_database_refuses_a_second_reply_in_flight(session: Session) -> None:
    ws, conversation, seen, agent, _manager = _setup(session)
    queue_reply(session, conversation, agent, "Nous regardons", seen)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(
            Reply(
                workspace_id=ws,
                conversation_id=conversation.id,
                body="En double",
                status="queued",
                idempotency_key="twice",
                attempts=0,
            )
        )
        session.flush()
    # A reply that is no longer in flight leaves room for the next one.
    first = session.scalars(select(Reply)).one()
    first.status = "failed"
    session.flush()
    assert queue_reply(session, conversation, agent, "Deuxième essai", seen).status == "queued"


def test_approving_a_held_reply_is_refused_when_the_brand_answered_meanwhile(
    session: Session,
) -> None:
    ws, conversation, seen, agent, manager = _setup(session)
    held = queue_reply(session, conversation, agent, "Je regarde", seen, approval_required=True)
    assert held.status == "awaiting_approval"
    answered_at = held.created_at + timedelta(minutes=2)
    add_posts(
        session,
        ws,
        [
            make_record(
                id="b1",
                text="@user1 c'est réglé, remboursé ce matin",
                in_reply_to="c1",
                created_at=answered_at.isoformat(),
                author="lueursfest",
            )
        ],
    )
    with pytest.raises(ReplyCollision) as refused:
        approve_reply(session, held, manager)
    assert refused.value.body == "@user1 c'est réglé, remboursé ce matin"
    assert held.status == "awaiting_approval"


def test_approving_a_held_reply_with_nothing_new_sends_it(session: Session) -> None:
    _ws, conversation, seen, agent, manager = _setup(session)
    held = queue_reply(session, conversation, agent, "Je regarde", seen, approval_required=True)
    assert approve_reply(session, held, manager).status == "queued"
