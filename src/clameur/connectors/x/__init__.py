"""X (API v2): the connector and the flow that connects an account."""

from clameur.connectors.x.connector import XConfig, XConnector

__all__ = ["XConfig", "XConnector"]
