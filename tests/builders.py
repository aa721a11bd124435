"""Builders for rows and records used across the tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from clameur.models import Workspace
from clameur.pipeline.schemas import PostIn
from clameur.pipeline.stages import BatchResult, run_batch
from clameur.query import QueryIndex

_ids = itertools.count(1)
BASE_TIME = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def make_record(**overrides: Any) -> dict[str, Any]:
    """An import-schema record; every field can be overridden."""
    n = next(_ids)
    record: dict[str, Any] = {
        "id": f"p{n}",
        "network": "x",
        "text": f"Post numéro {n} sur le festival",
        "created_at": (BASE_TIME + timedelta(minutes=n)).isoformat(),
        "author": {"handle": f"user{n % 7}", "name": f"User {n % 7}", "followers": n * 10},
    }
    record.update(overrides)
    return record


def make_workspace(session: Session, slug: str = "acme", name: str = "Acme") -> Workspace:
    """A workspace row."""
    workspace = Workspace(slug=slug, name=name)
    session.add(workspace)
    session.flush()
    return workspace


def add_posts(
    session: Session,
    workspace_id: int,
    records: list[dict[str, Any]],
    index: QueryIndex | None = None,
) -> BatchResult:
    """Run records through the pipeline into the store."""
    posts = [PostIn.model_validate(r) for r in records]
    return run_batch(session, workspace_id, posts, index or QueryIndex({}), records)
