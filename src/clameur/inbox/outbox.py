"""The outbox: replies written in the inbox, sent through the network once and only once.

A reply is queued by the composer (or waits for a manager's approval), then a runner delivers
it: it marks the reply `sending` and commits, calls the network's connector, and on success
stores the published reply as a post of the brand's account through the normal pipeline, so it
joins its conversation as an outbound item like any answer the brand gives.

Never publishing twice rests on one contract that every reply connector keeps:

    `send_reply(reply, conversation, in_reply_to_post)` called again with a reply carrying the
    same `reply.idempotency_key` returns the same external id without publishing again.

A runner may die between the network's acceptance and the commit that marks the reply sent;
the reply then stays `sending`, is picked up again after `STUCK_AFTER`, and the connector's
memory of the key (the network's own idempotency header, or a look-up of what the account
already published) turns the second call into a no-op that returns the first post's id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from clameur.connectors.base import Capability
from clameur.inbox.compose import (
    LENGTH_LIMITS,
    brand_account,
    check_body,
    fill_reply_template,
    insert_in_flight,
)
from clameur.inbox.routing import audit
from clameur.kit.errors import ClameurError, Conflict, Forbidden
from clameur.kit.time import utcnow
from clameur.listening.service import load_query_index
from clameur.models import (
    Conversation,
    ConversationItem,
    Post,
    Reply,
    Role,
    User,
)
from clameur.models.inbox import REPLY_IN_FLIGHT
from clameur.pipeline.jobs import RetryableError
from clameur.pipeline.schemas import AuthorIn, PostIn
from clameur.pipeline.stages import run_batch
from clameur.radar.crisis import active_crisis, covers
from clameur.store.engine import unit_of_work

log = logging.getLogger(__name__)

__all__ = ["LENGTH_LIMITS", "check_body", "fill_reply_template"]  # re-exported for callers

IN_FLIGHT = REPLY_IN_FLIGHT  # the database allows one such reply per conversation
# A reply `sending` for longer than this was left by a runner that died mid-send.
STUCK_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


class ReplyCollision(Conflict):
    """Someone else is replying, or answered since the composer last looked: what they wrote
    is carried so the composer can show it."""

    def __init__(
        self,
        message: str,
        body: str,
        by_user_id: int | None,
        by_name: str,
        reply: Reply | None = None,
    ) -> None:
        super().__init__(message)
        self.body = body
        self.by_user_id = by_user_id
        self.by_name = by_name
        self.reply = reply


class RetryableSendError(RetryableError):
    """The network could not take the reply now (rate limit, outage): try again later.

    `delay` is when the network said to retry, in seconds; None backs off exponentially."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message, delay if delay is not None else 0.0)
        self.requested_delay = delay


@runtime_checkable
class ReplySender(Protocol):
    """What the outbox needs from a network's connector."""

    def send_reply(
        self, reply: Reply, conversation: Conversation, in_reply_to_post: Post | None
    ) -> str:
        """Publish `reply.body` in answer to `in_reply_to_post`; return the network's id of the
        published post. Idempotent by `reply.idempotency_key`: the same key returns the same id
        without publishing again. Raise `RetryableSendError` for a failure worth retrying; any
        other exception is permanent and its message is shown to the team."""
        ...


@runtime_checkable
class AnsweringSender(ReplySender, Protocol):
    """A connector that also hands back what people answered to the replies it sent (for
    networks without a live listener; the demo network is one)."""

    def pending_answers(self, now: datetime) -> list[tuple[int, dict[str, Any]]]:
        """The answers due by `now`, each as (workspace id, import-schema record); each is
        returned once."""
        ...


def _display(user: User | None) -> str:
    return user.name if user is not None else "someone"


