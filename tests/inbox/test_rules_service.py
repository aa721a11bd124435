"""Managers edit the triage rules: order, stop here, conditions on network and account, a trial
before saving, and automatic acknowledgements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import add_posts, make_record, make_workspace
from clameur.inbox.rules import (
    RuleSpec,
    create_rule,
    delete_rule,
    list_rules,
    move_rule,
    try_spec,
)
from clameur.inbox.triage import RuleError, ensure_inbox_defaults
from clameur.kit.errors import Forbidden
from clameur.models import (
    AuditEvent,
    Conversation,
    NetworkAccount,
    Reply,
    Role,
    SavedReply,
    User,
)


def _manager(session: Session, role: Role = Role.manager) -> User:
    user = User(email=f"{role.value}@example.org", name=role.value, password_hash="-", role=role)
    session.add(user)
    session.flush()
    return user


def _workspace(session: Session) -> tuple[int, int, int]:
    ws = make_workspace(session)
    festival = NetworkAccount(workspace_id=ws.id, network="x", handle="lueursfest")
    shop = NetworkAccount(workspace_id=ws.id, network="x", handle="lueursshop")
    session.add_all([festival, shop])
    session.add(NetworkAccount(workspace_id=ws.id, network="mastodon", handle="lueursfest"))
    ensure_inbox_defaults(session, ws.id)
    session.flush()
    return ws.id, festival.id, shop.id


def _first(session: Session, ws: int, name: str, manager: User) -> None:
    """Move the rule called `name` to the top of the list."""
    while list_rules(session, ws)[0].name != name:
        rule = next(each for each in list_rules(session, ws) if each.name == name)
        move_rule(session, rule, "up", manager)


def test_new_rules_come_last_and_can_be_moved_and_deleted(session: Session) -> None:
    ws, _festival, _shop = _workspace(session)
    manager = _manager(session)
    rule = create_rule(session, ws, RuleSpec(name="VIP", condition="author:@vip"), manager)
    assert [r.name for r in list_rules(session, ws)][-1] == "VIP"
    move_rule(session, rule, "up", manager)
    move_rule(session, rule, "up", manager)
    names = [r.name for r in list_rules(session, ws)]
    assert names.index("VIP") == 1 and [r.position for r in list_rules(session, ws)] == [0, 1, 2, 3]
    delete_rule(session, rule, manager)
    assert "VIP" not in [r.name for r in list_rules(session, ws)]
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["rule_created", "rule_moved", "rule_moved", "rule_deleted"]


def test_a_condition_that_does_not_parse_is_refused_with_its_position(session: Session) -> None:
    ws, _festival, _shop = _workspace(session)
    with pytest.raises(RuleError) as refused:
        create_rule(
            session,
            ws,
            RuleSpec(name="Broken", condition="intent:complaint AND ("),
            _manager(session),
        )
    assert refused.value.syntax is not None and refused.value.syntax.position > 1


def test_an_action_pointing_at_nothing_is_refused(session: Session) -> None:
    ws, _festival, _shop = _workspace(session)
    spec = RuleSpec(name="Lost", actions={"queue": "nowhere"})
    with pytest.raises(RuleError, match="nowhere"):
        create_rule(session, ws, spec, _manager(session))


def test_a_rule_cannot_give_conversations_to_a_read_only_viewer(session: Session) -> None:
    ws, _festival, _shop = _workspace(session)
    viewer = _manager(session, Role.viewer)
    spec = RuleSpec(name="To Vic", actions={"assign": viewer.id})
    with pytest.raises(RuleError, match="read-only"):
        create_rule(session, ws, spec, _manager(session))


def test_an_agent_cannot_change_the_rules(session: Session) -> None:
    ws, _festival, _shop = _workspace(session)
    with pytest.raises(Forbidden):
        create_rule(session, ws, RuleSpec(name="Mine"), _manager(session, Role.agent))


def _messages(session: Session, ws: int) -> None:
    add_posts(
        session,
        ws,
        [
            make_record(
                id="a", text="@lueursfest où sont les navettes ?", author={"handle": "ana"}
            ),
            make_record(
                id="b", text="@lueursshop ma commande est cassée", author={"handle": "ben"}
            ),
            make_record(
                id="c", network="mastodon", text="@lueursfest bravo", author={"handle": "cam"}
            ),
        ],
    )


def test_a_rule_on_an_account_acts_on_the_messages_that_mention_it(session: Session) -> None:
    ws, _festival, shop = _workspace(session)
    manager = _manager(session)
    create_rule(
        session,
        ws,
        RuleSpec(name="Shop", account_id=shop, actions={"tags": ["shop"]}),
        manager,
    )
    _first(session, ws, "Shop", manager)
    _messages(session, ws)
    tagged = {
        c.thread_key: c.tags
        for c in session.scalars(select(Conversation).order_by(Conversation.id))
    }
    assert tagged["b"] == ["shop"] and tagged["a"] == []


def test_trying_a_rule_shows_what_it_would_do_and_changes_nothing(session: Session) -> None:
    ws, _festival, _shop = _workspace(session)
    _messages(session, ws)
    before = [(c.id, c.tags, c.queue_id) for c in session.scalars(select(Conversation))]
    spec = RuleSpec(name="X only", network="x", actions={"tags": ["x"], "priority": "high"})
    trial = try_spec(session, ws, spec)
    assert trial.tried == 3
    assert sorted(hit.post.external_id for hit in trial.hits) == ["a", "b"]
    assert trial.hits[0].outcome.actions == {"tags": ["x"], "priority": "high"}
    after = [(c.id, c.tags, c.queue_id) for c in session.scalars(select(Conversation))]
    assert after == before


def test_a_rule_acknowledges_a_new_message_with_a_saved_reply_once(session: Session) -> None:
    ws, _festival, _shop = _workspace(session)
    template = SavedReply(
        workspace_id=ws, name="Ack", lang="fr", body="Bonjour {customer}, on regarde !"
    )
    session.add(template)
    session.flush()
    manager = _manager(session)
    create_rule(session, ws, RuleSpec(name="Ack", actions={"acknowledge": template.id}), manager)
    _first(session, ws, "Ack", manager)
    now = datetime.now(UTC)
    add_posts(
        session,
        ws,
        [
            make_record(
                id="n1",
                text="@lueursfest une question",
                created_at=now.isoformat(),
                author={"handle": "zoe", "name": "Zoé"},
            ),
            make_record(
                id="n2",
                text="@lueursfest encore moi",
                created_at=(now + timedelta(minutes=1)).isoformat(),
                author={"handle": "zoe", "name": "Zoé"},
                in_reply_to="n1",
            ),
            make_record(
                id="old",
                text="@lueursfest il y a longtemps",
                created_at=(now - timedelta(days=3)).isoformat(),
                author={"handle": "old"},
            ),
        ],
    )
    replies = session.scalars(select(Reply)).all()
    assert [(r.body, r.user_id, r.status) for r in replies] == [
        ("Bonjour Zoé, on regarde !", None, "queued")
    ]
