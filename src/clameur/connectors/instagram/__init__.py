"""Instagram professional accounts: the connector (Graph API and webhooks)."""

from clameur.connectors.instagram.connector import InstagramConfig, InstagramConnector

__all__ = ["InstagramConfig", "InstagramConnector"]
