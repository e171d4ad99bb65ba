"""On-chain history: scan cursors per wallet and chain, and the movements read from the chains
(filled in by the on-chain history work).

- ``onchain_cursors``: where each wallet's scan of each chain ended (the source's own text).
- ``onchain_movements`` / ``onchain_fees``: what the chains said happened, raw signed integers
  as text (uint256 does not fit SQLite's INTEGER). A re-org re-read replaces a wallet's rows
  from a block on; the ledger is rebuilt from them.
- ``onchain_accounts``: the ledger account that records each wallet's on-chain history (it goes
  with its account, ``ON DELETE CASCADE``).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onchain_cursors",
        sa.Column("chain", sa.String(64), primary_key=True),
        sa.Column("wallet", sa.String(64), primary_key=True),
        sa.Column("cursor", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "onchain_movements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("tx", sa.String(128), nullable=False),
        sa.Column("block", sa.Integer, nullable=False),
        sa.Column("ts", sa.Integer, nullable=False),
        sa.Column("wallet", sa.String(64), nullable=False),
        sa.Column("asset", sa.String(200), nullable=False),
        sa.Column("delta", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("counterparty", sa.String(64), nullable=True),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.UniqueConstraint(
            "chain", "tx", "wallet", "asset", "kind", "idx", name="uq_onchain_movements_key"
        ),
    )
    op.create_index(
        "ix_onchain_movements_chain_wallet_block", "onchain_movements", ["chain", "wallet", "block"]
    )
    op.create_table(
        "onchain_fees",
        sa.Column("chain", sa.String(64), primary_key=True),
        sa.Column("tx", sa.String(128), primary_key=True),
        sa.Column("wallet", sa.String(64), primary_key=True),
        sa.Column("block", sa.Integer, nullable=False),
        sa.Column("ts", sa.Integer, nullable=False),
        sa.Column("asset", sa.String(200), nullable=False),
        sa.Column("amount", sa.Text, nullable=False),
    )
    op.create_table(
        "onchain_accounts",
        sa.Column("wallet", sa.String(64), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("ledger_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_table("onchain_accounts")
    op.drop_table("onchain_fees")
    op.drop_index("ix_onchain_movements_chain_wallet_block", "onchain_movements")
    op.drop_table("onchain_movements")
    op.drop_table("onchain_cursors")
