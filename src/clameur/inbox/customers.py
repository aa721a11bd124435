"""Customer profiles across networks: merging two profiles of the same person, and suggesting
which ones to merge.

A merge moves everything to the target: its handles (identities), conversations, tags and notes;
the merged profile stays, pointing at the target (`merged_into_id`), so links to it still lead
somewhere. Suggestions: the same display name on another network, or a handle of one profile
mentioned in (or linked from) the other's messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from clameur.inbox.routing import audit, folded_handle
from clameur.kit.errors import ClameurError, NotFound
from clameur.kit.text import fold
from clameur.models import (
    Author,
    Conversation,
    ConversationItem,
    Customer,
    CustomerIdentity,
    Post,
    User,
)

_MENTION = re.compile(r"@([\w.\-]+)", re.UNICODE)
# A profile link: instagram.com/marie, bsky.app/profile/marie.bsky.social, x.com/marie
_PROFILE_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:[\w-]+\.)+[a-z]{2,}/(?:profile/|@)?([\w.\-]+)", re.IGNORECASE
)
# How many recent customer messages are searched for a profile's handles.
SEARCH_RECENT = 5000


@dataclass(slots=True)
class MergeSuggestion:
    """Another profile that is probably the same person, and why."""

    customer: Customer
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (code, detail)
    networks: list[str] = field(default_factory=list)


def get_customer(session: Session, workspace_id: int, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id:
        raise NotFound(f"customer {customer_id} not found")
    return customer


def merge_customers(
    session: Session, workspace_id: int, source_id: int, target_id: int, by: User
) -> Customer:
    """Move the source profile's handles, conversations, tags and notes to the target; the
    source then points at the target. The target."""
    if source_id == target_id:
        raise ClameurError("A profile cannot be merged into itself.")
    source = get_customer(session, workspace_id, source_id)
    target = get_customer(session, workspace_id, target_id)
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise ClameurError("This profile was already merged into another one.")
    session.execute(
        update(CustomerIdentity)
        .where(CustomerIdentity.customer_id == source.id)
        .values(customer_id=target.id)
        .execution_options(synchronize_session=False)
    )
    moved = list(
        session.scalars(select(Conversation.id).where(Conversation.customer_id == source.id))
    )
    session.execute(
        update(Conversation)
        .where(Conversation.customer_id == source.id)
        .values(customer_id=target.id)
        .execution_options(synchronize_session=False)
    )
    # Profiles merged into the source earlier now point at the target directly.
    session.execute(
        update(Customer)
        .where(Customer.merged_into_id == source.id)
        .values(merged_into_id=target.id)
        .execution_options(synchronize_session=False)
    )
    target.tags = list(target.tags or []) + [
        tag for tag in (source.tags or []) if tag not in (target.tags or [])
    ]
    if source.notes.strip():
        target.notes = "\n\n".join(
            part for part in (target.notes.strip(), source.notes.strip()) if part
        )
    source.merged_into_id = target.id
    source.tags, source.notes = [], ""
    for conversation_id in moved:
        audit(
            session,
            workspace_id,
            conversation_id,
            "customer_merged",
            by.id,
            source=source.id,
            target=target.id,
            name=source.name,
        )
    session.flush()
    session.expire_all()
    return get_customer(session, workspace_id, target.id)


def _handles(session: Session, customer_id: int) -> list[Author]:
    return list(
        session.scalars(
            select(Author)
            .join(CustomerIdentity, CustomerIdentity.author_id == Author.id)
            .where(CustomerIdentity.customer_id == customer_id)
        )
    )


def _named_in(text: str) -> set[str]:
    """The handles a message mentions or links to, folded."""
    found = {folded_handle(handle) for handle in _MENTION.findall(text)}
    found |= {folded_handle(handle) for handle in _PROFILE_LINK.findall(text)}
    return {handle for handle in found if len(handle) >= 3}


def _variants(handle: str) -> set[str]:
    folded = folded_handle(handle)
    return {folded, folded.split("@", 1)[0], folded.split(".", 1)[0]}


def merge_suggestions(
    session: Session, workspace_id: int, customer_id: int, limit: int = 5
) -> list[MergeSuggestion]:
    """Profiles that are probably the same person as this one (not merged yet), best first."""
    customer = get_customer(session, workspace_id, customer_id)
    own = _handles(session, customer.id)
    own_networks = {author.network for author in own}
    found: dict[int, MergeSuggestion] = {}

    def suggest(other: Customer, code: str, detail: str) -> None:
        entry = found.setdefault(other.id, MergeSuggestion(other))
        if (code, detail) not in entry.reasons:
            entry.reasons.append((code, detail))

    # The same display name, on another network.
    name = fold(customer.name).strip()
    if len(name) >= 3:
        for other, network in session.execute(
            select(Customer, Author.network)
            .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
            .join(Author, Author.id == CustomerIdentity.author_id)
            .where(
                Customer.workspace_id == workspace_id,
                Customer.id != customer.id,
                Customer.merged_into_id.is_(None),
                func.lower(Customer.name) == customer.name.lower(),
            )
            .limit(50)
        ):
            if network not in own_networks or not own_networks:
                suggest(other, "same_name", other.name)

    # A handle of another profile named in this customer's messages.
    own_texts = session.scalars(
        select(Post.text)
        .join(ConversationItem, ConversationItem.post_id == Post.id)
        .join(Conversation, Conversation.id == ConversationItem.conversation_id)
        .where(Conversation.customer_id == customer.id, ConversationItem.inbound.is_(True))
        .order_by(ConversationItem.id.desc())
        .limit(200)
    ).all()
    own_handles = set().union(*(_variants(author.handle) for author in own)) if own else set()
    named = (
        set().union(*(_named_in(text) for text in own_texts)) - own_handles if own_texts else set()
    )
    if named:
        for other, author in session.execute(
            select(Customer, Author)
            .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
            .join(Author, Author.id == CustomerIdentity.author_id)
            .where(
                Customer.workspace_id == workspace_id,
                Customer.id != customer.id,
                Customer.merged_into_id.is_(None),
                func.lower(Author.handle).in_(sorted(named)),
            )
            .limit(50)
        ):
            suggest(other, "names_other", "@" + author.handle)

    # This customer's handles named in another profile's recent messages.
    patterns = [
        handle for author in own for handle in {folded_handle(author.handle)} if len(handle) >= 3
    ]
    if patterns:
        recent = (
            select(ConversationItem.post_id, ConversationItem.conversation_id)
            .join(Conversation, Conversation.id == ConversationItem.conversation_id)
            .where(
                Conversation.workspace_id == workspace_id,
                ConversationItem.inbound.is_(True),
                or_(Conversation.customer_id != customer.id, Conversation.customer_id.is_(None)),
            )
            .order_by(ConversationItem.id.desc())
            .limit(SEARCH_RECENT)
            .subquery()
        )
        rows = session.execute(
            select(Customer, Post.text)
            .join(Conversation, Conversation.customer_id == Customer.id)
            .join(recent, recent.c.conversation_id == Conversation.id)
            .join(Post, Post.id == recent.c.post_id)
            .where(
                Customer.merged_into_id.is_(None),
                or_(*(func.lower(Post.text).contains(handle) for handle in patterns)),
            )
            .limit(50)
        )
        for other, text in rows:
            mentioned = _named_in(text) & {p for handle in patterns for p in _variants(handle)}
            if mentioned:
                suggest(other, "named_by_other", "@" + sorted(mentioned)[0])

    suggestions = sorted(found.values(), key=lambda entry: (-len(entry.reasons), entry.customer.id))
    for entry in suggestions[:limit]:
        entry.networks = sorted({author.network for author in _handles(session, entry.customer.id)})
    return suggestions[:limit]
