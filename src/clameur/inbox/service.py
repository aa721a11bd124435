"""The inbox as the pipeline and the team use it: route new posts, then triage them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from clameur.inbox.routing import Routed, load_scope, route_posts
from clameur.inbox.triage import Triage, ensure_inbox_defaults
from clameur.models import Conversation, Post


def route_new_posts(session: Session, workspace_id: int, post_ids: Sequence[int]) -> Routed:
    """Called by the pipeline after each stored batch: new inbox items join their
    conversations, and each new customer message goes through the workspace's triage rules
    (the default queues, policy and rules are created on the first one)."""
    scope = load_scope(session, workspace_id)
    if scope.empty or not post_ids:
        return Routed()
    triage: Triage | None = None

    def triaged(conversation: Conversation, post: Post) -> None:
        nonlocal triage
        if triage is None:
            triage = Triage.load(session, workspace_id)
            if not triage.queues:
                ensure_inbox_defaults(session, workspace_id)
                triage = Triage.load(session, workspace_id)
        if conversation.status == "open":
            triage.apply(session, conversation, post)

    return route_posts(session, workspace_id, post_ids, scope, on_inbound=triaged)
