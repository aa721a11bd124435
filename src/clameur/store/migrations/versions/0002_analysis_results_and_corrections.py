"""analysis results and corrections

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from clameur.store.base import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("value", Json, nullable=False),
        sa.Column("previous", Json, nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_corrections_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_corrections_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index("ix_corrections_field_created", "corrections", ["field", "created_at"])
    # Plain ADD COLUMN (no table rebuild on SQLite, so the full-text triggers stay in place).
    op.add_column("posts", sa.Column("sentiment_score", sa.Float(), nullable=True))
    op.add_column("posts", sa.Column("hostile", sa.Boolean(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference inline; Alembic would rebuild the table.
        op.execute(
            "ALTER TABLE posts ADD COLUMN duplicate_of_id INTEGER "
            "REFERENCES posts (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("posts", sa.Column("duplicate_of_id", BigId, nullable=True))
        op.create_foreign_key(
            "fk_posts_duplicate_of_id_posts",
            "posts",
            "posts",
            ["duplicate_of_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column(
        "posts",
        sa.Column("duplicate_count", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column("posts", sa.Column("influence", sa.Float(), nullable=True))
    op.create_index(
        "ix_posts_workspace_sentiment_created",
        "posts",
        ["workspace_id", "sentiment", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_posts_workspace_sentiment_created", table_name="posts")
    op.drop_column("posts", "influence")
    op.drop_column("posts", "duplicate_count")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_posts_duplicate_of_id_posts", "posts", type_="foreignkey")
    op.drop_column("posts", "duplicate_of_id")
    op.drop_column("posts", "hostile")
    op.drop_column("posts", "sentiment_score")
    op.drop_index("ix_corrections_field_created", table_name="corrections")
    op.drop_table("corrections")
