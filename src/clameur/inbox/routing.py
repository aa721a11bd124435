"""From stored posts to conversations: which posts are inbox items, grouped into threads.

A post becomes an inbox item when it is a direct message, mentions one of the workspace's
accounts, answers a post of a conversation or of the brand, or is matched by a saved query marked
"inbox". Direct messages are grouped by their network's thread (`conversation_id`). Posts written by
the brand's own accounts are the team's answers: they join their thread as outbound items and
stop its customer's wait. Threads follow the reply links, so a conversation gathers the whole
exchange whatever order the posts arrive in; a customer's new message reopens a resolved one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clameur.kit.text import fold
from clameur.kit.time import utcnow
from clameur.models import (
    AuditEvent,
    Author,
    Conversation,
    ConversationItem,
    Customer,
    CustomerIdentity,
    Match,
    NetworkAccount,
    Post,
    SavedQuery,
)

_MENTION = re.compile(r"@([\w.\-@]+)", re.UNICODE)


def folded_handle(handle: str) -> str:
    """A handle as the inbox compares them: no leading @, case and accents folded."""
    return fold(handle.lstrip("@")).strip(".")


@dataclass(slots=True)
class InboxScope:
    """What makes a post an inbox item in one workspace."""

    accounts: dict[str, set[str]] = field(default_factory=dict)  # network -> folded handles
    inbox_queries: set[int] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not self.accounts and not self.inbox_queries

    def is_brand(self, network: str, handle: str | None) -> bool:
        return bool(handle) and folded_handle(handle or "") in self.accounts.get(network, set())

    def mentions_brand(self, network: str, text: str) -> bool:
        handles = self.accounts.get(network)
        if not handles or "@" not in text:
            return False
        for found in _MENTION.findall(text):
            folded = folded_handle(found)
            # "@brand@instance" (Mastodon) and "@brand" both name the account.
            if folded in handles or folded.split("@", 1)[0] in handles:
                return True
        return False


def load_scope(session: Session, workspace_id: int) -> InboxScope:
    """The workspace's accounts and inbox queries."""
    scope = InboxScope()
    for network, handle in session.execute(
        select(NetworkAccount.network, NetworkAccount.handle).where(
            NetworkAccount.workspace_id == workspace_id
        )
    ):
        folded = folded_handle(handle)
        scope.accounts.setdefault(network, set()).update({folded, folded.split("@", 1)[0]})
    scope.inbox_queries = set(
        session.scalars(
            select(SavedQuery.id).where(
                SavedQuery.workspace_id == workspace_id,
                SavedQuery.inbox.is_(True),
                SavedQuery.active.is_(True),
            )
        )
    )
    return scope


@dataclass(slots=True)
class Routed:
    """What routing did to a batch: conversations opened, reopened, and updated."""

    created: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    inbound: list[int] = field(default_factory=list)  # conversations with a new customer message
    answered: list[int] = field(default_factory=list)  # conversations the team answered
    items: int = 0


def audit(
    session: Session,
    workspace_id: int,
    conversation_id: int | None,
    action: str,
    user_id: int | None = None,
    at: datetime | None = None,
    **data: Any,
) -> None:
    """Record who did what (rules and the pipeline act as nobody: user None)."""
    session.add(
        AuditEvent(
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            user_id=user_id,
            action=action,
            data=data,
            created_at=at or utcnow(),
        )
    )


def _customer_for(session: Session, workspace_id: int, author: Author) -> int:
    found = session.scalar(
        select(CustomerIdentity.customer_id).where(
            CustomerIdentity.workspace_id == workspace_id, CustomerIdentity.author_id == author.id
        )
    )
    if found is not None:
        return int(found)
    customer = Customer(workspace_id=workspace_id, name=author.display_name or author.handle)
    session.add(customer)
    session.flush()
    session.add(
        CustomerIdentity(workspace_id=workspace_id, customer_id=customer.id, author_id=author.id)
    )
    return customer.id


