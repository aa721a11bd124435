"""Bluesky: the connector, signed in with an app password."""

from clameur.connectors.bluesky.connector import BlueskyConfig, BlueskyConnector

__all__ = ["BlueskyConfig", "BlueskyConnector"]
