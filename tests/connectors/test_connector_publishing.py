"""A publication composed in Clameur, published through the real Mastodon client against a
replay of the documented API (https://docs.joinmastodon.org/methods/statuses/#create)."""

from __future__ import annotations

from typing import Any

from connector_replay import Answer, ReplayServer, payload
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import reply_senders
from clameur.connectors.base import Connector, ConnectorConfig
from clameur.connectors.mastodon import MastodonConfig, MastodonConnector
from clameur.connectors.secrets import SecretBox
from clameur.inbox.outbox import deliver_due, queue_reply
from clameur.kit.time import utcnow
from clameur.listening.service import load_query_index
from clameur.models import Conversation, NetworkAccount, Post, Publication, Reply, Role, User
from clameur.pipeline.runner import Runner
from clameur.pipeline.schemas import PostIn
from clameur.pipeline.stages import run_batch
from clameur.publishing import service
from clameur.publishing.dispatch import deliver_due_publications
from clameur.publishing.senders import ConnectorPublisher
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import create_workspace

BOX = SecretBox("a-test-key-that-is-long-enough")


def _mastodon_account(factory: sessionmaker[Session], server: ReplayServer) -> tuple[int, int]:
    config = MastodonConfig(instance_url=server.url, access_token="token-abcdefghijklmnop")
    with unit_of_work(factory) as session:
        workspace = create_workspace(session, "acme", "Acme", [])
        account = NetworkAccount(
            workspace_id=workspace.id, network="mastodon", handle="acme@mastodon.social"
        )
        account.config_encrypted = BOX.encrypt(config)
        manager = User(email="m@example.com", name="Camille", password_hash="x", role=Role.manager)
        session.add_all([account, manager])
        session.flush()
        [publication] = service.compose(
            session, workspace.id, manager, "Le programme du samedi est en ligne !", [account.id]
        )
        return account.id, publication.id


def _create(network: str, settings: ConnectorConfig) -> Connector[Any]:
    return MastodonConnector(settings, timeout=5, sleep=lambda _s: None)  # type: ignore[arg-type]


def _status(status_id: str) -> dict[str, Any]:
    entity = payload("mastodon_status.json")
    entity["id"] = status_id
    entity["content"] = "<p>Le programme du samedi est en ligne !</p>"
    entity["url"] = f"https://mastodon.social/@acme/{status_id}"
    return entity


def test_a_publication_is_posted_through_mastodon_and_stored_as_the_brands_post(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    _account_id, publication_id = _mastodon_account(factory, server)
    server.add("POST", "/api/v1/statuses", body=_status("113000000000000001"))

    Runner(factory, publisher=ConnectorPublisher(factory, BOX, _create)).drain()

    [sent] = server.seen("POST", "/api/v1/statuses")
    assert sent.form()["status"] == ["Le programme du samedi est en ligne !"]
    with factory() as session:
        publication = session.get(Publication, publication_id)
        assert publication is not None and publication.status == "sent"
        assert sent.headers["idempotency-key"] == publication.idempotency_key
        assert publication.external_id == "113000000000000001"
        assert publication.url == "https://mastodon.social/@acme/113000000000000001"
        stored = session.scalars(select(Post).where(Post.external_id == "113000000000000001"))
        assert stored.one().network == "mastodon"


def test_an_outage_is_retried_with_the_same_idempotency_key(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    _account_id, publication_id = _mastodon_account(factory, server)
    server.add(
        "POST",
        "/api/v1/statuses",
        # The connector tries three times at once; then the outbox waits and tries again.
        *[Answer(503, {"error": "Service Unavailable"})] * 3,
        Answer(200, _status("7")),
    )
    publisher = ConnectorPublisher(factory, BOX, _create)
    now = utcnow()

    assert deliver_due_publications(factory, publisher, now=now).retrying == [publication_id]
    with factory() as session:
        waiting = session.get(Publication, publication_id)
        assert waiting is not None and waiting.status == "scheduled" and waiting.error
        retry_at = waiting.next_attempt_at
    assert retry_at is not None

    assert deliver_due_publications(factory, publisher, now=retry_at).sent == [publication_id]
    requests = server.seen("POST", "/api/v1/statuses")
    assert len(requests) == 4
    assert len({seen.headers["idempotency-key"] for seen in requests}) == 1


def test_a_revoked_token_fails_the_publication_and_marks_the_account(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    account_id, publication_id = _mastodon_account(factory, server)
    server.add(
        "POST", "/api/v1/statuses", status=401, body={"error": "The access token was revoked"}
    )

    report = deliver_due_publications(factory, ConnectorPublisher(factory, BOX, _create))

    assert report.failed == [publication_id]
    with factory() as session:
        publication = session.get(Publication, publication_id)
        account = session.get(NetworkAccount, account_id)
        assert publication is not None and "revoked" in (publication.error or "")
        assert account is not None and account.status == "needs_attention"


def test_a_reply_refused_for_a_revoked_token_marks_the_account_too(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    account_id, _publication_id = _mastodon_account(factory, server)
    with unit_of_work(factory) as session:
        account = session.get(NetworkAccount, account_id)
        assert account is not None
        post = PostIn.model_validate(
            {
                "id": "109",
                "network": "mastodon",
                "text": "@acme@mastodon.social my order never came",
                "created_at": "2026-06-01T10:00:00Z",
                "author": {"handle": "marie@piaille.fr"},
            }
        )
        run_batch(
            session, account.workspace_id, [post], load_query_index(session, account.workspace_id)
        )
        conversation = session.scalars(select(Conversation)).one()
        manager = session.scalars(select(User)).one()
        queue_reply(session, conversation, manager, "Sorry, we are looking into it.", None)
    server.add(
        "POST", "/api/v1/statuses", status=401, body={"error": "The access token was revoked"}
    )

    report = deliver_due(factory, reply_senders(factory, BOX, _create))

    assert len(report.failed) == 1
    with factory() as session:
        assert session.scalars(select(Reply)).one().status == "failed"
        stored = session.get(NetworkAccount, account_id)
        assert stored is not None and stored.status == "needs_attention"
