"""The radar: e-reputation series, their anomaly scores, alert rules, alerts and crisis mode."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clameur.kit.time import utcnow
from clameur.store.base import Base, BigId, Json, UTCDateTime


class RadarSeries(Base):
    """One watched series: the whole workspace, the brand, a competitor or a saved query."""

    __tablename__ = "radar_series"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # "workspace", "brand", "competitor:<id>" or "query:<id>".
    key: Mapped[str] = mapped_column(String(64))
    query_id: Mapped[int | None] = mapped_column(
        ForeignKey("saved_queries.id", ondelete="CASCADE"), nullable=True
    )
    competitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("competitors.id", ondelete="CASCADE"), nullable=True
    )
    # The detectors' state, one per metric, so that scoring resumes exactly after a restart.
    volume_state: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    negative_state: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Start of the first 5-minute bucket not scored yet.
    scored_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RadarBucket(Base):
    """What one series counted in one bucket, for one network and language."""

    __tablename__ = "radar_buckets"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("radar_series.id", ondelete="CASCADE"), primary_key=True
    )
    grain: Mapped[str] = mapped_column(String(2), primary_key=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    volume: Mapped[int] = mapped_column(Integer, default=0)
    negative: Mapped[int] = mapped_column(Integer, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    # A HyperLogLog sketch of the authors, so unique authors add up across buckets.
    authors: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class RadarPoint(Base):
    """The detector's reading for one 5-minute bucket of a series: value, band and score."""

    __tablename__ = "radar_points"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("radar_series.id", ondelete="CASCADE"), primary_key=True
    )
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)


class RadarTerm(Base):
    """How often a word, hashtag or phrase appeared in one hour of a series."""

    __tablename__ = "radar_terms"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("radar_series.id", ondelete="CASCADE"), primary_key=True
    )
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RadarProgress(Base):
    """How far the radar has read the workspace's posts (the last post id counted)."""

    __tablename__ = "radar_progress"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    last_post_id: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertRule(Base):
    """When to raise an alert on a series, and whom to tell."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # None: the whole workspace.
    query_id: Mapped[int | None] = mapped_column(
        ForeignKey("saved_queries.id", ondelete="CASCADE"), nullable=True
    )
    # "smart" (the detector), "volume" (more than N posts) or "negative_share" (above X%).
    kind: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(16), default="volume")
    sensitivity: Mapped[float] = mapped_column(Float, default=0.5)
    threshold: Mapped[float] = mapped_column(Float, default=0.0)
    window_minutes: Mapped[int] = mapped_column(Integer, default=60)
    min_volume: Mapped[int] = mapped_column(Integer, default=10)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=120)
    # [{"type": "email", "to": "..."}, {"type": "webhook", "url": "...", "secret": "..."}]
    channels: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """One crisis seen by one rule: opened once, updated while it lasts, then over."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_workspace_started", "workspace_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="SET NULL"), nullable=True
    )
    series_id: Mapped[int] = mapped_column(ForeignKey("radar_series.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The latest and the peak reading that kept the alert open.
    value: Mapped[float] = mapped_column(Float, default=0.0)
    expected: Mapped[float] = mapped_column(Float, default=0.0)
    high: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    peak_value: Mapped[float] = mapped_column(Float, default=0.0)
    updates: Mapped[int] = mapped_column(Integer, default=1)
    seen_by: Mapped[list[int]] = mapped_column(Json, default=list)


class AlertDelivery(Base):
    """An alert message to send on one channel; kept until sent, retried with back-off."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "channel", "event"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alerts.id", ondelete="CASCADE"))
    # Index of the channel in the rule's list plus its type, e.g. "0:webhook".
    channel: Mapped[str] = mapped_column(String(64))
    # "opened", "escalated:<n>" or "over".
    event: Mapped[str] = mapped_column(String(32))
    target: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CrisisMode(Base):
    """A crisis declared by a manager: replies under approval, promotions held, a post-mortem."""

    __tablename__ = "crisis_modes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # The conversations it covers: posts matching this query (None: the whole workspace).
    query_id: Mapped[int | None] = mapped_column(
        ForeignKey("saved_queries.id", ondelete="SET NULL"), nullable=True
    )
    alert_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The post-mortem, written when the crisis mode is switched off.
    report: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
