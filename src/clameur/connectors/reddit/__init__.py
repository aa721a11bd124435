"""Reddit: the connector and the flow that connects an account."""

from clameur.connectors.reddit.connector import RedditConfig, RedditConnector

__all__ = ["RedditConfig", "RedditConnector"]
