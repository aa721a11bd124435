"""The brand's own accounts on the networks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clameur.kit.time import utcnow
from clameur.store.base import Base, UTCDateTime


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
