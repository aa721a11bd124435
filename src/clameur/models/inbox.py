"""The inbox: customers, conversations and what the team does with them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clameur.kit.time import utcnow
from clameur.store.base import Base, BigId, Json, UTCDateTime

STATUSES = ("open", "pending", "snoozed", "resolved")
REPLY_IN_FLIGHT = ("awaiting_approval", "queued", "sending")
IN_FLIGHT_SQL = "status IN ('awaiting_approval', 'queued', 'sending')"


class Customer(Base):
    """A person the team talks to, across networks (one or more authors)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    # A customer merged into another keeps pointing at it; its authors moved there.
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerIdentity(Base):
    """One of a customer's accounts (an author on a network)."""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("workspace_id", "author_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("authors.id", ondelete="CASCADE"))


class Queue(Base):
    """Where conversations wait: Care, Engagement, Moderation, or the team's own."""

    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # How new conversations of the queue find an agent: "manual", "round_robin" or "load".
    assignment: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")
    # Round-robin's cursor: the agent who got the queue's last conversation.
    last_assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class SlaPolicy(Base):
    """First-response and resolution targets per priority level, in business hours."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # {"urgent": {"first_response": 30, "resolution": 240}, ...}: minutes of business time.
    targets: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # The business calendar (clameur.inbox.calendar settings): hours, zone, holidays.
    calendar: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class Rule(Base):
    """A triage rule: a condition in the query language, and what to do when it holds."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    # Query language (`intent:complaint OR sentiment:negative`); empty means every item.
    condition: Mapped[str] = mapped_column(Text, default="")
    min_followers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    network: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Messages that mention or answer this account of the workspace.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_accounts.id", ondelete="CASCADE"), nullable=True
    )
    # "any", "open" (inside business hours) or "closed".
    hours: Mapped[str] = mapped_column(String(8), default="any")
    # {"queue": slug, "assign": user id, "tags": [...], "priority": level, "sla": policy id,
    #  "hide": bool, "spam": bool, "approval": bool, "acknowledge": saved reply id}
    actions: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    stop: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conversation(Base):
    """A thread with a customer (replies of a public post, or a direct-message thread)."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("workspace_id", "network", "thread_key"),
        # The list and its counts read these in order: no sort and no row lookups.
        Index("ix_conversations_inbox", "workspace_id", "status", "hidden", "priority", "id"),
        Index(
            "ix_conversations_queue",
            "workspace_id",
            "status",
            "hidden",
            "queue_id",
            "priority",
            "id",
        ),
        Index("ix_conversations_assignee", "workspace_id", "status", "hidden", "assignee_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    # The external id of the thread's first post (or the direct-message thread's id).
    thread_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8), default="public")
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    queue_id: Mapped[int | None] = mapped_column(
        ForeignKey("queues.id", ondelete="SET NULL"), nullable=True
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=0)
    priority_level: Mapped[str] = mapped_column(String(8), default="low")
    priority_reasons: Mapped[list[Any]] = mapped_column(Json, default=list)
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"), nullable=True
    )
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    spam: Mapped[bool] = mapped_column(Boolean, default=False)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    first_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The customer's oldest message not answered yet (None when the team spoke last).
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The latest due time whose breach a manager was told about (each breach is told once).
    sla_notified_through: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationItem(Base):
    """A post of a conversation: the customer's (inbound) or the team's (outbound)."""

    __tablename__ = "conversation_items"
    __table_args__ = (Index("ix_conversation_items_conversation", "conversation_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), unique=True
    )
    inbound: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Note(Base):
    """An internal note on a conversation, with @mentions of colleagues."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[int]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """Who did what to a conversation, and when (rules act as nobody)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reply(Base):
    """A reply on its way to the network (the outbox): sent once, whatever happens."""

    __tablename__ = "replies"
    __table_args__ = (
        Index("ix_replies_status", "status", "next_attempt_at"),
        # One reply in flight per conversation, enforced by the database itself.
        Index(
            "uq_replies_in_flight",
            "conversation_id",
            unique=True,
            sqlite_where=text(IN_FLIGHT_SQL),
            postgresql_where=text(IN_FLIGHT_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    in_reply_to_post_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text)
    # awaiting_approval -> queued -> sending -> sent | failed (queued again on a retry).
    status: Mapped[str] = mapped_column(String(20), default="queued")
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SavedReply(Base):
    """A reply template with variables ({customer}, {agent}, {brand})."""

    __tablename__ = "saved_replies"
    __table_args__ = (UniqueConstraint("workspace_id", "name", "lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(8), default="fr")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Presence(Base):
    """Who is looking at (or typing in) a conversation right now: a heartbeat per user."""

    __tablename__ = "presence"

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # "viewing" or "typing"
    state: Mapped[str] = mapped_column(String(8), default="viewing")
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """Something a person should know about (an SLA breach), shown under the bell until read."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The same event is told once to each person, however many runners notice it.
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_unread", "user_id", "workspace_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
