"""Suggested replies in the composer: a `ReplyMemory` per workspace, fed with the team's past
answers (each brand reply with the customer message it answered) and kept up to date as new
answers are stored."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from clameur.inbox.suggest import ReplyMemory, Suggestion
from clameur.models import Conversation, ConversationItem, Post


@dataclass(slots=True)
class _Learned:
    memory: ReplyMemory = field(default_factory=ReplyMemory)
    last_item_id: int = 0


_MEMORIES: dict[int, _Learned] = {}
_LOCK = threading.Lock()
# Answers read from the database per refresh (the rest come at the next request).
BATCH = 20_000


def _refresh(session: Session, workspace_id: int) -> ReplyMemory:
    learned = _MEMORIES.setdefault(workspace_id, _Learned())
    newest = session.scalar(
        select(func.max(ConversationItem.id))
        .join(Conversation, Conversation.id == ConversationItem.conversation_id)
        .where(Conversation.workspace_id == workspace_id)
    )
    if (newest or 0) < learned.last_item_id:  # the database was emptied or rebuilt
        learned = _MEMORIES[workspace_id] = _Learned()
    question = aliased(Post)
    rows = session.execute(
        select(ConversationItem.id, Conversation.id, Post.text, question.text, question.lang)
        .join(Conversation, Conversation.id == ConversationItem.conversation_id)
        .join(Post, Post.id == ConversationItem.post_id)
        .join(
            question,
            and_(question.network == Post.network, question.external_id == Post.in_reply_to),
        )
        .where(
            Conversation.workspace_id == workspace_id,
            ConversationItem.inbound.is_(False),
            ConversationItem.id > learned.last_item_id,
        )
        .order_by(ConversationItem.id)
        .limit(BATCH)
    ).all()
    for item_id, conversation_id, reply, inbound, lang in rows:
        learned.memory.add(inbound, reply, lang=lang, conversation=str(conversation_id))
        learned.last_item_id = item_id
    return learned.memory


def suggest_replies(
    session: Session, conversation: Conversation, inbound: str, lang: str | None, k: int = 3
) -> list[Suggestion]:
    """The best distinct past answers to a message like `inbound` (not from this thread)."""
    with _LOCK:
        memory = _refresh(session, conversation.workspace_id)
        found = memory.suggest(inbound, k=k, lang=lang, exclude_conversation=str(conversation.id))
        if not found and lang is not None:
            found = memory.suggest(inbound, k=k, exclude_conversation=str(conversation.id))
        return found


def forget_workspace(workspace_id: int) -> None:
    """Drop a workspace's memory (tests, or after its conversations were rebuilt)."""
    with _LOCK:
        _MEMORIES.pop(workspace_id, None)
