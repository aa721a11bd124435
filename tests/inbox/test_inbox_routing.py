"""Posts become conversations: mentions, replies and the brand's answers, then triage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import BASE_TIME, add_posts, make_record, make_workspace
from clameur.inbox.routing import posts_of
from clameur.inbox.triage import RuleError, check_rule, try_rule
from clameur.models import (
    AuditEvent,
    Conversation,
    Customer,
    NetworkAccount,
    Queue,
    Rule,
    SavedQuery,
)


def _brand(session: Session) -> int:
    ws = make_workspace(session)
    session.add(NetworkAccount(workspace_id=ws.id, network="x", handle="lueursfest"))
    session.flush()
    return ws.id


def _at(minutes: int) -> str:
    return (BASE_TIME + timedelta(minutes=minutes)).isoformat()


def _conversations(session: Session) -> list[Conversation]:
    return list(session.scalars(select(Conversation).order_by(Conversation.id)))


def test_a_mention_opens_a_conversation_and_the_brand_reply_answers_it(session: Session) -> None:
    ws = _brand(session)
    add_posts(
        session,
        ws,
        [
            make_record(
                id="c1",
                text="@lueursfest toujours pas remboursé, c'est honteux",
                created_at=_at(0),
                author={"handle": "marie", "followers": 48000},
            ),
            make_record(id="n1", text="Quel concert hier soir", created_at=_at(1)),
        ],
    )
    [conversation] = _conversations(session)
    assert (conversation.status, conversation.message_count) == ("open", 1)
    assert conversation.waiting_since == BASE_TIME
    assert conversation.first_response_due is not None
    care = session.scalar(select(Queue.id).where(Queue.slug == "care"))
    assert conversation.queue_id == care  # the default rules send complaints to care
    assert conversation.priority > 0 and conversation.priority_reasons
    customer = session.get(Customer, conversation.customer_id)
    assert customer is not None and customer.name == "marie"
    add_posts(
        session,
        ws,
        [
            make_record(
                id="b1",
                text="@marie nous regardons votre dossier",
                in_reply_to="c1",
                created_at=_at(30),
                author="lueursfest",
            )
        ],
    )
    session.refresh(conversation)
    assert conversation.first_response_at == BASE_TIME + timedelta(minutes=30)
    assert conversation.waiting_since is None
    assert [
        (post.external_id, inbound) for post, inbound in posts_of(session, conversation.id)
    ] == [
        ("c1", True),
        ("b1", False),
    ]


def test_a_customer_message_reopens_a_resolved_conversation(session: Session) -> None:
    ws = _brand(session)
    add_posts(
        session, ws, [make_record(id="c1", text="@lueursfest une question", created_at=_at(0))]
    )
    [conversation] = _conversations(session)
    conversation.status = "resolved"
    session.flush()
    add_posts(
        session,
        ws,
        [make_record(id="c2", text="encore moi", in_reply_to="c1", created_at=_at(60))],
    )
    session.refresh(conversation)
    assert conversation.status == "open" and conversation.message_count == 2
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.conversation_id == conversation.id)
    ).all()
    assert "reopened" in actions


def test_posts_that_concern_nobody_stay_out_and_routing_twice_changes_nothing(
    session: Session,
) -> None:
    ws = _brand(session)
    records = [
        make_record(id="p1", text="rien à voir"),
        make_record(id="p2", text="@lueursfest hello"),
    ]
    add_posts(session, ws, records)
    add_posts(session, ws, records)
    [conversation] = _conversations(session)
    assert conversation.message_count == 1


def test_a_reply_stored_before_its_question_joins_the_thread(session: Session) -> None:
    ws = _brand(session)
    add_posts(
        session,
        ws,
        [
            make_record(
                id="b1",
                text="@marie c'est réglé",
                in_reply_to="c1",
                conversation_id="c1",
                created_at=_at(10),
                author="lueursfest",
            )
        ],
    )
    assert _conversations(session) == []
    add_posts(
        session,
        ws,
        [make_record(id="c1", text="@lueursfest billet perdu", created_at=_at(0))],
    )
    [conversation] = _conversations(session)
    assert [p.external_id for p, _ in posts_of(session, conversation.id)] == ["c1", "b1"]
    assert conversation.first_response_at == BASE_TIME + timedelta(minutes=10)


def test_an_inbox_query_brings_posts_that_do_not_mention_the_brand(session: Session) -> None:
    from clameur.listening.service import create_query, load_query_index

    ws = _brand(session)
    query = create_query(session, ws, "Navettes", "navette")
    session.execute(
        SavedQuery.__table__.update().where(SavedQuery.id == query.id).values(inbox=True)
    )
    add_posts(
        session,
        ws,
        [make_record(text="la navette est en retard"), make_record(text="le soleil brille")],
        index=load_query_index(session, ws),
    )
    assert len(_conversations(session)) == 1


def test_rules_run_in_order_and_stop(session: Session) -> None:
    ws = _brand(session)
    add_posts(session, ws, [make_record(text="@lueursfest bonjour", created_at=_at(0))])
    session.add(
        Rule(
            workspace_id=ws,
            position=-1,
            name="VIP",
            condition="author:@vip",
            actions={"tags": ["vip"], "priority": "urgent"},
            stop=False,
        )
    )
    session.flush()
    add_posts(
        session,
        ws,
        [
            make_record(
                text="@lueursfest c'est nul, remboursez-moi", author="vip", created_at=_at(5)
            )
        ],
    )
    vip = _conversations(session)[-1]
    assert vip.tags == ["vip"] and vip.priority_level == "urgent"
    assert vip.priority_reasons[0][0] == "rule"


def test_a_rule_is_tried_on_past_messages_before_it_is_saved(session: Session) -> None:
    ws = _brand(session)
    add_posts(
        session,
        ws,
        [
            make_record(text="@lueursfest in English please", lang="en"),
            make_record(text="@lueursfest en français", lang="fr"),
        ],
    )
    tried = try_rule(session, ws, "lang:en", {"queue": "care", "tags": ["english"]})
    assert len(tried) == 1 and tried[0][1].actions["tags"] == ["english"]
    with pytest.raises(RuleError, match="position"):
        check_rule("lang:en AND (", "any", {})
    with pytest.raises(RuleError, match="unknown action"):
        check_rule("", "any", {"explode": True})


def test_a_brand_answer_to_an_unrecognised_post_makes_that_post_a_customer_message(
    session: Session,
) -> None:
    ws = _brand(session)
    # twcs anonymises the brand's handle in customers' tweets: "@115714" names nobody we know.
    add_posts(session, ws, [make_record(id="c1", text="@115714 my app crashes", created_at=_at(0))])
    assert _conversations(session) == []
    add_posts(
        session,
        ws,
        [
            make_record(
                id="b1",
                text="Sorry! DM us",
                in_reply_to="c1",
                created_at=_at(7),
                author="lueursfest",
            )
        ],
    )
    [conversation] = _conversations(session)
    assert [(p.external_id, inbound) for p, inbound in posts_of(session, conversation.id)] == [
        ("c1", True),
        ("b1", False),
    ]
    assert conversation.first_response_at - conversation.first_inbound_at == timedelta(minutes=7)
