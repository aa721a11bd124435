"""The checkpoint of a newest-first listing (Graph API edges, LinkedIn collections, Bluesky
searches and notifications).

Most network APIs list newest first and page back in time with a cursor or an offset. To read
everything once, a *sweep* walks back, one page per call, until it reaches the time up to which
the previous sweep read (`since`), less a few minutes of overlap for items indexed late. The
checkpoint keeps where the sweep is (`cursor`), the newest time it saw (`high`, the next
`since`) and the ids returned near the boundary (`seen`), so a restart resumes the sweep and
the overlap never returns an item twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from clameur.connectors.base import Checkpoint
from clameur.kit.time import parse_datetime, utcnow

T = TypeVar("T")
OVERLAP = timedelta(minutes=10)
SEEN_LIMIT = 2000


@dataclass
class Sweep:
    """Where a newest-first listing was read to, and what was returned near that point."""

    since: datetime | None = None
    cursor: str | None = None
    high: datetime | None = None
    seen: dict[str, str] = field(default_factory=dict)
    # Anything else the connector keeps with the checkpoint (JSON values).
    extra: dict[str, Any] = field(default_factory=dict)
    overlap: timedelta = OVERLAP

    @classmethod
    def load(cls, checkpoint: Checkpoint | None, overlap: timedelta = OVERLAP) -> Sweep:
        """The sweep stored in `checkpoint` (a fresh one for None)."""
        data = dict(checkpoint or {})

        def moment(name: str) -> datetime | None:
            value = data.pop(name, None)
            return parse_datetime(value) if isinstance(value, str) and value else None

        since, high = moment("since"), moment("high")
        cursor = data.pop("cursor", None)
        seen = data.pop("seen", None)
        return cls(
            since=since,
            cursor=str(cursor) if cursor else None,
            high=high,
            seen={str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {},
            extra=data,
            overlap=overlap,
        )

    @property
    def first(self) -> bool:
        """Whether no sweep finished yet (the first reads one page: what is there now)."""
        return self.since is None

    def lower_bound(self) -> datetime | None:
        """Items older than this were returned by an earlier sweep."""
        return self.since - self.overlap if self.since is not None else None

    def is_old(self, moment: datetime) -> bool:
        """Whether an item of that time belongs to an earlier sweep."""
        bound = self.lower_bound()
        return bound is not None and moment < bound

    def take(self, items: Iterable[tuple[str, datetime, T]]) -> list[T]:
        """The items not returned before, oldest first; they are remembered as returned."""
        fresh: list[tuple[datetime, T]] = []
        for key, moment, entity in items:
            if self.is_old(moment) or key in self.seen:
                continue
            self.seen[key] = moment.isoformat()
            fresh.append((moment, entity))
            if self.high is None or moment > self.high:
                self.high = moment
        fresh.sort(key=lambda pair: pair[0])
        return [entity for _, entity in fresh]

    def page_done(self, next_cursor: str | None, reached_old: bool = False) -> bool:
        """Record that a page was read; whether the sweep goes on (call again at once)."""
        more = next_cursor is not None and not reached_old and not self.first
        if more:
            self.cursor = next_cursor
            return True
        self.cursor = None
        self.since = self.high or self.since or utcnow()
        self._prune()
        return False

    def advance(
        self, items: Iterable[tuple[str, datetime, T]], next_cursor: str | None
    ) -> tuple[list[T], bool]:
        """One page of a listing sorted by the items' own times: the items not returned before
        (oldest first), and whether the sweep goes on (not past a page that reached back to an
        earlier sweep)."""
        page = list(items)
        reached_old = any(self.is_old(moment) for _, moment, _ in page)
        return self.take(page), self.page_done(next_cursor, reached_old)

    def _prune(self) -> None:
        bound = self.lower_bound()
        if bound is not None:
            self.seen = {
                key: at
                for key, at in self.seen.items()
                if parse_datetime(at) >= bound - self.overlap
            }
        if len(self.seen) > SEEN_LIMIT:
            self.seen = dict(sorted(self.seen.items(), key=lambda pair: pair[1])[-SEEN_LIMIT:])

    def dump(self) -> Checkpoint:
        """The checkpoint to store once the page's items are committed."""
        return {
            **self.extra,
            "since": self.since.isoformat() if self.since else None,
            "cursor": self.cursor,
            "high": self.high.isoformat() if self.high else None,
            "seen": dict(self.seen),
        }
