"""Saved queries: what concerns the brand and its competitors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clameur.kit.time import utcnow
from clameur.store.base import Base, UTCDateTime


class SavedQuery(Base):
    """A named boolean query in Clameur's query language."""

    __tablename__ = "saved_queries"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    competitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("competitors.id", ondelete="SET NULL"), nullable=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Posts it matches become inbox items (a conversation each), like mentions of the brand.
    inbox: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on each edit, so the backfill of an older version stops and matches are rebuilt.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    backfilled_revision: Mapped[int] = mapped_column(Integer, default=0)
    # Kept up to date as posts are matched, so that listing queries never counts matches.
    match_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
