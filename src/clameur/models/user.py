"""People who use Clameur."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from clameur.kit.time import utcnow
from clameur.store.base import Base, UTCDateTime


class Role(enum.StrEnum):
    """What a user may do, from most to least."""

    admin = "admin"
    manager = "manager"
    agent = "agent"
    viewer = "viewer"


class User(Base):
    """A person with a login."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, validate_strings=True), default=Role.agent
    )
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # An agent away gets no new conversations; those already theirs stay theirs.
    away: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # How many open conversations the agent takes at most when a queue assigns by load.
    inbox_capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def can_edit(self) -> bool:
        """Viewers can look but not change anything."""
        return self.role != Role.viewer

    @property
    def is_manager(self) -> bool:
        """Managers and administrators set up what the whole team works with."""
        return self.role in (Role.manager, Role.admin)
