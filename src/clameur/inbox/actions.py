"""What the team does to conversations: read them, assign, change status, tag, note, and see
who else is on a conversation right now. Every change is recorded in the audit trail."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.orm import Session

from clameur.inbox.notifications import notify
from clameur.inbox.routing import audit
from clameur.kit.errors import ClameurError, NotFound
from clameur.kit.time import utcnow
from clameur.models import (
    AuditEvent,
    Author,
    Conversation,
    ConversationItem,
    Customer,
    CustomerIdentity,
    Note,
    Post,
    Presence,
    Queue,
    Role,
    User,
)
from clameur.models.inbox import STATUSES

# A heartbeat older than this means the person left.
PRESENCE_TTL = timedelta(seconds=12)
_MENTION = re.compile(r"@([\w.\-]+)")
VIEWS = ("all", "mine", "unassigned")


class NotAssignable(ClameurError):
    """The person chosen cannot be given conversations (read-only access)."""

    def __init__(self, user: User) -> None:
        super().__init__(
            f"{user.name} has read-only access and cannot be given conversations: choose an "
            "agent, a manager or an administrator."
        )
        self.user_name = user.name


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """Which conversations the list shows."""

    status: str = "open"
    queue: str | None = None  # a queue's slug
    view: str = "all"  # all, mine, unassigned


def get_conversation(session: Session, workspace_id: int, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.workspace_id != workspace_id:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


def list_conversations(
    session: Session, workspace_id: int, user_id: int, wanted: InboxFilter, limit: int = 100
) -> list[Conversation]:
    """Most urgent first, then the longest waiting; snoozed ones come back when due."""
    wake_up(session, workspace_id)
    statement = select(Conversation).where(
        Conversation.workspace_id == workspace_id,
        Conversation.status == (wanted.status if wanted.status in STATUSES else "open"),
        Conversation.hidden.is_(False),
    )
    if wanted.queue:
        statement = statement.where(
            Conversation.queue_id
            == select(Queue.id)
            .where(Queue.workspace_id == workspace_id, Queue.slug == wanted.queue)
            .scalar_subquery()
        )
    if wanted.view == "mine":
        statement = statement.where(Conversation.assignee_id == user_id)
    elif wanted.view == "unassigned":
        statement = statement.where(Conversation.assignee_id.is_(None))
    # The priority counts the waiting time already; among equals, the newest first. Both
    # orders walk the inbox index backwards: no sort, whatever the number of conversations.
    statement = statement.order_by(Conversation.priority.desc(), Conversation.id.desc())
    return list(session.scalars(statement.limit(limit)))


def wake_up(session: Session, workspace_id: int) -> None:
    """Snoozed conversations whose time has come are open again."""
    session.execute(
        update(Conversation)
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.status == "snoozed",
            Conversation.snoozed_until <= utcnow(),
        )
        .values(status="open", snoozed_until=None)
        .execution_options(synchronize_session=False)
    )


def counts(session: Session, workspace_id: int, user_id: int) -> dict[str, int]:
    """Open conversations per queue slug, plus "all", "mine" and "unassigned"."""
    base = select(func.count()).where(
        Conversation.workspace_id == workspace_id,
        Conversation.status == "open",
        Conversation.hidden.is_(False),
    )
    out = {
        "all": int(session.scalar(base) or 0),
        "mine": int(session.scalar(base.where(Conversation.assignee_id == user_id)) or 0),
        "unassigned": int(session.scalar(base.where(Conversation.assignee_id.is_(None))) or 0),
    }
    for slug, count in session.execute(
        select(Queue.slug, func.count(Conversation.id))
        .outerjoin(
            Conversation,
            and_(
                Conversation.queue_id == Queue.id,
                Conversation.status == "open",
                Conversation.hidden.is_(False),
            ),
        )
        .where(Queue.workspace_id == workspace_id)
        .group_by(Queue.slug)
    ):
        out[slug] = int(count)
    return out


@dataclass(slots=True)
class Thread:
    """A conversation as its page shows it."""

    conversation: Conversation
    messages: list[tuple[Post, bool]]
    customer: Customer | None
    handles: list[Author]
    past: list[Conversation]
    notes: list[tuple[Note, str]]
    history: list[tuple[AuditEvent, str]]
    latest_item_id: int | None


def read_thread(session: Session, workspace_id: int, conversation_id: int) -> Thread:
    conversation = get_conversation(session, workspace_id, conversation_id)
    rows = session.execute(
        select(Post, ConversationItem.inbound, ConversationItem.id)
        .join(ConversationItem, ConversationItem.post_id == Post.id)
        .where(ConversationItem.conversation_id == conversation.id)
        .order_by(ConversationItem.created_at, ConversationItem.id)
    ).unique()
    messages, latest = [], None
    for post, inbound, item_id in rows:
        messages.append((post, bool(inbound)))
        latest = item_id if latest is None else max(latest, item_id)
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id else None
    handles: list[Author] = []
    past: list[Conversation] = []
    if customer is not None:
        handles = list(
            session.scalars(
                select(Author)
                .join(CustomerIdentity, CustomerIdentity.author_id == Author.id)
                .where(CustomerIdentity.customer_id == customer.id)
            )
        )
        past = list(
            session.scalars(
                select(Conversation)
                .where(Conversation.customer_id == customer.id, Conversation.id != conversation.id)
                .order_by(Conversation.id.desc())
                .limit(10)
            )
        )
    names = _names(session)
    notes = [
        (note, names.get(note.user_id or 0, ""))
        for note in session.scalars(
            select(Note).where(Note.conversation_id == conversation.id).order_by(Note.id)
        )
    ]
    history = [
        (event, names.get(event.user_id or 0, ""))
        for event in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.conversation_id == conversation.id)
            .order_by(AuditEvent.id.desc())
            .limit(20)
        )
    ]
    return Thread(conversation, messages, customer, handles, past, notes, history, latest)


def _names(session: Session) -> dict[int, str]:
    return {user_id: name for user_id, name in session.execute(select(User.id, User.name))}


def _touch(conversation: Conversation) -> None:
    conversation.updated_at = utcnow()


def assignable_users(session: Session) -> list[User]:
    """Everyone who can be given conversations: active, and not read-only; by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.role != Role.viewer)
            .order_by(User.name, User.id)
        )
    )


