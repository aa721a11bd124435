"""Crisis mode: declared by a manager, it slows the team down where haste costs most.

While a crisis is on, replies to the conversations it covers wait for a manager's approval and
rise in priority (the inbox asks `covers`), promotional posts are held (the publishing side asks
`crisis_flag`), and the crisis room shows the live timeline. Switching it off writes the
post-mortem: timeline, peaks, response times, what was said; exportable as Markdown or JSON.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clameur.inbox.stats import reply_stats
from clameur.kit.errors import Conflict, NotFound
from clameur.kit.time import utcnow
from clameur.models import Alert, CrisisMode, Match, Post, RadarBucket, SavedQuery
from clameur.radar.series import GRAIN_SPANS, bucket_start, ensure_series
from clameur.store.rows import workspace_row

# How much a covered conversation's priority rises while the crisis is on.
PRIORITY_BOOST = 30


def active_crisis(session: Session, workspace_id: int) -> CrisisMode | None:
    """The crisis going on in the workspace, if any."""
    return session.scalars(
        select(CrisisMode)
        .where(CrisisMode.workspace_id == workspace_id, CrisisMode.ended_at.is_(None))
        .order_by(CrisisMode.id.desc())
    ).first()


def workspaces_in_crisis() -> Select[int]:
    """The ids of the workspaces where crisis mode is on, as a subquery (publishing's outbox
    leaves their promotional posts waiting)."""
    return select(CrisisMode.workspace_id).where(CrisisMode.ended_at.is_(None))


def crisis_flag(session: Session, workspace_id: int) -> bool:
    """Whether promotional posts must be held now (publishing honours it)."""
    return active_crisis(session, workspace_id) is not None


def covers(session: Session, crisis: CrisisMode | None, post_ids: list[int]) -> bool:
    """Whether the crisis covers a conversation made of these posts."""
    if crisis is None:
        return False
    if crisis.query_id is None:
        return True
    if not post_ids:
        return False
    found = session.scalar(
        select(Match.post_id)
        .where(Match.query_id == crisis.query_id, Match.post_id.in_(post_ids))
        .limit(1)
    )
    return found is not None


def start_crisis(
    session: Session,
    workspace_id: int,
    user_id: int | None,
    reason: str = "",
    query_id: int | None = None,
    alert_id: int | None = None,
) -> CrisisMode:
    """Switch crisis mode on; Conflict when it already is."""
    if active_crisis(session, workspace_id) is not None:
        raise Conflict("crisis mode is already on in this workspace")
    if query_id is not None:
        query = session.get(SavedQuery, query_id)
        if query is None or query.workspace_id != workspace_id:
            raise NotFound(f"no saved query {query_id} in this workspace")
    if alert_id is not None:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.workspace_id != workspace_id:
            raise NotFound(f"no alert {alert_id} in this workspace")
    crisis = CrisisMode(
        workspace_id=workspace_id,
        query_id=query_id,
        alert_id=alert_id,
        reason=reason.strip()[:2000],
        started_at=utcnow(),
        started_by=user_id,
    )
    session.add(crisis)
    session.flush()
    return crisis


def end_crisis(
    session: Session, workspace_id: int, user_id: int | None, now: datetime | None = None
) -> CrisisMode:
    """Switch crisis mode off and write its post-mortem; NotFound when none is on."""
    crisis = active_crisis(session, workspace_id)
    if crisis is None:
        raise NotFound("crisis mode is not on in this workspace")
    crisis.ended_at = now or utcnow()
    crisis.ended_by = user_id
    crisis.report = post_mortem(session, crisis, crisis.ended_at)
    session.flush()
    return crisis


def get_crisis(session: Session, workspace_id: int, crisis_id: int) -> CrisisMode:
    """One crisis of the workspace, on or over."""
    return workspace_row(session, CrisisMode, workspace_id, crisis_id, "crisis")


def list_crises(session: Session, workspace_id: int, limit: int = 20) -> list[CrisisMode]:
    """Past and present crises, newest first."""
    return list(
        session.scalars(
            select(CrisisMode)
            .where(CrisisMode.workspace_id == workspace_id)
            .order_by(CrisisMode.started_at.desc())
            .limit(limit)
        )
    )


def _series_id(session: Session, crisis: CrisisMode) -> int:
    series = ensure_series(session, crisis.workspace_id)
    key = f"query:{crisis.query_id}" if crisis.query_id is not None else "workspace"
    return (series.get(key) or series["workspace"]).id


def timeline(session: Session, crisis: CrisisMode, now: datetime | None = None) -> dict[str, Any]:
    """What happened since the crisis began, hour by hour: volume, negative share, alerts,
    replies sent. Starts six hours before, to show what led to it."""
    now = crisis.ended_at or now or utcnow()
    grain = "h1" if now - crisis.started_at <= timedelta(days=3) else "d1"
    span = GRAIN_SPANS[grain]
    since = bucket_start(crisis.started_at - timedelta(hours=6), grain)
    series_id = _series_id(session, crisis)
    counts: dict[datetime, list[int]] = {}
    for start, volume, negative in session.execute(
        select(RadarBucket.start, RadarBucket.volume, RadarBucket.negative).where(
            RadarBucket.series_id == series_id,
            RadarBucket.grain == grain,
            RadarBucket.start >= since,
            RadarBucket.start <= now,
        )
    ):
        total = counts.setdefault(start, [0, 0])
        total[0] += volume
        total[1] += negative
    hours = []
    moment = since
    while moment <= now:
        volume, negative = counts.get(moment, [0, 0])
        hours.append(
            {
                "start": moment.isoformat(),
                "volume": volume,
                "negative": negative,
                "negative_share": round(100.0 * negative / volume, 1) if volume else 0.0,
            }
        )
        moment += span
    alerts = session.scalars(
        select(Alert)
        .where(
            Alert.workspace_id == crisis.workspace_id,
            Alert.last_seen_at >= since,
            Alert.started_at <= now,
        )
        .order_by(Alert.started_at)
    ).all()
    stats = reply_stats(session, crisis.workspace_id, crisis.started_at, now)
    # Imported here: publishing asks the radar whether a crisis holds its promotional posts.
    from clameur.publishing.service import held_count, published_between

    return {
        "grain": grain,
        "buckets": hours,
        "alerts": [
            {
                "id": a.id,
                "started_at": a.started_at.isoformat(),
                "status": a.status,
                "metric": a.metric,
                "peak_value": a.peak_value,
            }
            for a in alerts
        ],
        "replies": asdict(stats),
        "posts_published": published_between(session, crisis.workspace_id, crisis.started_at, now),
        "promotional_held": held_count(session, crisis.workspace_id),
    }


def post_mortem(session: Session, crisis: CrisisMode, ended_at: datetime) -> dict[str, Any]:
    """The report written when the crisis ends."""
    line = timeline(session, crisis, ended_at)
    during = [
        b
        for b in line["buckets"]
        if b["start"] >= bucket_start(crisis.started_at, line["grain"]).isoformat()
    ]
    peak = max(during, key=lambda b: b["volume"], default=None)
    volume = sum(b["volume"] for b in during)
    negative = sum(b["negative"] for b in during)
    said = _what_was_said(session, crisis, ended_at)
    return {
        "crisis_id": crisis.id,
        "reason": crisis.reason,
        "started_at": crisis.started_at.isoformat(),
        "ended_at": ended_at.isoformat(),
        "duration_minutes": round((ended_at - crisis.started_at).total_seconds() / 60),
        "volume": volume,
        "negative": negative,
        "negative_share": round(100.0 * negative / volume, 1) if volume else 0.0,
        "peak": peak,
        "timeline": line,
        "said": said,
    }


def _what_was_said(
    session: Session, crisis: CrisisMode, until: datetime, limit: int = 10
) -> list[dict[str, Any]]:
    """The most visible negative posts of the crisis."""
    statement = select(Post).where(
        Post.workspace_id == crisis.workspace_id,
        Post.created_at >= crisis.started_at,
        Post.created_at <= until,
        Post.sentiment == "negative",
    )
    if crisis.query_id is not None:
        statement = statement.join(Match, Match.post_id == Post.id).where(
            Match.query_id == crisis.query_id
        )
    posts = session.scalars(
        statement.order_by(Post.duplicate_count.desc(), Post.id).limit(limit)
    ).all()
    return [
        {
            "id": p.id,
            "network": p.network,
            "created_at": p.created_at.isoformat(),
            "author": p.author.handle if p.author is not None else None,
            "text": p.text[:500],
            "copies": p.duplicate_count,
            "url": p.url,
        }
        for p in posts
    ]


def report_markdown(crisis: CrisisMode, report: dict[str, Any]) -> str:
    """The post-mortem as a Markdown document."""
    lines = [
        f"# Post-mortem: crisis #{crisis.id}",
        "",
        f"- Started: {report['started_at']}",
        f"- Ended: {report['ended_at']} ({report['duration_minutes']} minutes)",
        f"- Reason: {report['reason'] or '-'}",
        f"- Posts: {report['volume']}, negative: {report['negative']} "
        f"({report['negative_share']} %)",
    ]
    if report.get("peak"):
        lines.append(
            f"- Peak: {report['peak']['volume']} posts in the bucket of {report['peak']['start']}"
        )
    replies = report["timeline"]["replies"]
    median = replies.get("median_first_response_minutes")
    lines += [
        f"- Replies sent: {replies['replies_sent']}; conversations: {replies['conversations']}, "
        f"answered: {replies['answered']}; median first response: "
        f"{'-' if median is None else f'{median} min'}",
        "",
        "## Timeline",
        "",
        "| bucket | posts | negative | negative share |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {b['start']} | {b['volume']} | {b['negative']} | {b['negative_share']} % |"
        for b in report["timeline"]["buckets"]
    ]
    if report["timeline"]["alerts"]:
        lines += ["", "## Alerts", ""]
        lines += [
            f"- #{a['id']} {a['metric']}, from {a['started_at']}, "
            f"peak {a['peak_value']:g} ({a['status']})"
            for a in report["timeline"]["alerts"]
        ]
    if report["said"]:
        lines += ["", "## What was said", ""]
        lines += [
            f"- {p['created_at']} @{p['author'] or '?'} ({p['network']}, x{p['copies']}): "
            + p["text"].replace("\n", " ")
            for p in report["said"]
        ]
    return "\n".join(lines) + "\n"