def _check_collisions(
    session: Session,
    conversation: Conversation,
    seen_item_id: int | None,
    held: Reply | None = None,
) -> None:
    """Refuse (ReplyCollision) when another reply is in flight or the team answered after the
    item the composer showed; for a `held` reply being approved, after it was written."""
    in_flight_query = select(Reply).where(
        Reply.conversation_id == conversation.id, Reply.status.in_(IN_FLIGHT)
    )
    if held is not None:
        in_flight_query = in_flight_query.where(Reply.id != held.id)
    in_flight = session.scalars(in_flight_query.order_by(Reply.id).limit(1)).first()
    if in_flight is not None:
        author = session.get(User, in_flight.user_id) if in_flight.user_id else None
        waiting = " (waiting for approval)" if in_flight.status == "awaiting_approval" else ""
        raise ReplyCollision(
            f"{_display(author)} is already replying{waiting}: “{in_flight.body}”",
            in_flight.body,
            in_flight.user_id,
            _display(author),
            in_flight,
        )
    seen_at: datetime | None = None
    if seen_item_id is not None:
        seen = session.get(ConversationItem, seen_item_id)
        if seen is None or seen.conversation_id != conversation.id:
            raise ClameurError("The message you answer is not in this conversation.")
        seen_at = seen.created_at
    answers = select(Post).join(ConversationItem, ConversationItem.post_id == Post.id)
    if held is not None:
        seen_at = held.created_at
        answers = answers.where(ConversationItem.created_at > held.created_at)
        if held.external_id is not None:
            answers = answers.where(Post.external_id != held.external_id)
    else:
        answers = answers.where(
            ConversationItem.id > (seen_item_id if seen_item_id is not None else 0)
        )
    newer = (
        session.execute(
            answers.where(
                ConversationItem.conversation_id == conversation.id,
                ConversationItem.inbound.is_(False),
            )
            .order_by(ConversationItem.id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )
    if newer is not None:
        # An answer sent through Clameur names its author; one written on the network directly
        # names the brand's account.
        through = session.scalars(
            select(Reply).where(
                Reply.conversation_id == conversation.id, Reply.external_id == newer.external_id
            )
        ).first()
        if through is not None:
            author = session.get(User, through.user_id) if through.user_id else None
            name, user_id = _display(author), through.user_id
        else:
            name = "@" + newer.author.handle if newer.author else "the brand"
            user_id = None
        raise ReplyCollision(
            f"{name} answered while you were writing: “{newer.text}”",
            newer.text,
            user_id,
            name,
            through,
        )
    # A reply marked sent whose post has not joined the conversation (yet): compare times.
    sent_query = select(Reply).where(
        Reply.conversation_id == conversation.id,
        Reply.status == "sent",
        ~Reply.external_id.in_(
            select(Post.external_id)
            .join(ConversationItem, ConversationItem.post_id == Post.id)
            .where(ConversationItem.conversation_id == conversation.id)
        ),
    )
    if seen_at is not None:
        sent_query = sent_query.where(Reply.sent_at > seen_at)
    if held is not None:
        sent_query = sent_query.where(Reply.id != held.id)
    sent = session.scalars(sent_query.order_by(Reply.sent_at.desc()).limit(1)).first()
    if sent is not None:
        author = session.get(User, sent.user_id) if sent.user_id else None
        raise ReplyCollision(
            f"{_display(author)} answered while you were writing: “{sent.body}”",
            sent.body,
            sent.user_id,
            _display(author),
            sent,
        )


def answers_in_private(network: str) -> bool:
    """Whether the network's connector answers direct messages in private."""
    from clameur.connectors import registry

    try:
        return Capability.messages in registry.get(network).capabilities
    except ClameurError:
        return False


def queue_reply(
    session: Session,
    conversation: Conversation,
    user: User,
    body: str,
    seen_item_id: int | None,
    approval_required: bool | None = None,
) -> Reply:
    """The composer's send: queue a reply (or hold it for approval); refuse it when someone
    else is replying or answered after `seen_item_id`, the last item the composer showed (None:
    it showed no item, so any answer collides). `approval_required` overrides the
    conversation's `needs_approval`; managers and admins are never held."""
    if user.role == Role.viewer:
        raise Forbidden("Viewers cannot reply.")
    text = check_body(conversation.network, body)
    if conversation.kind == "dm" and not answers_in_private(conversation.network):
        raise ClameurError(
            f"Clameur cannot answer private messages on {conversation.network} yet: answer "
            "this one in the network's own inbox. Notes, tags, assignment and statuses work "
            "here as for any conversation."
        )
    if brand_account(session, conversation.workspace_id, conversation.network) is None:
        raise ClameurError(f"The workspace has no {conversation.network} account to reply from.")
    if session.get_bind().dialect.name == "postgresql":
        # Two composers sending at once queue one after the other, so the second sees the first.
        session.execute(
            select(Conversation.id).where(Conversation.id == conversation.id).with_for_update()
        )
    _check_collisions(session, conversation, seen_item_id)
    in_reply_to = session.scalar(
        select(ConversationItem.post_id)
        .where(
            ConversationItem.conversation_id == conversation.id,
            ConversationItem.inbound.is_(True),
        )
        .order_by(ConversationItem.created_at.desc(), ConversationItem.id.desc())
        .limit(1)
    )
    if approval_required is None:
        # Crisis mode puts the replies of the conversations it covers under approval.
        crisis = active_crisis(session, conversation.workspace_id)
        approval_required = conversation.needs_approval or covers(
            session, crisis, [in_reply_to] if in_reply_to is not None else []
        )
    held = approval_required and user.role == Role.agent
    reply = Reply(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        user_id=user.id,
        in_reply_to_post_id=in_reply_to,
        body=text,
        status="awaiting_approval" if held else "queued",
        idempotency_key=uuid.uuid4().hex,
        attempts=0,
        created_at=utcnow(),
    )
    if not insert_in_flight(session, reply):
        # A colleague's reply got in between the check and the insert: the database's
        # one-in-flight index refused this one; say whose it is.
        _check_collisions(session, conversation, seen_item_id)
        raise Conflict("Someone else is already replying to this conversation.")
    audit(
        session,
        conversation.workspace_id,
        conversation.id,
        "reply_awaiting_approval" if held else "reply_queued",
        user_id=user.id,
        reply=reply.id,
    )
    return reply


def approve_reply(session: Session, reply: Reply, manager: User, body: str | None = None) -> Reply:
    """A manager (or admin) lets a held reply go, possibly after editing it; refused
    (ReplyCollision, with what was sent) when someone answered since the reply was written."""
    if manager.role not in (Role.manager, Role.admin):
        raise Forbidden("Only a manager can approve a reply.")
    if reply.status != "awaiting_approval":
        raise Conflict(f"This reply is not waiting for approval (it is {reply.status}).")
    conversation = session.get(Conversation, reply.conversation_id)
    if conversation is not None:
        _check_collisions(session, conversation, None, held=reply)
    edited = False
    if body is not None:
        network = conversation.network if conversation is not None else ""
        text = check_body(network, body)
        edited = text != reply.body
        reply.body = text
    reply.status = "queued"
    reply.approved_by_id = manager.id
    session.flush()
    audit(
        session,
        reply.workspace_id,
        reply.conversation_id,
        "reply_approved",
        user_id=manager.id,
        reply=reply.id,
        edited=edited,
    )
    return reply


def discard_reply(session: Session, reply: Reply, user: User) -> Reply:
    """Withdraw a reply not sent yet: its author, or a manager, may (status `discarded`)."""
    if user.id != reply.user_id and user.role not in (Role.manager, Role.admin):
        raise Forbidden("Only its author or a manager can discard a reply.")
    # Conditional, so a reply a runner has just started sending is not discarded under it.
    result = session.execute(
        update(Reply)
        .where(Reply.id == reply.id, Reply.status.in_(("awaiting_approval", "queued")))
        .values(status="discarded")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(reply)
        raise Conflict(f"This reply can no longer be discarded (it is {reply.status}).")
    session.refresh(reply)
    audit(
        session,
        reply.workspace_id,
        reply.conversation_id,
        "reply_discarded",
        user_id=user.id,
        reply=reply.id,
    )
    return reply


@dataclass(slots=True)
class DeliveryReport:
    """What one delivery round did, by reply id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # Sent, but the stored post did not join the conversation (no brand account any more?).
    unrouted: list[int] = field(default_factory=list)
    answers: int = 0

    @property
    def busy(self) -> bool:
        """Whether the round did anything."""
        return bool(self.sent or self.retrying or self.failed or self.answers)


@dataclass(slots=True)
class _Claim:
    reply_id: int
    attempts: int
    network: str


def claim_first(
    session: Session, statement: Select[*tuple[Any, ...]], model: Any, now: datetime
) -> Any:
    """Mark the first row that `statement` selects (its id, status and attempts first)
    `sending`, counting the attempt; the row as selected, or None when nothing is due or another
    runner took it first. The model has no "sending since" column: `next_attempt_at` records
    when this attempt started, which finding a send left by a dead runner needs. The outbox of
    publications claims the same way."""
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=model)
    row = session.execute(statement).first()
    if row is None:
        return None
    row_id, status, attempts = row[0], row[1], row[2]
    claimed = session.execute(
        update(model)
        .where(model.id == row_id, model.status == status, model.attempts == attempts)
        .values(status="sending", attempts=attempts + 1, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return row if claimed.rowcount == 1 else None  # type: ignore[attr-defined]


def _claim_next(
    factory: sessionmaker[Session], networks: list[str], now: datetime
) -> _Claim | None:
    """Mark the next due reply `sending` (committed), so no other runner sends it meanwhile."""
    with unit_of_work(factory) as session:
        statement = (
            select(Reply.id, Reply.status, Reply.attempts, Conversation.network)
            .join(Conversation, Conversation.id == Reply.conversation_id)
            .where(
                Conversation.network.in_(networks),
                or_(
                    and_(
                        Reply.status == "queued",
                        or_(Reply.next_attempt_at.is_(None), Reply.next_attempt_at <= now),
                    ),
                    # next_attempt_at holds when sending started (see below).
                    and_(Reply.status == "sending", Reply.next_attempt_at < now - STUCK_AFTER),
                ),
            )
            .order_by(Reply.created_at, Reply.id)
            .limit(1)
        )
        row = claim_first(session, statement, Reply, now)
        if row is None:
            return None
        reply_id, _status, attempts, network = row
        return _Claim(reply_id, attempts + 1, network)


def _load(factory: sessionmaker[Session], reply_id: int) -> tuple[Reply, Conversation, Post | None]:
    """The reply and its context, detached: nothing is held open while the network answers."""
    session = factory()
    try:
        reply = session.get(Reply, reply_id)
        assert reply is not None
        conversation = session.get(Conversation, reply.conversation_id)
        assert conversation is not None
        post = session.get(Post, reply.in_reply_to_post_id) if reply.in_reply_to_post_id else None
        if post is not None:
            _ = post.author
        return reply, conversation, post
    finally:
        session.close()


def _still_ours(reply: Reply | None, claim: _Claim) -> bool:
    # Another runner took the reply over (this one was too slow and looked dead): leave it.
    return reply is not None and reply.status == "sending" and reply.attempts == claim.attempts


def _record_sent(
    factory: sessionmaker[Session], claim: _Claim, external_id: str, now: datetime
) -> bool | None:
    """Mark the reply sent and store the published post; whether it joined its conversation
    (None when another runner had taken the reply over)."""
    with unit_of_work(factory) as session:
        reply = session.get(Reply, claim.reply_id)
        if reply is None or not _still_ours(reply, claim):
            return None
        conversation = session.get(Conversation, reply.conversation_id)
        assert conversation is not None
        reply.status, reply.sent_at, reply.external_id = "sent", now, external_id
        reply.error, reply.next_attempt_at = None, None
        session.flush()
        parent = session.get(Post, reply.in_reply_to_post_id) if reply.in_reply_to_post_id else None
        account = brand_account(session, reply.workspace_id, conversation.network)
        published = PostIn(
            id=external_id,
            network=conversation.network,
            text=reply.body,
            created_at=now,
            author=(
                AuthorIn(handle=account.handle, name=account.display_name or account.handle)
                if account is not None
                else None
            ),
            in_reply_to=parent.external_id if parent is not None else None,
            conversation_id=conversation.thread_key,
        )
        run_batch(
            session,
            reply.workspace_id,
            [published],
            load_query_index(session, reply.workspace_id),
        )
        joined = session.scalar(
            select(ConversationItem.id)
            .join(Post, Post.id == ConversationItem.post_id)
            .where(
                Post.network == conversation.network,
                Post.external_id == external_id,
                ConversationItem.conversation_id == conversation.id,
                ConversationItem.inbound.is_(False),
            )
        )
        audit(
            session,
            reply.workspace_id,
            conversation.id,
            "reply_sent",
            user_id=reply.user_id,
            at=now,
            reply=reply.id,
            external_id=external_id,
        )
        if joined is None:
            log.warning(
                "reply %s was sent but did not join conversation %s", reply.id, conversation.id
            )
        return joined is not None


def retry_delay(error: Exception, attempts: int) -> timedelta | None:
    """When to try a send again after `error` on attempt number `attempts`: the time a rate
    limit gave, else an exponential back-off; None when it is not worth retrying (a permanent
    error, or too many attempts). The outbox of publications follows the same rule."""
    if not isinstance(error, RetryableError) or attempts >= MAX_ATTEMPTS:
        return None
    # A connector's error says whether the network gave a time (`requested_delay`); without
    # one, the outbox backs off on its own instead of a flat default.
    requested: float | None = getattr(error, "requested_delay", error.delay)
    if requested is not None:
        return timedelta(seconds=requested)
    return min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_MAX)


def _record_failure(
    factory: sessionmaker[Session], claim: _Claim, error: Exception, now: datetime
) -> str | None:
    """Back off or give up; the reply's new status (None when it is no longer ours)."""
    with unit_of_work(factory) as session:
        reply = session.get(Reply, claim.reply_id)
        if reply is None or not _still_ours(reply, claim):
            return None
        message = str(error) or type(error).__name__
        delay = retry_delay(error, reply.attempts)
        if delay is not None:
            reply.status, reply.error, reply.next_attempt_at = "queued", message, now + delay
            return "queued"
        if isinstance(error, RetryableError):
            message = f"gave up after {reply.attempts} attempts: {message}"
        reply.status, reply.error, reply.next_attempt_at = "failed", message, None
        audit(
            session,
            reply.workspace_id,
            reply.conversation_id,
            "reply_failed",
            user_id=reply.user_id,
            at=now,
            reply=reply.id,
            error=message,
        )
        return "failed"


def _store_answers(
    factory: sessionmaker[Session], connectors: Mapping[str, ReplySender], now: datetime
) -> int:
    stored = 0
    seen: set[int] = set()
    for connector in connectors.values():
        if id(connector) in seen or not isinstance(connector, AnsweringSender):
            continue
        seen.add(id(connector))
        by_workspace: dict[int, list[dict[str, Any]]] = {}
        for workspace_id, record in connector.pending_answers(now):
            by_workspace.setdefault(workspace_id, []).append(record)
        for workspace_id, records in by_workspace.items():
            with unit_of_work(factory) as session:
                posts = [PostIn.model_validate(record) for record in records]
                result = run_batch(
                    session, workspace_id, posts, load_query_index(session, workspace_id), records
                )
                stored += result.imported
    return stored


def deliver_due(
    session_factory: sessionmaker[Session],
    connectors: Mapping[str, ReplySender],
    now: datetime | None = None,
    limit: int = 50,
) -> DeliveryReport:
    """Send the replies that are due through their network's connector (by network name), each
    in its own transactions, and store what the networks answered back; replies of networks
    without a connector wait. Safe to run in several runners at once."""
    now = now or utcnow()
    report = DeliveryReport()
    networks = sorted(connectors)
    if not networks:
        return report
    for _ in range(limit):
        claim = _claim_next(session_factory, networks, now)
        if claim is None:
            break
        reply, conversation, in_reply_to = _load(session_factory, claim.reply_id)
        try:
            external_id = connectors[claim.network].send_reply(reply, conversation, in_reply_to)
        except Exception as error:  # noqa: BLE001 - a network's failure is recorded, not raised
            log.info("reply %s not sent: %s", claim.reply_id, error)
            outcome = _record_failure(session_factory, claim, error, now)
            if outcome == "queued":
                report.retrying.append(claim.reply_id)
            elif outcome == "failed":
                report.failed.append(claim.reply_id)
            continue
        joined = _record_sent(session_factory, claim, external_id, now)
        if joined is not None:
            report.sent.append(claim.reply_id)
            if not joined:
                report.unrouted.append(claim.reply_id)
    report.answers = _store_answers(session_factory, connectors, now)
    return report
