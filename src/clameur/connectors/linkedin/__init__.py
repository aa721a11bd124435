"""LinkedIn organisations: the connector (Community Management API) and the OAuth flow."""

from clameur.connectors.linkedin.connector import LinkedInConfig, LinkedInConnector

__all__ = ["LinkedInConfig", "LinkedInConnector"]
