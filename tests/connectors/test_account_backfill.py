"""Backfill: an account's past posts between two dates, read back in time, stored once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import backfill_account, save_account
from clameur.connectors.base import (
    Capability,
    Connector,
    ConnectorConfig,
    FetchResult,
    ListenSource,
)
from clameur.connectors.secrets import SecretBox
from clameur.models import NetworkAccount, Post
from clameur.pipeline.runner import Runner
from clameur.pipeline.schemas import PostIn
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import create_workspace

BOX = SecretBox("a-test-key-that-is-long-enough")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class PagesBackInTime(Connector[Any]):
    """A network whose listing goes back in time, ten posts a page, one a day per post."""

    network: ClassVar[str] = "mastodon"
    title: ClassVar[str] = "Pages"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.listen})
    config_model: ClassVar[type[ConnectorConfig]] = ConnectorConfig
    pages_read: ClassVar[list[int]] = []

    def sources(self) -> list[ListenSource]:
        return [ListenSource("search", "acme")]

    def listen(self, source: ListenSource, checkpoint: Any, limit: int = 100) -> FetchResult:
        page = (checkpoint or {}).get("page", 0)
        type(self).pages_read.append(page)
        posts = [
            PostIn(
                id=f"p{page * 10 + i}",
                network="mastodon",
                text=f"post {page * 10 + i} about acme",
                created_at=NOW - timedelta(hours=12 * (page * 10 + i)),
            )
            for i in range(10)
        ]
        return FetchResult(posts, {"page": page + 1}, more=page < 50)


def test_a_backfill_reads_back_to_its_start_keeps_its_range_and_stores_each_post_once(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        workspace = create_workspace(session, "acme", "Acme", [])
        account_id = save_account(
            session,
            BOX,
            workspace.id,
            "mastodon",
            {
                "account_name": "acme",
                "instance_url": "https://example.social",
                "access_token": "x" * 20,
            },
        ).id
    PagesBackInTime.pages_read = []

    def create(network: str, config: ConnectorConfig) -> Connector[Any]:
        return PagesBackInTime(config)

    seen: list[int] = []
    since, until = NOW - timedelta(days=12), NOW - timedelta(days=2)
    result = backfill_account(
        factory, BOX, account_id, since, until, create, on_page=lambda p: seen.append(p.posts)
    )
    # Posts every 12 hours: 20 between day 12 and day 2 (day 2 itself excluded).
    assert result.posts == 20
    assert PagesBackInTime.pages_read == [0, 1, 2]  # stops once past `since`
    assert seen == sorted(seen) and seen[-1] == 20
    backfill_account(factory, BOX, account_id, since, until, create)
    Runner(factory).drain()
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 20
        times = session.scalars(select(Post.created_at)).all()
        assert min(times) >= since and max(times) < until
        # The live listening's checkpoints are untouched.
        account = session.get(NetworkAccount, account_id)
        assert account is not None and account.checkpoints == {}
