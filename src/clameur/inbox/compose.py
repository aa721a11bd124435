"""Writing a reply: how long it may be on each network, saved replies filled in, and the one
reply in flight a conversation may have (the outbox then sends it)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clameur.inbox.length import reply_length
from clameur.inbox.routing import audit
from clameur.kit.errors import ClameurError
from clameur.kit.time import utcnow
from clameur.models import (
    Conversation,
    ConversationItem,
    Customer,
    NetworkAccount,
    Reply,
    SavedReply,
    Workspace,
)

log = logging.getLogger(__name__)

# How long a reply may be on each network (X weighs its characters: see inbox.length).
LENGTH_LIMITS: dict[str, int] = {
    "x": 280,
    "bluesky": 300,
    "mastodon": 500,
    "instagram": 2200,
    "facebook": 8000,
    "linkedin": 1250,
    "reddit": 10000,
    "youtube": 10000,
    "demo": 500,
}


def check_body(
    network: str,
    body: str,
    limits: Mapping[str, int] = LENGTH_LIMITS,
    what: str = "reply",
    verb: str = "reply",
) -> str:
    """The text, stripped, if the network accepts it (a reply by default; publishing passes
    its own limits); else a ClameurError that names the limit."""
    text = body.strip()
    if not text:
        raise ClameurError(f"The {what} is empty.")
    limit = limits.get(network)
    if limit is None:
        raise ClameurError(f"Clameur cannot {verb} on {network}.")
    length = reply_length(network, text)
    if length > limit:
        raise ClameurError(
            f"The {what} is {length} characters long; {network} allows {limit} at most."
        )
    return text


def fill_reply_template(body: str, customer: str, agent: str, brand: str, handle: str = "") -> str:
    """A saved or suggested reply with its variables filled: {customer} (the name, or the
    @handle in a suggestion), {name}, {agent}, {brand}."""
    return (
        body.replace("{customer}", handle or customer)
        .replace("{name}", customer)
        .replace("{agent}", agent)
        .replace("{brand}", brand)
    )


def brand_account(session: Session, workspace_id: int, network: str) -> NetworkAccount | None:
    """The account the brand answers from on a network (its first)."""
    return session.scalars(
        select(NetworkAccount)
        .where(NetworkAccount.workspace_id == workspace_id, NetworkAccount.network == network)
        .order_by(NetworkAccount.id)
        .limit(1)
    ).first()


def insert_in_flight(session: Session, reply: Reply) -> bool:
    """Add a reply in flight; False when the conversation already has one (the database's
    partial unique index says so, whatever another transaction did meanwhile)."""
    try:
        with session.begin_nested():
            session.add(reply)
            session.flush()
    except IntegrityError:
        return False
    return True


def queue_acknowledgement(
    session: Session, conversation: Conversation, saved_reply_id: int
) -> Reply | None:
    """A triage rule's automatic acknowledgement: the saved reply, filled in and queued as the
    brand (no author, no approval), unless the conversation already has a reply or the brand no
    account to answer from. The reply, or None when nothing was queued."""
    template = session.get(SavedReply, saved_reply_id)
    if template is None or template.workspace_id != conversation.workspace_id:
        return None
    if session.scalar(select(Reply.id).where(Reply.conversation_id == conversation.id).limit(1)):
        return None
    if brand_account(session, conversation.workspace_id, conversation.network) is None:
        return None
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id else None
    workspace = session.get(Workspace, conversation.workspace_id)
    body = fill_reply_template(
        template.body,
        customer.name if customer is not None else "",
        "",
        workspace.name if workspace is not None else "",
    )
    try:
        text = check_body(conversation.network, body)
    except ClameurError:
        log.warning("acknowledgement %s does not fit on %s", saved_reply_id, conversation.network)
        return None
    in_reply_to = session.scalar(
        select(ConversationItem.post_id)
        .where(
            ConversationItem.conversation_id == conversation.id,
            ConversationItem.inbound.is_(True),
        )
        .order_by(ConversationItem.created_at.desc(), ConversationItem.id.desc())
        .limit(1)
    )
    reply = Reply(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        user_id=None,
        in_reply_to_post_id=in_reply_to,
        body=text,
        status="queued",
        idempotency_key=uuid.uuid4().hex,
        attempts=0,
        created_at=utcnow(),
    )
    if not insert_in_flight(session, reply):
        return None
    audit(
        session,
        conversation.workspace_id,
        conversation.id,
        "reply_queued",
        reply=reply.id,
        acknowledgement=saved_reply_id,
    )
    return reply
