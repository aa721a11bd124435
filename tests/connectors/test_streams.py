"""Live listening: the stream supervisor stores what streams bring in the inbound queue with
their checkpoint, resumes from it, reconnects with a growing wait, and keeps a refused token to
the account that has it. The streams here are scripted; each network's own stream is tested
against a replay of its documented payloads in its connector's tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from connector_replay import ReplayServer, payload
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import poll_account, save_account, set_paused
from clameur.accounts.streams import STREAM_KEY, AccountStream, StreamLeader, StreamSupervisor
from clameur.connectors.base import (
    AuthError,
    Checkpoint,
    Connector,
    ConnectorConfig,
    RateLimited,
    RetryableError,
    StreamItem,
)
from clameur.connectors.mastodon import MastodonConfig, MastodonConnector
from clameur.connectors.secrets import SecretBox
from clameur.kit.time import utcnow
from clameur.models import InboundItem, NetworkAccount, Notification, Post, Role, User
from clameur.pipeline.runner import Runner
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import create_workspace

BOX = SecretBox("a-test-key-that-is-long-enough")
TAG = "/api/v1/timelines/tag/clameur"


def status(status_id: int) -> dict[str, Any]:
    """The documented Status example (docs.joinmastodon.org/entities/Status) with another id."""
    entity = payload("mastodon_status.json")
    entity["id"] = str(status_id)
    entity["content"] = f"<p>post {status_id} about #clameur</p>"
    entity["url"] = f"https://mastodon.social/@Gargron/{status_id}"
    return entity


class Script:
    """What the scripted stream of each account (named by its first hashtag) does: posts to
    yield, errors to raise, one list per connection; the checkpoints it was given."""

    def __init__(self) -> None:
        self.connections: dict[str, list[list[Any]]] = {}
        self.given: dict[str, list[Checkpoint | None]] = {}

    def create(self, network: str, config: ConnectorConfig) -> Connector[Any]:
        assert network == "mastodon" and isinstance(config, MastodonConfig)
        return ScriptedStream(config, self)


class ScriptedStream(MastodonConnector):
    """The Mastodon connector (its normalisation and polling are real) with a scripted stream."""

    def __init__(self, config: MastodonConfig, script: Script) -> None:
        super().__init__(config, timeout=5, sleep=lambda _seconds: None)
        self.script = script

    def stream(self, checkpoint: Checkpoint | None, stop: threading.Event) -> Iterator[StreamItem]:
        name = self.config.hashtags[0]
        self.script.given.setdefault(name, []).append(checkpoint)
        plans = self.script.connections.get(name) or [[]]
        steps = plans.pop(0) if len(plans) > 1 else plans[0]
        yield StreamItem()
        for step in steps:
            if isinstance(step, Exception):
                raise step
            yield StreamItem(self.to_post(step[0]), step[1])
        while not stop.is_set():  # connected and quiet, until stopped
            stop.wait(0.02)
            yield StreamItem()


def _account(factory: sessionmaker[Session], tag: str, stream: bool = True) -> int:
    with unit_of_work(factory) as session:
        workspace = create_workspace(session, tag, tag.title(), [])
        form = {
            "account_name": tag,
            "instance_url": "https://mastodon.example",
            "access_token": "token-abcdefghijklmnop",
            "hashtags": tag,
        }
        if stream:
            form["stream"] = "on"
        return save_account(session, BOX, workspace.id, "mastodon", form).id


def _supervisor(factory: sessionmaker[Session], create: Callable[..., Any]) -> StreamSupervisor:
    return StreamSupervisor(
        factory,
        BOX,
        create,
        rescan_every=3600,
        min_wait=0.01,
        max_wait=0.05,
        flush_every=0.01,
        checkpoint_every=0.01,
    )


def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def _queued(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with factory() as session:
        return [
            (item.source, item.payload["id"])
            for item in session.scalars(select(InboundItem).order_by(InboundItem.id))
        ]


def _account_row(factory: sessionmaker[Session], account_id: int) -> NetworkAccount:
    with factory() as session:
        account = session.get(NetworkAccount, account_id)
        assert account is not None
        session.expunge(account)
        return account


def test_streamed_posts_reach_the_database_with_their_checkpoint_and_a_restart_resumes(
    factory: sessionmaker[Session],
) -> None:
    account_id = _account(factory, "clameur")
    quiet_id = _account(factory, "quiet", stream=False)
    script = Script()
    script.connections["clameur"] = [
        [(status(1), {"cursor": 10}), (status(2), {"cursor": 20})],
        [(status(3), {"cursor": 30})],
    ]
    supervisor = _supervisor(factory, script.create)

    supervisor.start()
    try:
        _until(lambda: len(_queued(factory)) == 2)
        assert supervisor.streaming() == [account_id]  # the quiet account does not stream
    finally:
        supervisor.stop()

    assert _queued(factory) == [
        (f"mastodon:{account_id}:stream", "1"),
        (f"mastodon:{account_id}:stream", "2"),
    ]
    account = _account_row(factory, account_id)
    assert account.checkpoints == {STREAM_KEY: {"cursor": 20}}
    assert account.fetched_today == 2 and account.last_success_at is not None
    assert _account_row(factory, quiet_id).checkpoints in (None, {})
    Runner(factory).drain()
    with factory() as session:
        assert sorted(p.external_id for p in session.scalars(select(Post))) == ["1", "2"]

    restarted = _supervisor(factory, script.create)
    restarted.start()
    try:
        _until(lambda: len(_queued(factory)) == 3)
    finally:
        restarted.stop()
    assert script.given["clameur"] == [None, {"cursor": 20}]
    assert _account_row(factory, account_id).checkpoints == {STREAM_KEY: {"cursor": 30}}


def test_a_refused_token_needs_attention_and_the_other_accounts_stream_on(
    factory: sessionmaker[Session],
) -> None:
    refused = _account(factory, "refused")
    fine = _account(factory, "fine")
    with unit_of_work(factory) as session:
        session.add(User(email="m@example.com", name="M", password_hash="x", role=Role.manager))
    script = Script()
    script.connections["refused"] = [[AuthError("the token was revoked", "mastodon")]]
    script.connections["fine"] = [[(status(5), None)]]
    supervisor = _supervisor(factory, script.create)

    supervisor.start()
    try:
        _until(lambda: _account_row(factory, refused).status == "needs_attention")
        _until(lambda: [i for _, i in _queued(factory)] == ["5"])
        _until(lambda: supervisor.streaming() == [fine])
    finally:
        supervisor.stop()

    assert "revoked" in (_account_row(factory, refused).last_error or "")
    assert len(script.given["refused"]) == 1  # not reconnected with a refused token
    with factory() as session:
        told = session.scalars(select(Notification)).all()
        assert [(n.kind, n.link) for n in told] == [
            ("accounts.needs_attention", f"/settings/accounts/{refused}")
        ]


def test_an_outage_reconnects_keeping_the_error_without_delaying_polling(
    factory: sessionmaker[Session],
) -> None:
    account_id = _account(factory, "clameur")
    script = Script()
    script.connections["clameur"] = [
        [RetryableError("the stream was cut", "mastodon")],
        [(status(8), {"cursor": 80})],
    ]
    supervisor = _supervisor(factory, script.create)

    supervisor.start()
    try:
        _until(lambda: len(_queued(factory)) == 1)
    finally:
        supervisor.stop()

    account = _account_row(factory, account_id)
    assert len(script.given["clameur"]) == 2
    assert "the stream was cut" in (account.last_error or "")
    assert account.status == "active" and account.retry_at is None


def test_reconnection_waits_double_up_to_the_cap_and_respect_a_rate_limit(
    factory: sessionmaker[Session],
) -> None:
    account_id = _account(factory, "clameur")
    supervisor = StreamSupervisor(factory, BOX, Script().create, min_wait=1, max_wait=300)
    worker = AccountStream(supervisor, account_id, None)
    outage = RetryableError("down", "mastodon")

    waits = [worker._failed(outage) for _ in range(10)]
    limited = worker._failed(
        RateLimited("limit", "mastodon", retry_at=utcnow() + timedelta(hours=1))
    )

    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert 3590 < limited <= 3600


def test_new_paused_and_changed_accounts_are_noticed(factory: sessionmaker[Session]) -> None:
    script = Script()
    supervisor = _supervisor(factory, script.create)
    supervisor.start()
    try:
        assert supervisor.streaming() == []
        first = _account(factory, "first")
        supervisor.rescan()
        assert supervisor.streaming() == [first]
        _until(lambda: len(script.given.get("first", [])) == 1)  # connected

        with unit_of_work(factory) as session:
            account = session.get(NetworkAccount, first)
            assert account is not None
            set_paused(session, account, True)
        supervisor.rescan()
        assert supervisor.streaming() == []

        with unit_of_work(factory) as session:
            account = session.get(NetworkAccount, first)
            assert account is not None
            set_paused(session, account, False)
            save_account(
                session,
                BOX,
                account.workspace_id,
                "mastodon",
                {
                    "account_name": "first",
                    "instance_url": "https://mastodon.example",
                    "hashtags": "first",
                    "stream": "on",
                },
                first,
            )
        supervisor.rescan()
        _until(lambda: supervisor.streaming() == [first])
        _until(lambda: len(script.given.get("first", [])) == 2)  # again, with the new settings
    finally:
        supervisor.stop()
    assert supervisor.streaming() == []


def test_a_post_read_by_the_stream_and_by_polling_is_stored_once(
    factory: sessionmaker[Session], server: ReplayServer
) -> None:
    server.add("GET", TAG, body=[status(7)])
    with unit_of_work(factory) as session:
        workspace = create_workspace(session, "both", "Both", [])
        account_id = save_account(
            session,
            BOX,
            workspace.id,
            "mastodon",
            {
                "account_name": "both",
                "instance_url": server.url,
                "access_token": "token-abcdefghijklmnop",
                "hashtags": "clameur",
                "stream": "on",
            },
        ).id
    script = Script()
    script.connections["clameur"] = [[(status(7), None)]]
    supervisor = _supervisor(factory, script.create)

    supervisor.start()
    try:
        _until(lambda: len(_queued(factory)) == 1)
    finally:
        supervisor.stop()
    polled = poll_account(factory, BOX, account_id, script.create)
    Runner(factory).drain()

    assert polled.posts == 1 and len(_queued(factory)) == 2
    with factory() as session:
        assert [p.external_id for p in session.scalars(select(Post))] == ["7"]


class _CountingSupervisor:
    """Stands for the supervisor: counts how often it was started and stopped."""

    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0

    def start(self) -> None:
        self.started += 1

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped += 1


def test_only_one_process_runs_the_streams_and_another_takes_over_when_it_stops(
    factory: sessionmaker[Session],
) -> None:
    first_streams, second_streams = _CountingSupervisor(), _CountingSupervisor()
    first = StreamLeader(factory, BOX, retry_every=0.05, supervisor=first_streams)  # type: ignore[arg-type]
    second = StreamLeader(factory, BOX, retry_every=0.05, supervisor=second_streams)  # type: ignore[arg-type]
    first.start()
    second.start()
    try:
        time.sleep(0.2)
        assert (first.leading, second.leading) == (True, False)
        assert (first_streams.started, second_streams.started) == (1, 0)
        first.stop()
        assert first_streams.stopped == 1
        deadline = time.monotonic() + 5
        while not second.leading and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.leading and second_streams.started == 1
    finally:
        first.stop()
        second.stop()
