"""publications.media_alts: a description (alt text) for each image of a publication

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    # A plain ADD COLUMN on both databases; the server default makes the publications written
    # before it read as having no descriptions.
    op.add_column(
        "publications",
        sa.Column("media_alts", JSON, nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column("publications", "media_alts")
