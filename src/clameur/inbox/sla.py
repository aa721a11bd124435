"""Service-level breaches: a conversation whose response or resolution is overdue tells the
managers, once per breach.

Due times are computed in business hours when the conversation is triaged (inbox.triage), so a
message sent on Friday evening is due on Monday and nobody is told on Saturday. A runner pass
(`notify_breaches`) looks for due times that have passed and not been told yet:
`Conversation.sla_notified_through` holds the latest due time already told, and each
notification's key names the conversation, the timer and its due time, so two runners noticing
the same breach still tell each manager once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from clameur.inbox.notifications import manager_ids, notify
from clameur.inbox.routing import audit
from clameur.kit.time import utcnow
from clameur.models import Conversation, Customer

WATCHED = ("open", "pending")
# A breach older than this when first noticed (history just imported, a runner stopped for
# days) is recorded without telling anyone: an alarm about last week helps nobody.
NOTIFY_WITHIN = timedelta(hours=24)
KINDS = {"first_response": "sla_first_response", "resolution": "sla_resolution"}


@dataclass(slots=True)
class BreachReport:
    """What one pass did."""

    breaches: list[tuple[int, str]] = field(default_factory=list)  # (conversation, timer)
    notifications: int = 0
    skipped_old: int = 0


def _breached(conversation: Conversation, now: datetime) -> list[tuple[str, datetime]]:
    """The conversation's timers that are overdue and not told yet, with their due times."""
    told = conversation.sla_notified_through
    found = []
    due = conversation.first_response_due
    if conversation.waiting_since is not None and due is not None and due <= now:
        if told is None or due > told:
            found.append(("first_response", due))
    due = conversation.resolution_due
    if conversation.resolved_at is None and due is not None and due <= now:
        if told is None or due > told:
            found.append(("resolution", due))
    return found


def notify_breaches(
    session: Session, now: datetime | None = None, limit: int = 500
) -> BreachReport:
    """Tell the managers about each response or resolution that has become overdue since the
    last pass (every workspace); idempotent, safe in several runners at once."""
    now = now or utcnow()
    report = BreachReport()
    told = Conversation.sla_notified_through
    candidates = session.scalars(
        select(Conversation)
        .where(
            Conversation.status.in_(WATCHED),
            Conversation.spam.is_(False),
            Conversation.hidden.is_(False),
            or_(
                and_(
                    Conversation.waiting_since.is_not(None),
                    Conversation.first_response_due <= now,
                    or_(told.is_(None), Conversation.first_response_due > told),
                ),
                and_(
                    Conversation.resolved_at.is_(None),
                    Conversation.resolution_due <= now,
                    or_(told.is_(None), Conversation.resolution_due > told),
                ),
            ),
        )
        .order_by(Conversation.id)
        .limit(limit)
    ).all()
    if not candidates:
        return report
    managers = manager_ids(session)
    names = {
        customer_id: name
        for customer_id, name in session.execute(
            select(Customer.id, Customer.name).where(
                Customer.id.in_({c.customer_id for c in candidates if c.customer_id})
            )
        )
    }
    for conversation in candidates:
        breaches = _breached(conversation, now)
        if not breaches:
            continue
        customer = names.get(conversation.customer_id or -1, "")
        for timer, due in breaches:
            report.breaches.append((conversation.id, timer))
            if now - due > NOTIFY_WITHIN:
                report.skipped_old += 1
                continue
            what = "First response" if timer == "first_response" else "Resolution"
            report.notifications += notify(
                session,
                conversation.workspace_id,
                managers,
                KINDS[timer],
                f"sla:{conversation.id}:{timer}:{due.isoformat()}",
                f"{what} overdue: {customer or f'conversation {conversation.id}'}",
                customer,
                f"/inbox?c={conversation.id}",
                at=now,
            )
            audit(
                session,
                conversation.workspace_id,
                conversation.id,
                "sla_breached",
                at=now,
                timer=timer,
                due=due.isoformat(),
            )
        conversation.sla_notified_through = max(due for _timer, due in breaches)
    session.flush()
    return report
