"""The outbox: replies queued by the team, sent through the network once, whatever happens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from builders import BASE_TIME, add_posts, make_record, make_workspace
from clameur.connectors.demo.replies import DemoReplies
from clameur.inbox.outbox import (
    MAX_ATTEMPTS,
    STUCK_AFTER,
    ReplyCollision,
    RetryableSendError,
    approve_reply,
    deliver_due,
    discard_reply,
    queue_reply,
)
from clameur.inbox.routing import posts_of
from clameur.kit.errors import ClameurError, Conflict, Forbidden
from clameur.models import (
    AuditEvent,
    Conversation,
    ConversationItem,
    NetworkAccount,
    Post,
    Reply,
    Role,
    User,
)
from clameur.pipeline.runner import Runner
from clameur.store.engine import unit_of_work

LATER = BASE_TIME + timedelta(hours=1)


class FakeNetwork:
    """A network that keeps the idempotency contract and counts what it really published."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.published: dict[str, str] = {}
        self.calls = 0

    def send_reply(self, reply: Reply, conversation: Conversation, post: Post | None) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        key = reply.idempotency_key
        if key not in self.published:
            self.published[key] = f"tw-{len(self.published) + 1}"
        return self.published[key]


class WorkerDied(BaseException):
    """The process vanished (not an error the outbox could catch)."""


class DiesAfterTheNetworkAccepts:
    def __init__(self, network: FakeNetwork) -> None:
        self.network = network

    def send_reply(self, reply: Reply, conversation: Conversation, post: Post | None) -> str:
        self.network.send_reply(reply, conversation, post)
        raise WorkerDied


def _user(session: Session, name: str, role: Role) -> User:
    user = User(email=f"{name}@example.org", name=name, password_hash="-", role=role)
    session.add(user)
    session.flush()
    return user


def _setup(session: Session, network: str = "x") -> dict[str, Any]:
    """A workspace with a brand account, a waiting customer, two agents and a manager."""
    ws = make_workspace(session)
    session.add(NetworkAccount(workspace_id=ws.id, network=network, handle="lueursfest"))
    session.flush()
    add_posts(
        session,
        ws.id,
        [
            make_record(
                id="c1",
                network=network,
                text="@lueursfest toujours pas remboursé",
                created_at=BASE_TIME.isoformat(),
                author={"handle": "marie", "followers": 1200},
                lang="fr",
            )
        ],
    )
    conversation = session.scalars(select(Conversation)).one()
    item = session.scalars(select(ConversationItem)).one()
    return {
        "ws": ws.id,
        "conversation": conversation,
        "seen": item.id,
        "agent": _user(session, "yanis", Role.agent),
        "other_agent": _user(session, "lea", Role.agent),
        "manager": _user(session, "camille", Role.manager),
    }


def _queue(factory: sessionmaker[Session], body: str = "Nous regardons votre dossier") -> int:
    with unit_of_work(factory) as session:
        world = _setup(session)
        reply = queue_reply(session, world["conversation"], world["agent"], body, world["seen"])
        return reply.id


def _reply(factory: sessionmaker[Session], reply_id: int) -> Reply:
    with factory() as session:
        reply = session.get(Reply, reply_id)
        assert reply is not None
        return reply


def test_a_queued_reply_is_published_once_and_joins_its_conversation(
    factory: sessionmaker[Session],
) -> None:
    reply_id = _queue(factory)
    network = FakeNetwork()
    report = deliver_due(factory, {"x": network}, now=LATER)
    assert report.sent == [reply_id] and report.unrouted == []
    again = deliver_due(factory, {"x": network}, now=LATER + timedelta(hours=1))
    assert again.sent == [] and network.calls == 1 and len(network.published) == 1
    reply = _reply(factory, reply_id)
    assert (reply.status, reply.external_id, reply.sent_at, reply.attempts) == (
        "sent",
        "tw-1",
        LATER,
        1,
    )
    with factory() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.first_response_at == LATER
        assert conversation.waiting_since is None
        thread = [
            (post.external_id, post.author.handle if post.author else None, inbound)
            for post, inbound in posts_of(session, conversation.id)
        ]
        assert thread == [("c1", "marie", True), ("tw-1", "lueursfest", False)]
        replied_to = session.scalars(select(Post).where(Post.external_id == "tw-1")).one()
        assert replied_to.in_reply_to == "c1" and replied_to.text == "Nous regardons votre dossier"
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["reply_queued", "reply_sent"]


