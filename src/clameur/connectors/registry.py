"""Which connectors exist: the built-in ones, and third-party ones installed as packages.

A package adds a connector by declaring an entry point in the `clameur.connectors` group whose
name is the network and whose value is its `Connector` subclass, for example in its
pyproject.toml:

    [project.entry-points."clameur.connectors"]
    pixelfed = "clameur_pixelfed:PixelfedConnector"

Built-ins are imported lazily, so a network's client library is loaded only when it is used.
A built-in wins over a third-party connector of the same name; a plugin that fails to load is
logged and left out, never stopping the others.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from clameur.connectors.base import Connector, ConnectorConfig, PermanentError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "clameur.connectors"
BUILTINS: dict[str, str] = {
    "mastodon": "clameur.connectors.mastodon.connector:MastodonConnector",
    "bluesky": "clameur.connectors.bluesky.connector:BlueskyConnector",
    "rss": "clameur.connectors.rss.connector:RssConnector",
    "facebook": "clameur.connectors.facebook.connector:FacebookConnector",
    "instagram": "clameur.connectors.instagram.connector:InstagramConnector",
    "linkedin": "clameur.connectors.linkedin.connector:LinkedInConnector",
    "reddit": "clameur.connectors.reddit.connector:RedditConnector",
    "x": "clameur.connectors.x.connector:XConnector",
    "youtube": "clameur.connectors.youtube.connector:YoutubeConnector",
}

ConnectorClass = type[Connector[Any]]


def _load(target: str) -> ConnectorClass:
    module_name, _, attribute = target.partition(":")
    loaded = getattr(import_module(module_name), attribute)
    if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
        raise TypeError(f"{target} is not a Connector subclass")
    return loaded


@cache
def _plugins() -> dict[str, ConnectorClass]:
    found: dict[str, ConnectorClass] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in BUILTINS:
            log.warning("connector plugin %s ignored: %s is built in", entry.value, entry.name)
            continue
        try:
            loaded = entry.load()
            if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
                raise TypeError("not a clameur.connectors.base.Connector subclass")
        except Exception:  # noqa: BLE001 - a broken plugin must not stop the others
            log.exception("connector plugin %s (%s) could not be loaded", entry.name, entry.value)
            continue
        found[entry.name] = loaded
    return found


def networks() -> list[str]:
    """The networks a connector is available for (built-in and installed), sorted."""
    return sorted({*BUILTINS, *_plugins()})


def get(network: str) -> ConnectorClass:
    """The connector class of `network`."""
    if network in BUILTINS:
        return _load(BUILTINS[network])
    plugin = _plugins().get(network)
    if plugin is None:
        raise PermanentError(
            f"No connector for {network!r} is installed (available: {', '.join(networks())}).",
            network,
        )
    return plugin


def config_model(network: str) -> type[ConnectorConfig]:
    """The settings model (and form) of `network`'s connector."""
    return get(network).config_model


def create(network: str, config: ConnectorConfig) -> Connector[Any]:
    """A connector for `network` with `config`."""
    cls = get(network)
    if not isinstance(config, cls.config_model):
        raise TypeError(f"{network} takes a {cls.config_model.__name__}")
    return cls(config)


def refresh_plugins() -> None:
    """Forget the loaded plugin list (after installing one, and in tests)."""
    _plugins.cache_clear()