def route_posts(
    session: Session,
    workspace_id: int,
    post_ids: Sequence[int],
    scope: InboxScope | None = None,
    on_inbound: Callable[[Conversation, Post], None] | None = None,
) -> Routed:
    """Put the inbox-worthy posts among `post_ids` into their conversations (idempotent: a post
    already in a conversation is skipped). `on_inbound` runs for each new customer message, once
    its conversation is up to date (triage rules, priority and service levels hook in there)."""
    routed = Routed()
    scope = scope if scope is not None else load_scope(session, workspace_id)
    if scope.empty or not post_ids:
        return routed
    posts = (
        session.scalars(select(Post).where(Post.id.in_(list(post_ids))).order_by(Post.created_at))
        .unique()
        .all()
    )
    matched: set[int] = set()
    if scope.inbox_queries:
        matched = set(
            session.scalars(
                select(Match.post_id).where(
                    Match.post_id.in_([post.id for post in posts]),
                    Match.query_id.in_(scope.inbox_queries),
                )
            )
        )
    already = set(
        session.scalars(
            select(ConversationItem.post_id).where(
                ConversationItem.post_id.in_([post.id for post in posts])
            )
        )
    )
    for post in posts:
        if post.id in already:
            continue
        handle = post.author.handle if post.author else None
        outbound = scope.is_brand(post.network, handle)
        thread = _thread_of(session, post)
        if thread is None and not outbound:
            wanted = (
                post.private  # a direct message to one of the brand's accounts
                or post.id in matched
                or scope.mentions_brand(post.network, post.text)
                or _answers_brand(session, scope, post)
            )
            if not wanted:
                continue
        opener = post
        if outbound and thread is None:
            # The brand answered a post the inbox had not kept (it named the brand in a way
            # that could not be recognised): that post was a customer's message after all.
            parent = _parent_of(session, post)
            if (
                parent is None
                or parent.id in already
                or scope.is_brand(parent.network, parent.author.handle if parent.author else None)
            ):
                continue  # the brand's own post that starts nothing: publishing, not care
            opener = parent
        conversation = thread or _open_conversation(session, workspace_id, opener, routed)
        if opener is not post:
            _add_item(session, conversation, opener, inbound=True, routed=routed)
            already.add(opener.id)
            routed.items += 1
            if on_inbound is not None:
                on_inbound(conversation, opener)
        _add_item(session, conversation, post, inbound=not outbound, routed=routed)
        routed.items += 1
        if thread is None:
            # Posts of the thread stored earlier (a reply imported before its question).
            for earlier in _unrouted_thread_posts(session, post, already):
                _add_item(
                    session,
                    conversation,
                    earlier,
                    inbound=not scope.is_brand(
                        earlier.network, earlier.author.handle if earlier.author else None
                    ),
                    routed=routed,
                )
                already.add(earlier.id)
                routed.items += 1
        if not outbound and on_inbound is not None:
            on_inbound(conversation, post)
    session.flush()
    return routed


def _parent_of(session: Session, post: Post) -> Post | None:
    if not post.in_reply_to:
        return None
    return (
        session.scalars(
            select(Post).where(Post.network == post.network, Post.external_id == post.in_reply_to)
        )
        .unique()
        .one_or_none()
    )


def _answers_brand(session: Session, scope: InboxScope, post: Post) -> bool:
    """A comment on one of the brand's posts."""
    if not post.in_reply_to:
        return False
    handle = session.scalar(
        select(Author.handle)
        .join(Post, Post.author_id == Author.id)
        .where(Post.network == post.network, Post.external_id == post.in_reply_to)
    )
    return scope.is_brand(post.network, handle)


def _unrouted_thread_posts(session: Session, post: Post, skip: set[int]) -> list[Post]:
    if not post.conversation_key:
        return []
    found = (
        session.scalars(
            select(Post)
            .outerjoin(ConversationItem, ConversationItem.post_id == Post.id)
            .where(
                Post.workspace_id == post.workspace_id,
                Post.network == post.network,
                Post.conversation_key == post.conversation_key,
                Post.id != post.id,
                ConversationItem.id.is_(None),
            )
            .order_by(Post.created_at)
        )
        .unique()
        .all()
    )
    return [each for each in found if each.id not in skip]


