"""Fixtures for the connector tests: a replay server of the networks' documented payloads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from connector_replay import ReplayServer


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    """A replay server on a free local port."""
    replay = ReplayServer()
    try:
        yield replay
    finally:
        replay.close()


@pytest.fixture(autouse=True)
def _images_from_the_replay_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay server listens on 127.0.0.1, a private address images are never taken from
    in production (tests/connectors/test_connector_media.py checks that refusal)."""
    from clameur.connectors import media

    monkeypatch.setattr(media, "PRIVATE_ADDRESSES_ALLOWED", True)
