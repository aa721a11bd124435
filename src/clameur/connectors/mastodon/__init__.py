"""Mastodon: the connector and the flow that connects an account."""

from clameur.connectors.mastodon.connector import MastodonConfig, MastodonConnector

__all__ = ["MastodonConfig", "MastodonConnector"]
