"""Reading one row that must belong to a workspace."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from clameur.kit.errors import NotFound

RowT = TypeVar("RowT")


def workspace_row(
    session: Session, model: type[RowT], workspace_id: int, row_id: Any, what: str
) -> RowT:
    """The row `row_id` of `model`, provided it belongs to the workspace; NotFound otherwise
    (another workspace's row is not found either, rather than forbidden)."""
    row = session.get(model, row_id)
    if row is None or getattr(row, "workspace_id", None) != workspace_id:
        raise NotFound(f"no {what} {row_id} in this workspace")
    return row
