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
