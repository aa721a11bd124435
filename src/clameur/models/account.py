"""The brand's own accounts on the networks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clameur.kit.time import utcnow
from clameur.store.base import Base, BigId, Json, UTCDateTime

ACCOUNT_STATUSES = ("active", "paused", "needs_attention")


class NetworkAccount(Base):
    """An account of the workspace on a network (a page, a profile, a channel)."""

    __tablename__ = "network_accounts"
    __table_args__ = (UniqueConstraint("workspace_id", "network", "handle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="active")
    # Encrypted connector configuration (tokens); never stored in clear.
    config_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Where each listen source stopped ({source key: checkpoint}), saved with the posts it read.
    checkpoints: Mapped[dict[str, Any]] = mapped_column(
        Json, default=dict, server_default=text("'{}'")
    )
    # Health: the last good and bad outcomes, and when the rate limit allows the next call.
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fetched_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    fetched_today: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """A push from a network, stored as received before anything is made of it."""

    __tablename__ = "webhook_deliveries"
    # A redelivery (same account, same body) is recognised and not processed twice.
    __table_args__ = (UniqueConstraint("account_id", "digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("network_accounts.id", ondelete="CASCADE"), index=True
    )
    network: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    headers: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # "received", "processed", "rejected" (bad signature: nothing read) or "failed".
    status: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
