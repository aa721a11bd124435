"""RSS and Atom feeds as listen sources."""

from clameur.connectors.rss.connector import RssConfig, RssConnector

__all__ = ["RssConfig", "RssConnector"]