def check_assignee(session: Session, assignee_id: int) -> User:
    """The user who would be given conversations; refused (NotAssignable) when read-only."""
    assignee = session.get(User, assignee_id)
    if assignee is None or not assignee.active:
        raise ClameurError(f"no active user {assignee_id}")
    if not assignee.can_edit:
        raise NotAssignable(assignee)
    return assignee


def assign(session: Session, conversation: Conversation, assignee_id: int | None, by: User) -> None:
    """Give the conversation to someone (or to nobody); the history keeps who had it. A
    read-only viewer cannot be given one (NotAssignable)."""
    if assignee_id is not None:
        check_assignee(session, assignee_id)
    if conversation.assignee_id == assignee_id:
        return
    previous = conversation.assignee_id
    conversation.assignee_id = assignee_id
    _touch(conversation)
    audit(
        session,
        conversation.workspace_id,
        conversation.id,
        "assigned",
        by.id,
        to=assignee_id,
        previous=previous,
    )


def set_status(
    session: Session,
    conversation: Conversation,
    status: str,
    by: User,
    snoozed_until: datetime | None = None,
) -> None:
    """Open, pending (waiting for the customer), snoozed (until a time) or resolved."""
    if status not in STATUSES:
        raise ClameurError(f"unknown status {status!r}: use {', '.join(STATUSES)}")
    if status == "snoozed" and (snoozed_until is None or snoozed_until <= utcnow()):
        raise ClameurError("snooze until a time in the future")
    if conversation.status == status and status != "snoozed":
        return
    previous = conversation.status
    conversation.status = status
    conversation.snoozed_until = snoozed_until if status == "snoozed" else None
    conversation.resolved_at = utcnow() if status == "resolved" else None
    _touch(conversation)
    data: dict[str, Any] = {"to": status, "previous": previous}
    if snoozed_until is not None:
        data["until"] = snoozed_until.isoformat()
    audit(session, conversation.workspace_id, conversation.id, "status", by.id, **data)


def tag(
    session: Session,
    conversation: Conversation,
    add: Sequence[str],
    remove: Sequence[str],
    by: User,
) -> None:
    tags = [t for t in (conversation.tags or []) if t not in set(remove)]
    tags += [t.strip() for t in add if t.strip() and t.strip() not in tags]
    if tags == list(conversation.tags or []):
        return
    conversation.tags = tags
    _touch(conversation)
    audit(
        session,
        conversation.workspace_id,
        conversation.id,
        "tagged",
        by.id,
        added=list(add),
        removed=list(remove),
    )


def add_note(session: Session, conversation: Conversation, body: str, by: User) -> Note:
    """An internal note; @mentions of colleagues (by the first word of their name or their
    e-mail's local part) are recorded."""
    body = body.strip()
    if not body:
        raise ClameurError("a note cannot be empty")
    wanted = {name.lower() for name in _MENTION.findall(body)}
    mentioned = []
    if wanted:
        for user in session.scalars(select(User).where(User.active.is_(True))):
            keys = {user.email.split("@", 1)[0].lower(), user.name.split(" ", 1)[0].lower()}
            if keys & wanted:
                mentioned.append(user.id)
    note = Note(conversation_id=conversation.id, user_id=by.id, body=body, mentions=mentioned)
    session.add(note)
    _touch(conversation)
    audit(session, conversation.workspace_id, conversation.id, "noted", by.id, mentions=mentioned)
    session.flush()
    notify(
        session,
        conversation.workspace_id,
        [user_id for user_id in mentioned if user_id != by.id],
        "inbox.mention",
        f"note:{note.id}",
        by.name,
        body[:300],
        f"/inbox?c={conversation.id}",
    )
    return note


def heartbeat(
    session: Session, conversation: Conversation, user: User, state: str = "viewing"
) -> list[tuple[str, str]]:
    """Record that `user` is on the conversation; returns the others there now (name, state)."""
    now = utcnow()
    state = "typing" if state == "typing" else "viewing"
    session.execute(
        delete(Presence).where(
            Presence.conversation_id == conversation.id, Presence.user_id == user.id
        )
    )
    session.add(
        Presence(conversation_id=conversation.id, user_id=user.id, state=state, seen_at=now)
    )
    session.flush()
    return others_present(session, conversation.id, user.id, now)


def others_present(
    session: Session, conversation_id: int, user_id: int, now: datetime | None = None
) -> list[tuple[str, str]]:
    now = now or utcnow()
    return [
        (name, state)
        for name, state in session.execute(
            select(User.name, Presence.state)
            .join(User, User.id == Presence.user_id)
            .where(
                Presence.conversation_id == conversation_id,
                Presence.user_id != user_id,
                Presence.seen_at >= now - PRESENCE_TTL,
            )
            .order_by(User.name)
        )
    ]