def _thread_of(session: Session, post: Post) -> Conversation | None:
    """The conversation this post continues: its parent's, else its thread's."""
    if post.in_reply_to:
        parent_conversation = session.scalar(
            select(Conversation)
            .join(ConversationItem, ConversationItem.conversation_id == Conversation.id)
            .join(Post, Post.id == ConversationItem.post_id)
            .where(Post.network == post.network, Post.external_id == post.in_reply_to)
        )
        if parent_conversation is not None:
            return parent_conversation
    if post.conversation_key:
        return session.scalar(
            select(Conversation).where(
                Conversation.workspace_id == post.workspace_id,
                Conversation.network == post.network,
                Conversation.thread_key == post.conversation_key,
            )
        )
    return None


def _open_conversation(
    session: Session, workspace_id: int, post: Post, routed: Routed
) -> Conversation:
    conversation = Conversation(
        workspace_id=workspace_id,
        network=post.network,
        thread_key=post.conversation_key or post.external_id,
        kind="dm" if post.private else "public",
        customer_id=_customer_for(session, workspace_id, post.author) if post.author else None,
        status="open",
        created_at=post.created_at,
        updated_at=post.created_at,
    )
    session.add(conversation)
    session.flush()
    routed.created.append(conversation.id)
    audit(session, workspace_id, conversation.id, "opened", at=post.created_at, post=post.id)
    return conversation


def _add_item(
    session: Session, conversation: Conversation, post: Post, inbound: bool, routed: Routed
) -> None:
    session.add(
        ConversationItem(
            conversation_id=conversation.id,
            post_id=post.id,
            inbound=inbound,
            created_at=post.created_at,
        )
    )
    conversation.message_count += 1
    moment = post.created_at
    conversation.updated_at = max(conversation.updated_at or moment, moment)
    if inbound:
        if conversation.customer_id is None and post.author is not None:
            workspace_id = conversation.workspace_id
            conversation.customer_id = _customer_for(session, workspace_id, post.author)
        conversation.first_inbound_at = min(conversation.first_inbound_at or moment, moment)
        conversation.last_inbound_at = max(conversation.last_inbound_at or moment, moment)
        answered_after = (
            conversation.last_response_at is not None and conversation.last_response_at >= moment
        )
        if not answered_after and conversation.waiting_since is None:
            conversation.waiting_since = moment
        if conversation.status in ("resolved", "pending", "snoozed") and not answered_after:
            previous = conversation.status
            conversation.status = "open"
            conversation.snoozed_until = None
            if previous == "resolved":
                conversation.resolved_at = None
                routed.reopened.append(conversation.id)
            audit(
                session,
                conversation.workspace_id,
                conversation.id,
                "reopened" if previous == "resolved" else "customer_replied",
                at=moment,
                previous=previous,
            )
        routed.inbound.append(conversation.id)
    else:
        if conversation.first_response_at is None and (
            conversation.first_inbound_at is None or moment >= conversation.first_inbound_at
        ):
            conversation.first_response_at = moment
        conversation.last_response_at = max(conversation.last_response_at or moment, moment)
        if conversation.waiting_since is not None and moment >= conversation.waiting_since:
            conversation.waiting_since = None
        routed.answered.append(conversation.id)


def posts_of(session: Session, conversation_id: int) -> list[tuple[Post, bool]]:
    """The conversation's posts, oldest first, each with whether it is the customer's."""
    rows = session.execute(
        select(Post, ConversationItem.inbound)
        .join(ConversationItem, ConversationItem.post_id == Post.id)
        .where(ConversationItem.conversation_id == conversation_id)
        .order_by(ConversationItem.created_at, ConversationItem.id)
    ).unique()
    return [(post, bool(inbound)) for post, inbound in rows]
