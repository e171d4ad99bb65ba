"""Snapshots: a totals row per refresh plus its holdings, indexed for timelines.

Raw amounts and money are text (uint256 and Decimal do not fit SQLite numbers).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("taken_at", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("total", sa.Text, nullable=False),
        sa.Column("stale_total", sa.Text, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),  # JSON list of per-source status
    )
    op.create_index("ix_snapshots_taken_at", "snapshots", ["taken_at"])
    op.create_table(
        "snapshot_holdings",
        sa.Column(
            "snapshot_id",
            sa.Integer,
            sa.ForeignKey("snapshots.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("wallet", sa.String(200), primary_key=True),
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("decimals", sa.Integer, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("price", sa.Text, nullable=True),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("as_of", sa.Integer, nullable=False),
    )
    op.create_index("ix_snapshot_holdings_asset", "snapshot_holdings", ["asset_id", "snapshot_id"])


def downgrade() -> None:
    op.drop_index("ix_snapshot_holdings_asset", "snapshot_holdings")
    op.drop_table("snapshot_holdings")
    op.drop_index("ix_snapshots_taken_at", "snapshots")
    op.drop_table("snapshots")