def test_reply_is_not_published_twice_when_the_worker_dies_after_the_network_accepted(
    factory: sessionmaker[Session],
) -> None:
    reply_id = _queue(factory)
    network = FakeNetwork()
    with pytest.raises(WorkerDied):
        deliver_due(factory, {"x": DiesAfterTheNetworkAccepts(network)}, now=LATER)
    assert _reply(factory, reply_id).status == "sending"
    # A runner coming by soon after leaves it alone: the first one may still be sending.
    early = deliver_due(factory, {"x": network}, now=LATER + timedelta(minutes=1))
    assert early.sent == [] and network.calls == 1
    late = deliver_due(factory, {"x": network}, now=LATER + STUCK_AFTER + timedelta(seconds=1))
    assert late.sent == [reply_id]
    assert network.calls == 2 and network.published == {
        _reply(factory, reply_id).idempotency_key: "tw-1"
    }
    with factory() as session:
        assert session.scalars(
            select(Post.external_id).where(Post.external_id == "tw-1")
        ).all() == ["tw-1"]
        assert session.scalars(select(Conversation)).one().message_count == 2


def test_a_retryable_error_backs_off_then_the_reply_is_sent(
    factory: sessionmaker[Session],
) -> None:
    reply_id = _queue(factory)
    network = FakeNetwork([RetryableSendError("rate limited"), RetryableSendError("still busy")])
    first = deliver_due(factory, {"x": network}, now=LATER)
    reply = _reply(factory, reply_id)
    assert first.retrying == [reply_id]
    assert (reply.status, reply.attempts, reply.error) == ("queued", 1, "rate limited")
    assert reply.next_attempt_at == LATER + timedelta(seconds=30)
    assert deliver_due(factory, {"x": network}, now=LATER + timedelta(seconds=29)).retrying == []
    second_time = LATER + timedelta(seconds=30)
    deliver_due(factory, {"x": network}, now=second_time)
    reply = _reply(factory, reply_id)
    assert reply.attempts == 2 and reply.next_attempt_at == second_time + timedelta(seconds=60)
    third = deliver_due(factory, {"x": network}, now=second_time + timedelta(seconds=60))
    reply = _reply(factory, reply_id)
    assert third.sent == [reply_id]
    assert (reply.status, reply.attempts, reply.error) == ("sent", 3, None)
    assert len(network.published) == 1


def test_a_retry_waits_as_long_as_the_network_asked(factory: sessionmaker[Session]) -> None:
    reply_id = _queue(factory)
    deliver_due(factory, {"x": FakeNetwork([RetryableSendError("429", delay=900)])}, now=LATER)
    assert _reply(factory, reply_id).next_attempt_at == LATER + timedelta(seconds=900)


def test_a_permanent_error_fails_the_reply_with_the_network_message(
    factory: sessionmaker[Session],
) -> None:
    reply_id = _queue(factory)
    network = FakeNetwork([ValueError("403: this account cannot reply to this tweet")])
    report = deliver_due(factory, {"x": network}, now=LATER)
    reply = _reply(factory, reply_id)
    assert report.failed == [reply_id]
    assert (reply.status, reply.error) == ("failed", "403: this account cannot reply to this tweet")
    assert deliver_due(factory, {"x": network}, now=LATER + timedelta(days=1)).failed == []
    assert network.calls == 1


