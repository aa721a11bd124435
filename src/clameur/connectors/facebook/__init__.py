"""Facebook Pages: the connector (Graph API and webhooks)."""

from clameur.connectors.facebook.connector import FacebookConfig, FacebookConnector

__all__ = ["FacebookConfig", "FacebookConnector"]
