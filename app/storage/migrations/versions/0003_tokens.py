"""Token metadata (lists, user-added, read on chain) and the tokens found per wallet.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("asset_id", sa.String(200), primary_key=True),  # CAIP-19
        sa.Column("chain_id", sa.String(64), nullable=False),  # CAIP-2
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("decimals", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),  # list | user | chain
        sa.Column("price_id", sa.Text, nullable=True),
        sa.Column("is_spam", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("spam_reason", sa.Text, nullable=True),
        sa.Column("added_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_tokens_chain", "tokens", ["chain_id"])
    op.create_table(
        "wallet_tokens",
        sa.Column(
            "wallet_id",
            sa.Integer,
            sa.ForeignKey("wallets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("first_seen", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wallet_tokens")
    op.drop_index("ix_tokens_chain", "tokens")
    op.drop_table("tokens")
