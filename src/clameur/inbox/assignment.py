"""Who gets a new conversation: nobody until someone takes it (manual), the next agent in turn
(round-robin), or the least loaded agent (by load). Agents set themselves away to get nothing
new; what is already theirs stays theirs until a manager reassigns it, and every reassignment
is kept in the conversation's audit trail.

An agent's capacity (open and pending conversations at most) is respected by both automatic
modes: an agent at capacity is skipped, and when everyone is, the conversation waits
unassigned in its queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clameur.inbox.routing import audit
from clameur.kit.errors import ClameurError, Forbidden
from clameur.kit.time import utcnow
from clameur.models import Conversation, Queue, Role, User

MODES = ("manual", "round_robin", "load")
# Open and pending conversations count towards an agent's load; snoozed ones wait for later.
LOADED = ("open", "pending")


@dataclass(frozen=True, slots=True)
class Agent:
    """Someone who can be given conversations, as the team page shows them."""

    id: int
    name: str
    role: str
    away: bool
    capacity: int | None
    load: int

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.load >= self.capacity


def _require_manager(user: User) -> None:
    if user.role not in (Role.manager, Role.admin):
        raise Forbidden("Only a manager can change how conversations are assigned.")


def loads(session: Session, workspace_id: int) -> dict[int, int]:
    """Open and pending conversations per assignee in the workspace."""
    return {
        int(user_id or 0): int(count)
        for user_id, count in session.execute(
            select(Conversation.assignee_id, func.count())
            .where(
                Conversation.workspace_id == workspace_id,
                Conversation.status.in_(LOADED),
                Conversation.assignee_id.is_not(None),
            )
            .group_by(Conversation.assignee_id)
        )
    }


def team(session: Session, workspace_id: int) -> list[Agent]:
    """Everyone who can answer (active, not read-only), with their load, by name."""
    counted = loads(session, workspace_id)
    return [
        Agent(
            user.id,
            user.name,
            user.role.value,
            bool(user.away),
            user.inbox_capacity,
            counted.get(user.id, 0),
        )
        for user in session.scalars(
            select(User)
            .where(User.active.is_(True), User.role != Role.viewer)
            .order_by(User.name, User.id)
        )
    ]


def pick_agent(session: Session, queue: Queue) -> int | None:
    """The agent the queue's mode gives its next conversation to (None: manual, or nobody
    available)."""
    if queue.assignment not in ("round_robin", "load"):
        return None
    available = [
        agent for agent in team(session, queue.workspace_id) if not agent.away and not agent.full
    ]
    if not available:
        return None
    if queue.assignment == "load":
        return min(available, key=lambda agent: (agent.load, agent.id)).id
    ordered = sorted(agent.id for agent in available)
    last = queue.last_assignee_id or 0
    return next((agent_id for agent_id in ordered if agent_id > last), ordered[0])


def auto_assign(session: Session, conversation: Conversation, queue: Queue) -> int | None:
    """Give an unassigned conversation to the agent its queue picks; who got it (or None)."""
    if conversation.assignee_id is not None:
        return None
    chosen = pick_agent(session, queue)
    if chosen is None:
        return None
    conversation.assignee_id = chosen
    queue.last_assignee_id = chosen
    audit(
        session,
        conversation.workspace_id,
        conversation.id,
        "assigned",
        to=chosen,
        previous=None,
        mode=queue.assignment,
        queue=queue.slug,
    )
    return chosen


def set_queue_assignment(session: Session, queue: Queue, mode: str, by: User) -> None:
    """Manual, round-robin or by load, for the queue's new conversations."""
    _require_manager(by)
    if mode not in MODES:
        raise ClameurError(f"unknown assignment mode {mode!r}: use {', '.join(MODES)}")
    queue.assignment = mode
    session.flush()


def set_away(session: Session, user: User, away: bool) -> None:
    """An agent away gets nothing new; their conversations stay theirs."""
    user.away = away
    session.flush()


def set_capacity(session: Session, agent: User, capacity: int | None, by: User) -> None:
    """How many open conversations the agent takes at most (None: no limit)."""
    _require_manager(by)
    if capacity is not None and capacity < 0:
        raise ClameurError("A capacity is a number of conversations, zero or more.")
    agent.inbox_capacity = capacity
    session.flush()


def reassign_open(
    session: Session, workspace_id: int, from_user_id: int, to_user_id: int | None, by: User
) -> int:
    """A manager hands an agent's open and pending conversations to a colleague (or back to
    their queues, unassigned); each move is in the audit trail. How many moved."""
    _require_manager(by)
    if to_user_id is not None:
        target = session.get(User, to_user_id)
        if target is None or not target.active or target.role == Role.viewer:
            raise ClameurError(f"no active agent {to_user_id}")
    if to_user_id == from_user_id:
        return 0
    moved = 0
    now = utcnow()
    for conversation in session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id,
            Conversation.assignee_id == from_user_id,
            Conversation.status.in_(LOADED),
        )
    ):
        conversation.assignee_id = to_user_id
        conversation.updated_at = now
        audit(
            session,
            workspace_id,
            conversation.id,
            "assigned",
            by.id,
            to=to_user_id,
            previous=from_user_id,
        )
        moved += 1
    session.flush()
    return moved