def test_replies_of_a_network_without_connector_wait(factory: sessionmaker[Session]) -> None:
    reply_id = _queue(factory)
    assert not deliver_due(factory, {"bluesky": FakeNetwork()}, now=LATER).busy
    assert _reply(factory, reply_id).status == "queued"


def test_a_second_agent_is_refused_while_a_reply_is_in_flight(session: Session) -> None:
    world = _setup(session)
    first = queue_reply(
        session, world["conversation"], world["agent"], "On s'en occupe", world["seen"]
    )
    with pytest.raises(ReplyCollision) as refused:
        queue_reply(session, world["conversation"], world["other_agent"], "Bonjour", world["seen"])
    assert refused.value.reply is not None and refused.value.reply.id == first.id
    assert (refused.value.by_name, refused.value.body) == ("yanis", "On s'en occupe")
    assert refused.value.status_code == 409 and "yanis" in refused.value.message


def test_an_answer_given_after_what_the_composer_saw_is_refused(session: Session) -> None:
    world = _setup(session)
    answered = queue_reply(
        session, world["conversation"], world["agent"], "C'est réglé", world["seen"]
    )
    # Delivered (as deliver_due would): sent, and its post joins the thread.
    answered.status, answered.external_id, answered.sent_at = "sent", "tw-9", LATER
    add_posts(
        session,
        world["ws"],
        [
            make_record(
                id="tw-9",
                text="C'est réglé",
                in_reply_to="c1",
                created_at=LATER.isoformat(),
                author="lueursfest",
            )
        ],
    )
    with pytest.raises(ReplyCollision) as refused:
        queue_reply(session, world["conversation"], world["other_agent"], "Bonjour", world["seen"])
    assert refused.value.reply is not None and refused.value.reply.id == answered.id
    assert (refused.value.by_name, refused.value.body) == ("yanis", "C'est réglé")
    newest = session.scalars(
        select(ConversationItem.id).order_by(ConversationItem.id.desc())
    ).first()
    accepted = queue_reply(
        session, world["conversation"], world["other_agent"], "Autre chose ?", newest
    )
    assert accepted.status == "queued"


def test_an_answer_written_on_the_network_itself_also_collides(session: Session) -> None:
    world = _setup(session)
    add_posts(
        session,
        world["ws"],
        [
            make_record(
                id="native",
                text="Réponse depuis l'appli",
                in_reply_to="c1",
                created_at=LATER.isoformat(),
                author="lueursfest",
            )
        ],
    )
    with pytest.raises(ReplyCollision) as refused:
        queue_reply(session, world["conversation"], world["agent"], "Bonjour", world["seen"])
    assert refused.value.reply is None
    assert (refused.value.by_name, refused.value.body) == ("@lueursfest", "Réponse depuis l'appli")


