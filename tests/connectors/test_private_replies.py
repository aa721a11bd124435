"""A Messenger message, from Meta's webhook into the inbox, answered in private through the
Send API (https://developers.facebook.com/docs/messenger-platform/reference/send-api/)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from connector_replay import ReplayServer, payload
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import receive_webhook, reply_senders
from clameur.connectors.base import Connector, ConnectorConfig
from clameur.connectors.facebook import FacebookConfig, FacebookConnector
from clameur.connectors.secrets import SecretBox
from clameur.inbox.outbox import deliver_due, queue_reply
from clameur.models import Conversation, NetworkAccount, Reply, Role, User
from clameur.pipeline.runner import Runner
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import create_workspace

BOX = SecretBox("a-test-key-that-is-long-enough")
PAGE_ID = "1353269864728879"
APP_SECRET = "6f1c2a9be0d84f53a7c1e2d3b4a59687"
SENDER = "2760412390669032"


def test_a_messenger_message_is_answered_in_private(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    config = FacebookConfig(
        page_id=PAGE_ID,
        access_token="EAAB-page-token-abcdefghijklmnop",
        app_secret=APP_SECRET,
        verify_token="verify-token-of-this-page",
        graph_url=server.url,
    )
    with unit_of_work(factory) as session:
        workspace = create_workspace(session, "acme", "Acme", [])
        account = NetworkAccount(
            workspace_id=workspace.id, network="facebook", handle="acme", external_id=PAGE_ID
        )
        account.config_encrypted = BOX.encrypt(config)
        session.add(account)
        session.add(User(email="a@example.com", name="Agent", password_hash="x", role=Role.agent))
        session.flush()
        account_id = account.id

    def create(network: str, settings: ConnectorConfig) -> Connector[Any]:
        return FacebookConnector(settings, timeout=5, sleep=lambda _s: None)  # type: ignore[arg-type]

    body = json.dumps(payload("facebook/webhook_messages.json"), separators=(",", ":")).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    outcome = receive_webhook(
        factory, BOX, "facebook", account_id, {"X-Hub-Signature-256": signature}, {}, body, create
    )
    assert outcome.status == 200
    Runner(factory).drain()
    with unit_of_work(factory) as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.kind == "dm" and conversation.thread_key == f"messenger:{SENDER}"
        agent = session.scalars(select(User)).one()
        queue_reply(session, conversation, agent, "Sorry! We refund the second charge today.", None)
    server.add(
        "POST",
        f"/v21.0/{PAGE_ID}/messages",
        body={"recipient_id": SENDER, "message_id": "m_answer-1"},
    )
    report = deliver_due(factory, reply_senders(factory, BOX, create))
    assert report.busy
    sent = server.seen("POST", f"/v21.0/{PAGE_ID}/messages")
    assert len(sent) == 1
    form = sent[0].form()
    assert json.loads(form["recipient"][0]) == {"id": SENDER}
    assert form["messaging_type"] == ["RESPONSE"]
    assert json.loads(form["message"][0]) == {"text": "Sorry! We refund the second charge today."}
    with factory() as session:
        reply = session.scalars(select(Reply)).one()
        assert reply.status == "sent" and reply.external_id == "m_answer-1"
