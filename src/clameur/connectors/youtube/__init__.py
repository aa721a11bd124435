"""YouTube Data API v3: the connector and the flow that connects a channel."""

from clameur.connectors.youtube.connector import YoutubeConfig, YoutubeConnector

__all__ = ["YoutubeConfig", "YoutubeConnector"]
