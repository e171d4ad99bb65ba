"""Portfolios (named sets of wallets and ledger accounts; a wallet or an account may belong to
several) and links from a ledger account to the wallet whose coins it records. Every row goes
with its wallet, account or portfolio (``ON DELETE CASCADE``): removing a wallet never leaves a
member or a link pointing at nothing.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, *, primary: bool = True) -> sa.Column[int]:
    return sa.Column(
        column,
        sa.Integer,
        sa.ForeignKey(target, ondelete="CASCADE"),
        primary_key=primary,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "portfolios",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.UniqueConstraint("name", name="uq_portfolios_name"),
    )
    op.create_table(
        "portfolio_wallets",
        _fk("portfolio_id", "portfolios.id"),
        _fk("wallet_id", "wallets.id"),
    )
    op.create_table(
        "portfolio_accounts",
        _fk("portfolio_id", "portfolios.id"),
        _fk("account_id", "ledger_accounts.id"),
    )
    op.create_table(
        "ledger_wallet_links",
        _fk("account_id", "ledger_accounts.id"),
        _fk("wallet_id", "wallets.id", primary=False),
    )
    op.create_index("ix_ledger_wallet_links_wallet_id", "ledger_wallet_links", ["wallet_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_wallet_links_wallet_id", "ledger_wallet_links")
    op.drop_table("ledger_wallet_links")
    op.drop_table("portfolio_accounts")
    op.drop_table("portfolio_wallets")
    op.drop_table("portfolios")
