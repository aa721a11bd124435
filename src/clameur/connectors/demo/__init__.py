"""The demo: a fictional festival workspace and a stream of posts that tells its crisis."""

from clameur.connectors.demo.generator import DemoStream
from clameur.connectors.demo.workspace import DEMO_USERS, DEMO_WORKSPACE

__all__ = ["DEMO_USERS", "DEMO_WORKSPACE", "DemoStream"]