def test_an_agent_reply_waits_for_a_manager_who_may_edit_it(session: Session) -> None:
    world = _setup(session)
    conversation = world["conversation"]
    conversation.needs_approval = True
    held = queue_reply(session, conversation, world["agent"], "on vous rembourse", world["seen"])
    assert held.status == "awaiting_approval"
    with pytest.raises(Forbidden):
        approve_reply(session, held, world["other_agent"])
    approved = approve_reply(
        session, held, world["manager"], body="Nous vous remboursons sous 48 h."
    )
    assert (approved.status, approved.body, approved.approved_by_id) == (
        "queued",
        "Nous vous remboursons sous 48 h.",
        world["manager"].id,
    )
    with pytest.raises(Conflict):
        approve_reply(session, approved, world["manager"])
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("reply_%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["reply_awaiting_approval", "reply_approved"]


def test_managers_reply_directly_where_agents_need_approval(session: Session) -> None:
    world = _setup(session)
    world["conversation"].needs_approval = True
    reply = queue_reply(session, world["conversation"], world["manager"], "Bonjour", world["seen"])
    assert reply.status == "queued" and reply.approved_by_id is None


def test_a_discarded_reply_frees_the_conversation(session: Session) -> None:
    world = _setup(session)
    reply = queue_reply(session, world["conversation"], world["agent"], "oups", world["seen"])
    with pytest.raises(Forbidden):
        discard_reply(session, reply, world["other_agent"])
    assert discard_reply(session, reply, world["agent"]).status == "discarded"
    again = queue_reply(
        session, world["conversation"], world["other_agent"], "Bonjour", world["seen"]
    )
    assert again.status == "queued"
    again.status = "sending"
    session.flush()
    with pytest.raises(Conflict):
        discard_reply(session, again, world["manager"])


def test_a_reply_over_the_network_limit_is_refused_naming_the_limit(session: Session) -> None:
    world = _setup(session)
    with pytest.raises(ClameurError, match="280"):
        queue_reply(session, world["conversation"], world["agent"], "a" * 281, world["seen"])
    with pytest.raises(ClameurError, match="empty"):
        queue_reply(session, world["conversation"], world["agent"], "   ", world["seen"])
    reply = queue_reply(session, world["conversation"], world["agent"], "a" * 280, world["seen"])
    assert reply.in_reply_to_post_id == session.scalar(
        select(Post.id).where(Post.external_id == "c1")
    )


def test_the_demo_network_publishes_once_even_after_a_restart(
    factory: sessionmaker[Session],
) -> None:
    reply_id = _queue(factory)
    demo = DemoReplies(factory, answer_probability=0.0)
    assert deliver_due(factory, {"x": demo}, now=LATER).sent == [reply_id]
    reply = _reply(factory, reply_id)
    assert reply.external_id == f"reply-{reply.idempotency_key}"
    assert demo.published == {reply.idempotency_key: reply.external_id}
    with factory() as session:
        conversation = session.get(Conversation, reply.conversation_id)
        assert conversation is not None
        restarted = DemoReplies(factory)
        assert restarted.send_reply(reply, conversation, None) == reply.external_id
    assert restarted.published == {}


def test_the_demo_customer_answers_back_a_few_seconds_later(
    factory: sessionmaker[Session],
) -> None:
    _queue(factory)
    demo = DemoReplies(
        factory,
        seed=1,
        answer_probability=1.0,
        answer_delay=timedelta(seconds=5),
        clock=lambda: LATER,
    )
    first = deliver_due(factory, {"x": demo}, now=LATER)
    assert first.answers == 0
    second = deliver_due(factory, {"x": demo}, now=LATER + timedelta(seconds=5))
    assert second.answers == 1
    assert deliver_due(factory, {"x": demo}, now=LATER + timedelta(seconds=10)).answers == 0
    with factory() as session:
        conversation = session.scalars(select(Conversation)).one()
        thread = [
            (post.author.handle if post.author else None, inbound)
            for post, inbound in posts_of(session, conversation.id)
        ]
        assert thread == [("marie", True), ("lueursfest", False), ("marie", True)]
        assert conversation.waiting_since == LATER + timedelta(seconds=5)


def test_a_reply_is_failed_after_too_many_retries(factory: sessionmaker[Session]) -> None:
    reply_id = _queue(factory)
    network = FakeNetwork([RetryableSendError("down", delay=1)] * MAX_ATTEMPTS)
    moment = LATER
    for _ in range(MAX_ATTEMPTS):
        deliver_due(factory, {"x": network}, now=moment)
        moment += timedelta(seconds=1)
    reply = _reply(factory, reply_id)
    assert (reply.status, reply.error) == ("failed", f"gave up after {MAX_ATTEMPTS} attempts: down")
    assert network.published == {}


def test_the_runner_delivers_replies_on_each_round(factory: sessionmaker[Session]) -> None:
    reply_id = _queue(factory)
    network = FakeNetwork()
    runner = Runner(factory, connectors={"x": network})
    assert runner.run_once()
    assert _reply(factory, reply_id).status == "sent" and len(network.published) == 1
    assert not runner.run_once()
