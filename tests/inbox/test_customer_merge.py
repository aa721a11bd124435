"""Customer profiles across networks: merging two, and the suggestions of which to merge."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import add_posts, make_record, make_workspace
from clameur.inbox.customers import merge_customers, merge_suggestions
from clameur.kit.errors import ClameurError
from clameur.models import (
    AuditEvent,
    Conversation,
    Customer,
    CustomerIdentity,
    NetworkAccount,
    Role,
    User,
)


def _world(session: Session) -> tuple[int, User]:
    ws = make_workspace(session)
    for network in ("x", "mastodon", "bluesky"):
        session.add(NetworkAccount(workspace_id=ws.id, network=network, handle="lueursfest"))
    agent = User(email="ann@example.org", name="Ann", password_hash="-", role=Role.agent)
    session.add(agent)
    session.flush()
    add_posts(
        session,
        ws.id,
        [
            make_record(
                id="x1",
                text="@lueursfest toujours pas remboursée",
                author={"handle": "marie_d", "name": "Marie Dupont"},
            ),
            make_record(
                id="m1",
                network="mastodon",
                text="@lueursfest vous répondez ? (je suis aussi @marie_d sur X)",
                author={"handle": "mdupont@piaille.fr", "name": "Marie Dupont"},
            ),
            make_record(
                id="b1",
                network="bluesky",
                text="@lueursfest super concert",
                author={"handle": "paul.bsky.social", "name": "Paul"},
            ),
        ],
    )
    return ws.id, agent


def _customer(session: Session, handle_text: str) -> Customer:
    return next(c for c in session.scalars(select(Customer)) if c.name == handle_text)


def _by_network(session: Session, network: str) -> Conversation:
    return session.scalars(select(Conversation).where(Conversation.network == network)).one()


def test_merging_moves_handles_conversations_tags_and_notes_to_the_target(
    session: Session,
) -> None:
    ws, agent = _world(session)
    on_x = session.get(Customer, _by_network(session, "x").customer_id)
    on_mastodon = session.get(Customer, _by_network(session, "mastodon").customer_id)
    assert on_x is not None and on_mastodon is not None and on_x.id != on_mastodon.id
    on_x.tags, on_x.notes = ["vip"], "Billet VIP"
    on_mastodon.tags, on_mastodon.notes = ["refund", "vip"], "Préfère le français"
    session.flush()
    target = merge_customers(session, ws, on_mastodon.id, on_x.id, agent)
    assert target.tags == ["vip", "refund"]
    assert target.notes == "Billet VIP\n\nPréfère le français"
    assert {
        c.customer_id for c in session.scalars(select(Conversation)) if c.network != "bluesky"
    } == {on_x.id}
    identities = session.scalars(
        select(CustomerIdentity.customer_id).where(CustomerIdentity.customer_id == on_x.id)
    ).all()
    assert len(identities) == 2
    source = session.get(Customer, on_mastodon.id)
    assert source is not None and source.merged_into_id == on_x.id
    merged = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer_merged")).all()
    assert [event.user_id for event in merged] == [agent.id]


def test_a_later_message_from_a_merged_handle_joins_the_target_profile(session: Session) -> None:
    ws, agent = _world(session)
    on_x = _by_network(session, "x").customer_id
    on_mastodon = _by_network(session, "mastodon").customer_id
    assert on_x and on_mastodon
    merge_customers(session, ws, on_mastodon, on_x, agent)
    add_posts(
        session,
        ws,
        [
            make_record(
                id="m2",
                network="mastodon",
                text="@lueursfest nouvelle question",
                author={"handle": "mdupont@piaille.fr", "name": "Marie Dupont"},
            )
        ],
    )
    newest = session.scalars(select(Conversation).order_by(Conversation.id.desc())).first()
    assert newest is not None and newest.customer_id == on_x


def test_a_profile_cannot_be_merged_into_itself_or_twice(session: Session) -> None:
    ws, agent = _world(session)
    on_x = _by_network(session, "x").customer_id
    on_mastodon = _by_network(session, "mastodon").customer_id
    assert on_x and on_mastodon
    with pytest.raises(ClameurError):
        merge_customers(session, ws, on_x, on_x, agent)
    merge_customers(session, ws, on_mastodon, on_x, agent)
    with pytest.raises(ClameurError):
        merge_customers(session, ws, on_mastodon, on_x, agent)


def test_suggestions_name_the_same_person_on_another_network_and_why(session: Session) -> None:
    ws, _agent = _world(session)
    on_x = _by_network(session, "x").customer_id
    on_mastodon = _by_network(session, "mastodon").customer_id
    assert on_x and on_mastodon
    from_x = merge_suggestions(session, ws, on_x)
    assert [s.customer.id for s in from_x] == [on_mastodon]
    assert {code for code, _detail in from_x[0].reasons} == {"same_name", "named_by_other"}
    assert from_x[0].networks == ["mastodon"]
    from_mastodon = merge_suggestions(session, ws, on_mastodon)
    assert [s.customer.id for s in from_mastodon] == [on_x]
    assert ("names_other", "@marie_d") in from_mastodon[0].reasons
    paul = _by_network(session, "bluesky").customer_id
    assert paul and merge_suggestions(session, ws, paul) == []
