"""accounts: connector checkpoints and health, webhook deliveries

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import clameur.store.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
WHEN = clameur.store.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("processed_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["network_accounts.id"],
            name=op.f("fk_webhook_deliveries_account_id_network_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("account_id", "digest", name=op.f("uq_webhook_deliveries_account_id")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_account_id"), ["account_id"], unique=False
        )
    with op.batch_alter_table("network_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkpoints", JSON, nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("last_polled_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("last_success_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("last_error_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retry_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("fetched_day", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("fetched_today", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("network_accounts", schema=None) as batch_op:
        for column in (
            "fetched_today",
            "fetched_day",
            "retry_at",
            "last_error",
            "last_error_at",
            "last_success_at",
            "last_polled_at",
            "checkpoints",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_account_id"))
    op.drop_table("webhook_deliveries")
