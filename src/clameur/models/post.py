"""Posts: everything heard on the networks (posts, comments, mentions, messages)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clameur.kit.time import utcnow
from clameur.models.author import Author
from clameur.store.base import Base, BigId, Json, UTCDateTime


class Post(Base):
    """One post, stored once per (network, external id)."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("network", "external_id"),
        Index("ix_posts_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_posts_workspace_network_created", "workspace_id", "network", "created_at", "id"),
        Index("ix_posts_workspace_lang_created", "workspace_id", "lang", "created_at", "id"),
        Index(
            "ix_posts_workspace_sentiment_created", "workspace_id", "sentiment", "created_at", "id"
        ),
        Index("ix_posts_conversation", "conversation_key"),
        Index(
            "ix_posts_reply",
            "network",
            "in_reply_to",
            sqlite_where=text("in_reply_to IS NOT NULL"),
            postgresql_where=text("in_reply_to IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("authors.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    metrics: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    in_reply_to: Mapped[str | None] = mapped_column(String(200), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), nullable=True
    )
    conversation_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sentiment: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sentiment_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    intents: Mapped[list[str]] = mapped_column(Json, default=list)
    hostile: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # Near-duplicates point at the first post of their group; the original counts its group.
    duplicate_of_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="SET NULL"), nullable=True
    )
    duplicate_count: Mapped[int] = mapped_column(Integer, default=1)
    influence: Mapped[float | None] = mapped_column(Float, nullable=True)
    # {"language": {"version": "py3langid-0.3", "value": "fr", "score": 0.97}, ...}
    enrichments: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    raw: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    # A direct message (seen by the brand's account only): inbox, not listening nor radar.
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    author: Mapped[Author | None] = relationship(lazy="joined")


class Match(Base):
    """A post that a saved query matched; ordered by the post's time for fast listing."""

    __tablename__ = "matches"
    # One b-tree, in the order the listening page reads it: a query's posts by time. A post has
    # one time, so (query, post) stays unique. Matches are written ~8 times per post in dense
    # workspaces, so no second index: removing posts is rare and goes through their queries.
    __table_args__ = {"sqlite_with_rowid": False}

    query_id: Mapped[int] = mapped_column(
        ForeignKey("saved_queries.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )


class Correction(Base):
    """A person's correction of what the analysis said about a post (kept for retraining)."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_corrections_field_created", "field", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # "sentiment" (value: a label), "intents" (value: a list) or "hostile" (value: a bool).
    field: Mapped[str] = mapped_column(String(16))
    value: Mapped[Any] = mapped_column(Json)
    previous: Mapped[Any] = mapped_column(Json, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
