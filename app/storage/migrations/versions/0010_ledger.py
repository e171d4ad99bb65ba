"""The ledger: manual accounts (broker, bank, exchange, cold storage) and their transactions.

Amounts, prices and fees are exact Decimal stored as text. ``fingerprint`` is a stable hash of
the CSV row a transaction came from (unique), so importing the same file again adds nothing.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.UniqueConstraint("name", name="uq_ledger_accounts_name"),
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("ledger_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ts", sa.Integer, nullable=False),
        sa.Column("asset", sa.String(200), nullable=False),
        sa.Column("amount", sa.Text, nullable=False),
        sa.Column("price", sa.Text, nullable=True),
        sa.Column("price_currency", sa.String(8), nullable=True),
        sa.Column("fee", sa.Text, nullable=False, server_default="0"),
        sa.Column("fee_currency", sa.String(200), nullable=True),
        sa.Column(
            "to_account_id",
            sa.Integer,
            sa.ForeignKey("ledger_accounts.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("income_kind", sa.String(16), nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("fingerprint", sa.String(80), nullable=True),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.UniqueConstraint("fingerprint", name="uq_ledger_transactions_fingerprint"),
    )
    op.create_index("ix_ledger_transactions_asset", "ledger_transactions", ["asset"])
    op.create_index(
        "ix_ledger_transactions_account_ts", "ledger_transactions", ["account_id", "ts"]
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_transactions_account_ts", "ledger_transactions")
    op.drop_index("ix_ledger_transactions_asset", "ledger_transactions")
    op.drop_table("ledger_transactions")
    op.drop_table("ledger_accounts")
