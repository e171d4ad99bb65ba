"""DeFi yield: the supply/borrow rate of each (asset, position key) read with a snapshot, so the
window shows the last known rates at start and an APY alert can compare two refreshes. Rows go
with their snapshot (``ON DELETE CASCADE``), so compaction of old snapshots takes them along.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshot_rates",
        sa.Column(
            "snapshot_id",
            sa.Integer,
            sa.ForeignKey("snapshots.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.String(200), primary_key=True),
        sa.Column("chain", sa.String(100), nullable=False),
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column("apy", sa.Text, nullable=False),
        sa.Column("apr", sa.Text, nullable=True),
        sa.Column("protocol", sa.String(64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("snapshot_rates")
