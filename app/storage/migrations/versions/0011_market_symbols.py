"""Market data for the ledger's stocks, ETFs and metals: the symbol each is priced by, and when
its daily closes were last fetched (so a year is backfilled once, then only new days).

``symbol`` is a price id such as ``stooq:aapl.us`` given by the person (an ISIN cannot be priced
by a ticker-only source without one); NULL means "derived from the asset id". ``status`` is
``ok``, ``unknown`` (the source has no such symbol) or ``failed`` (bad data or no answer), with a
plain ``message``. The closes themselves and the daily exchange rates live in ``price_history``.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_symbols",
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("symbol", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("checked_at", sa.Integer, nullable=True),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("market_symbols")
