"""In-app notifications: what a person should know about, under the bell until read.

Each notification has a `key` naming the event it tells about; the database keeps one per
person and key, so an event noticed twice (two runners, a job run again) is told once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clameur.kit.time import utcnow
from clameur.models import Notification, Role, User


def manager_ids(session: Session) -> list[int]:
    """The active managers and administrators: who is told about breaches, alerts, accounts."""
    return list(
        session.scalars(
            select(User.id).where(User.active.is_(True), User.role.in_((Role.manager, Role.admin)))
        )
    )


def notify(
    session: Session,
    workspace_id: int,
    user_ids: Iterable[int],
    kind: str,
    key: str,
    title: str,
    body: str = "",
    link: str = "",
    at: datetime | None = None,
) -> int:
    """Tell each person once about the event `key`; how many were told now."""
    wanted = set(user_ids)
    if not wanted:
        return 0
    told = set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.user_id.in_(wanted), Notification.key == key
            )
        )
    )
    created = 0
    for user_id in sorted(wanted - told):
        try:
            with session.begin_nested():
                session.add(
                    Notification(
                        workspace_id=workspace_id,
                        user_id=user_id,
                        kind=kind,
                        key=key,
                        title=title,
                        body=body,
                        link=link,
                        created_at=at or utcnow(),
                    )
                )
                session.flush()
        except IntegrityError:
            continue  # another runner told them meanwhile
        created += 1
    return created


def unread_count(session: Session, workspace_id: int, user_id: int) -> int:
    """Notifications the person has not read yet, in this workspace."""
    return int(
        session.scalar(
            select(func.count()).where(
                Notification.user_id == user_id,
                Notification.workspace_id == workspace_id,
                Notification.read_at.is_(None),
            )
        )
        or 0
    )


def recent(
    session: Session, workspace_id: int, user_id: int, limit: int = 20
) -> list[Notification]:
    """The person's latest notifications in this workspace, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.workspace_id == workspace_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(
    session: Session, workspace_id: int, user_id: int, notification_id: int | None = None
) -> int:
    """Mark one notification (or all of them) read; how many changed."""
    statement = update(Notification).where(
        Notification.user_id == user_id,
        Notification.workspace_id == workspace_id,
        Notification.read_at.is_(None),
    )
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    result = session.execute(
        statement.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
