"""``snapshot_holdings`` gains ``manual_price``: whether a holding was valued with the person's
manual override rather than a price source, so the window and exports can mark it.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot_holdings") as batch:
        batch.add_column(
            sa.Column("manual_price", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("snapshot_holdings") as batch:
        batch.drop_column("manual_price")
