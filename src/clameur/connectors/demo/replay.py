"""The demo's live source: streams generated posts into the inbound queue at a steady pace."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from clameur.connectors.demo.generator import DemoStream
from clameur.kit.time import utcnow
from clameur.pipeline.runner import enqueue_posts
from clameur.store.engine import unit_of_work

log = logging.getLogger(__name__)


class DemoReplay:
    """A thread that feeds the demo workspace with live posts, a crisis building up over minutes."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        workspace_id: int,
        posts_per_minute: float = 40.0,
        seed: int = 2017,
        tick_seconds: float = 2.0,
    ) -> None:
        self.factory = factory
        self.workspace_id = workspace_id
        self.base_rate = posts_per_minute
        self.tick = tick_seconds
        # Live ids must not collide with the history loaded earlier, nor with a previous run.
        self.stream = DemoStream(seed=seed + int(time.time()))
        self.stop_event = threading.Event()
        self.sent = 0

    def step(self, elapsed: float, seconds: float) -> int:
        """Enqueue the posts due for `seconds` of stream at `elapsed` seconds from the start."""
        # The generator's rate is a shape (calm, then the crisis); scale it to the configured pace.
        factor = self.stream.rate(elapsed) / max(self.stream.rate(0.0), 1e-9)
        due = self.base_rate * factor * seconds / 60.0
        count = int(due)
        if self.stream_fraction(due - count):
            count += 1
        if count <= 0:
            return 0
        posts = self.stream.next_posts(utcnow(), elapsed, count)
        with unit_of_work(self.factory) as session:
            enqueue_posts(session, self.workspace_id, "demo", posts)
        self.sent += count
        return count

    def stream_fraction(self, fraction: float) -> bool:
        """Carry fractional posts over ticks without randomness drifting the pace."""
        self._carry = getattr(self, "_carry", 0.0) + fraction
        if self._carry >= 1.0:
            self._carry -= 1.0
            return True
        return False

    def run_forever(self) -> None:
        """Stream until stopped."""
        started = time.monotonic()
        while not self.stop_event.wait(self.tick):
            try:
                self.step(time.monotonic() - started, self.tick)
            except Exception:  # noqa: BLE001 - a failed tick must not end the demo
                log.exception("demo replay tick failed")

    def start_thread(self) -> threading.Thread:
        """Run in a daemon thread."""
        thread = threading.Thread(target=self.run_forever, name="clameur-demo", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop streaming."""
        self.stop_event.set()
