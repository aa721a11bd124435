"""A workspace is a brand with its competitors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clameur.kit.time import utcnow
from clameur.store.base import Base, UTCDateTime


class Workspace(Base):
    """A brand watched and served by a team."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    competitors: Mapped[list[Competitor]] = relationship(
        back_populates="workspace", cascade="all, delete-orphan", order_by="Competitor.name"
    )


class Competitor(Base):
    """A competitor brand the workspace compares itself with."""

    __tablename__ = "competitors"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))

    workspace: Mapped[Workspace] = relationship(back_populates="competitors")
