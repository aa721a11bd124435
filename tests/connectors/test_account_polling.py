"""Accounts wired to their connectors: polled from checkpoints into the pipeline, failures kept
to the account that has them, and replies sent back through the network."""

from __future__ import annotations

from typing import Any

import pytest
from connector_replay import Answer, ReplayServer, payload
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import (
    due_accounts,
    health,
    poll_account,
    poll_due,
    reply_senders,
    save_account,
)
from clameur.connectors.base import Connector, ConnectorConfig
from clameur.connectors.mastodon import MastodonConnector
from clameur.connectors.secrets import SecretBox
from clameur.inbox.outbox import deliver_due, queue_reply
from clameur.kit.time import utcnow
from clameur.listening.service import create_query
from clameur.models import (
    Conversation,
    InboundItem,
    NetworkAccount,
    Notification,
    Post,
    Reply,
    Role,
    User,
)
from clameur.pipeline.runner import Runner
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import create_workspace

TAG = "/api/v1/timelines/tag/clameur"
BOX = SecretBox("a-test-key-that-is-long-enough")


def status(status_id: int, text: str = "about #clameur") -> dict[str, Any]:
    entity = payload("mastodon_status.json")
    entity["id"] = str(status_id)
    entity["content"] = f"<p>post {status_id} {text}</p>"
    entity["url"] = f"https://mastodon.social/@Gargron/{status_id}"
    return entity


def create(network: str, config: ConnectorConfig) -> Connector[Any]:
    assert network == "mastodon"
    return MastodonConnector(config, timeout=5, sleep=lambda _seconds: None)  # type: ignore[arg-type]


def _account(
    factory: sessionmaker[Session], server: ReplayServer, name: str = "brand"
) -> tuple[int, int]:
    with unit_of_work(factory) as session:
        workspace = create_workspace(session, name, name.title(), [])
        account = save_account(
            session,
            BOX,
            workspace.id,
            "mastodon",
            {
                "account_name": name,
                "instance_url": server.url,
                "access_token": "token-abcdefghijklmnop",
                "hashtags": "clameur",
            },
        )
        return workspace.id, account.id


def _queued(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return [
            item.payload["id"]
            for item in session.scalars(select(InboundItem).order_by(InboundItem.id))
        ]


def test_an_account_is_polled_from_its_checkpoint_and_a_restart_duplicates_nothing(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    server.add("GET", TAG, body=[status(3), status(2)])
    server.add("GET", TAG, body=[status(5), status(4)], query={"min_id": "3"})
    server.add("GET", TAG, body=[], query={"min_id": "5"})
    _workspace, account_id = _account(factory, server)

    first = poll_account(factory, BOX, account_id, create)
    second = poll_account(factory, BOX, account_id, create)
    third = poll_account(factory, BOX, account_id, create)

    assert (first.posts, second.posts, third.posts) == (2, 2, 0)
    assert _queued(factory) == ["2", "3", "4", "5"]
    with factory() as session:
        account = session.get(NetworkAccount, account_id)
        assert account is not None
        assert account.checkpoints == {"hashtag:clameur": {"since_id": "5"}}
        assert account.fetched_today == 4 and account.last_success_at is not None
        # The token is stored encrypted, never in clear.
        assert "token-abcdefghijklmnop" not in (account.config_encrypted or "")
    Runner(factory).drain()
    with factory() as session:
        assert sorted(p.external_id for p in session.scalars(select(Post))) == ["2", "3", "4", "5"]


def test_a_rate_limited_account_waits_and_an_expired_token_needs_attention_while_others_go_on(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    reset = "2099-01-01T00:00:00.000Z"
    server.add(
        "GET",
        TAG,
        Answer(
            status=429, body={"error": "Too many requests"}, headers={"X-RateLimit-Reset": reset}
        ),
    )
    _w1, limited = _account(factory, server, "limited")
    results = poll_due(factory, BOX, create)
    assert [r.account_id for r in results] == [limited]
    with factory() as session:
        account = session.get(NetworkAccount, limited)
        assert account is not None and account.retry_at is not None
        assert account.retry_at.year == 2099
        assert account.status == "active"
        assert limited not in due_accounts(session, utcnow())
        shown = health(session, account.workspace_id)[0]
        assert shown.rate_limited_until is not None and shown.limitations

    server.routes.clear()
    server.add("GET", TAG, Answer(status=401, body={"error": "The access token is invalid"}))
    _w2, expired = _account(factory, server, "expired")
    with unit_of_work(factory) as session:
        session.add(User(email="m@example.com", name="M", password_hash="x", role=Role.manager))
    poll_due(factory, BOX, create)
    poll_due(factory, BOX, create)
    with factory() as session:
        account = session.get(NetworkAccount, expired)
        assert account is not None
        assert account.status == "needs_attention"
        assert "revoked" in (account.last_error or "")
        assert expired not in due_accounts(session, utcnow())
        # The managers are told once, under the bell, with a link to the account.
        told = session.scalars(select(Notification)).all()
        assert [(n.kind, n.link) for n in told] == [
            ("accounts.needs_attention", f"/settings/accounts/{expired}")
        ]


def test_from_the_network_into_the_inbox_and_back_out_as_a_reply(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    server.add("GET", TAG, body=[status(7, "#clameur my order never arrived, help?")])
    workspace_id, account_id = _account(factory, server)
    with unit_of_work(factory) as session:
        create_query(session, workspace_id, "Brand", "clameur", inbox=True)
        agent = User(email="a@example.com", name="Agent", password_hash="x", role=Role.agent)
        session.add(agent)
    poll_account(factory, BOX, account_id, create)
    Runner(factory).drain()
    reply_json = status(8, "Sorry about that, we are on it")
    reply_json["in_reply_to_id"] = "7"
    server.add("POST", "/api/v1/statuses", body=reply_json)
    with unit_of_work(factory) as session:
        conversation = session.scalars(select(Conversation)).one()
        user = session.scalars(select(User)).one()
        queue_reply(session, conversation, user, "Sorry about that, we are on it", None)
    report = deliver_due(factory, reply_senders(factory, BOX, create))
    assert report.busy
    sent = server.seen("POST", "/api/v1/statuses")
    assert len(sent) == 1
    assert sent[0].form()["in_reply_to_id"] == ["7"] or sent[0].json()["in_reply_to_id"] == "7"
    assert sent[0].headers.get("idempotency-key")
    with factory() as session:
        reply = session.scalars(select(Reply)).one()
        assert reply.status == "sent" and reply.external_id == "8"


@pytest.mark.parametrize("secret", ["", "short"])
def test_an_unusable_encryption_key_is_refused_with_what_to_do(secret: str) -> None:
    from clameur.connectors.secrets import SecretKeyMissing

    with pytest.raises(SecretKeyMissing, match="CLAMEUR_CONNECTORS__SECRET_KEY"):
        SecretBox(secret)


def test_an_outage_without_a_time_backs_off_longer_and_longer(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    server.add("GET", TAG, *[Answer(status=503, body={"error": "down"}) for _ in range(10)])
    _workspace, account_id = _account(factory, server)
    poll_account(factory, BOX, account_id, create)
    with factory() as session:
        account = session.get(NetworkAccount, account_id)
        assert account is not None and account.retry_at is not None
        wait = account.retry_at - utcnow()
        assert wait.total_seconds() >= 55 and account.status == "active"
