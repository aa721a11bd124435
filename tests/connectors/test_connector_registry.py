"""Built-in and third-party connectors, and the outbox's view of a connector."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from clameur.connectors import registry
from clameur.connectors.base import (
    Capability,
    Connector,
    ConnectorConfig,
    OutboxSender,
    OutgoingPost,
    PermanentError,
    Published,
    Unsupported,
)
from clameur.connectors.mastodon import MastodonConfig, MastodonConnector
from clameur.connectors.rss import RssConfig, RssConnector
from clameur.inbox.outbox import ReplySender


class PixelfedConfig(ConnectorConfig):
    """A third party's settings."""

    instance_url: str = "https://pixelfed.social"


class PixelfedConnector(Connector[PixelfedConfig]):
    """A third party's connector that can only reply."""

    network: ClassVar[str] = "pixelfed"
    title: ClassVar[str] = "Pixelfed"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.reply})
    config_model: ClassVar[type[ConnectorConfig]] = PixelfedConfig

    def __init__(self, config: PixelfedConfig) -> None:
        super().__init__(config)
        self.sent: list[OutgoingPost] = []

    def reply(self, post: OutgoingPost) -> Published:
        self.sent.append(post)
        return Published(f"pf-{post.idempotency_key}")


class FakeEntryPoint:
    def __init__(self, name: str, loaded: Any) -> None:
        self.name, self.value, self.loaded = name, f"plugin:{name}", loaded

    def load(self) -> Any:
        if isinstance(self.loaded, Exception):
            raise self.loaded
        return self.loaded


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Any:
    installed = [
        FakeEntryPoint("pixelfed", PixelfedConnector),
        FakeEntryPoint("broken", ImportError("missing dependency")),
        FakeEntryPoint("mastodon", PixelfedConnector),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: installed)
    registry.refresh_plugins()
    yield installed
    registry.refresh_plugins()


def test_builtin_connectors_are_found_by_network() -> None:
    assert registry.get("mastodon") is MastodonConnector
    assert registry.config_model("rss") is RssConfig
    assert isinstance(registry.create("rss", RssConfig(feeds=[])), RssConnector)


def test_third_party_connectors_come_from_the_entry_point_group(plugins: Any) -> None:
    assert registry.networks() == sorted({*registry.BUILTINS, "pixelfed"})
    assert registry.get("pixelfed") is PixelfedConnector
    # A plugin cannot replace a built-in, and a broken one is left out.
    assert registry.get("mastodon") is MastodonConnector


def test_an_unknown_network_says_which_are_available(plugins: Any) -> None:
    with pytest.raises(
        PermanentError,
        match="No connector for 'tiktok'.*bluesky, facebook, instagram, linkedin, mastodon",
    ):
        registry.get("tiktok")


def test_a_capability_the_network_lacks_is_refused_plainly() -> None:
    rss = RssConnector(RssConfig(feeds=[]))

    assert not rss.can(Capability.reply)
    with pytest.raises(Unsupported, match="RSS / Atom connector cannot reply"):
        rss.reply(OutgoingPost("hello", "key"))


def test_the_outbox_sends_through_the_workspace_accounts_connector() -> None:
    connector = PixelfedConnector(PixelfedConfig())
    asked: list[int] = []

    def connector_for(workspace_id: int) -> Connector[Any]:
        asked.append(workspace_id)
        return connector

    sender = OutboxSender(connector_for)
    created = datetime(2024, 10, 15, tzinfo=UTC)
    reply: Any = SimpleNamespace(body="On it!", idempotency_key="k1", created_at=created)
    conversation: Any = SimpleNamespace(workspace_id=7, kind="public")
    post: Any = SimpleNamespace(external_id="post-9")

    assert isinstance(sender, ReplySender)
    assert sender.send_reply(reply, conversation, post) == "pf-k1"
    assert asked == [7]
    assert connector.sent == [OutgoingPost("On it!", "k1", "post-9", created)]
    with pytest.raises(PermanentError, match="no message to answer"):
        sender.send_reply(reply, conversation, None)


def test_mastodon_declares_what_it_can_do() -> None:
    mastodon = MastodonConnector(MastodonConfig(instance_url="mastodon.social"))

    assert mastodon.can(Capability.reply) and not mastodon.can(Capability.webhooks)
