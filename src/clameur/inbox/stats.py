"""What the team did in the inbox over a period: replies sent, waiting, response times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clameur.models import Conversation, Reply


@dataclass(frozen=True, slots=True)
class ReplyStats:
    """The inbox's activity over a period."""

    replies_sent: int
    replies_awaiting_approval: int
    conversations: int
    answered: int
    median_first_response_minutes: float | None


def reply_stats(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> ReplyStats:
    """Replies sent and first-response times of the conversations that started in the period."""
    sent = session.scalar(
        select(func.count(Reply.id)).where(
            Reply.workspace_id == workspace_id,
            Reply.status == "sent",
            Reply.sent_at >= since,
            Reply.sent_at <= until,
        )
    )
    waiting = session.scalar(
        select(func.count(Reply.id)).where(
            Reply.workspace_id == workspace_id,
            Reply.status == "awaiting_approval",
            Reply.created_at >= since,
            Reply.created_at <= until,
        )
    )
    rows = session.execute(
        select(Conversation.first_inbound_at, Conversation.first_response_at).where(
            Conversation.workspace_id == workspace_id,
            Conversation.first_inbound_at >= since,
            Conversation.first_inbound_at <= until,
        )
    ).all()
    delays = [
        (answered - asked).total_seconds() / 60 for asked, answered in rows if answered and asked
    ]
    return ReplyStats(
        replies_sent=int(sent or 0),
        replies_awaiting_approval=int(waiting or 0),
        conversations=len(rows),
        answered=len(delays),
        median_first_response_minutes=round(median(delays), 1) if delays else None,
    )
