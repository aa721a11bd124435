"""Publications: posts the brand writes on its own accounts, composed once for several."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from clameur.kit.time import utcnow
from clameur.store.base import Base, BigId, Json, UTCDateTime

# awaiting_approval -> scheduled -> sending -> sent | failed (scheduled again on a retry);
# cancelled from any state before sending.
PUBLICATION_STATUSES = ("awaiting_approval", "scheduled", "sending", "sent", "failed", "cancelled")


class Publication(Base):
    """One post for one account, going out through the outbox once and only once. Posts
    composed together share `batch_key`."""

    __tablename__ = "publications"
    __table_args__ = (Index("ix_publications_due", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("network_accounts.id", ondelete="CASCADE"), index=True
    )
    network: Mapped[str] = mapped_column(String(32))
    batch_key: Mapped[str] = mapped_column(String(36), index=True)
    body: Mapped[str] = mapped_column(Text)
    media_urls: Mapped[list[Any]] = mapped_column(Json, default=list)
    # A description (alt text) of each image, in the order of `media_urls` ("" where none).
    media_alts: Mapped[list[Any]] = mapped_column(Json, default=list, server_default=text("'[]'"))
    # Promotional posts are held while crisis mode is on.
    promotional: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When to try again after a failure; while `sending`, when the attempt started.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
