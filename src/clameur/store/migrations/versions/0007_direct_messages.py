"""direct messages: posts.private

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch (copy) on SQLite would drop the full-text
    # triggers of the posts table, and copy millions of rows for one flag.
    op.add_column(
        "posts", sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("posts", "private")
