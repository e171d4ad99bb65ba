"""Price cache, daily price history (backfill), manual overrides, backfill progress.

Prices are Decimal stored as text; times are epoch seconds (UTC).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prices",
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("currency", sa.String(8), primary_key=True),
        sa.Column("price", sa.Text, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("fetched_at", sa.Integer, nullable=False),
        sa.Column("change_24h", sa.Text, nullable=True),  # percent, Decimal as text
    )
    op.create_table(
        "price_history",
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("currency", sa.String(8), primary_key=True),
        sa.Column("ts", sa.Integer, primary_key=True),
        sa.Column("price", sa.Text, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
    )
    op.create_table(
        "price_overrides",
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("price", sa.Text, nullable=False),
        sa.Column("set_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "backfill_jobs",
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("currency", sa.String(8), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),  # pending | done | failed
        sa.Column("done_until", sa.Integer, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for name in ("backfill_jobs", "price_overrides", "price_history", "prices"):
        op.drop_table(name)
