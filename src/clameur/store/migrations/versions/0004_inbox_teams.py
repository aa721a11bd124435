"""inbox teams: assignment per queue, agents away and their capacity, rule conditions on network
and account, SLA breach notifications, one reply in flight per conversation

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clameur.store.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

IN_FLIGHT = "status IN ('awaiting_approval', 'queued', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("away", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("inbox_capacity", sa.Integer(), nullable=True))

    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("assignment", sa.String(length=16), nullable=False, server_default="manual")
        )
        batch_op.add_column(sa.Column("last_assignee_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_queues_last_assignee_id_users"),
            "users",
            ["last_assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("network", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_rules_account_id_network_accounts"),
            "network_accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sla_notified_through",
                clameur.store.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )

    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("created_at", clameur.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", clameur.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_notifications_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_notifications_user_id")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_unread", ["user_id", "workspace_id", "read_at"], unique=False
        )

    # Only one reply in flight per conversation, whatever two composers do at once. Older
    # databases could hold several: the oldest stays, the others are discarded.
    op.execute(
        f"UPDATE replies SET status = 'discarded' WHERE {IN_FLIGHT} AND id NOT IN "
        f"(SELECT MIN(id) FROM replies WHERE {IN_FLIGHT} GROUP BY conversation_id)"
    )
    op.create_index(
        "uq_replies_in_flight",
        "replies",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text(IN_FLIGHT),
        postgresql_where=sa.text(IN_FLIGHT),
    )


def downgrade() -> None:
    op.drop_index("uq_replies_in_flight", table_name="replies")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_unread")
    op.drop_table("notifications")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("sla_notified_through")
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.drop_constraint("fk_rules_account_id_network_accounts", type_="foreignkey")
        batch_op.drop_column("account_id")
        batch_op.drop_column("network")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_constraint("fk_queues_last_assignee_id_users", type_="foreignkey")
        batch_op.drop_column("last_assignee_id")
        batch_op.drop_column("assignment")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("inbox_capacity")
        batch_op.drop_column("away")
