"""Exchange accounts read through ccxt: the person's name for each, which exchange, and an API
address that replaces the exchange's own (a regional host or a proxy). The key, secret and
passphrase live only in the OS keyring (``exchange.<name>.key`` …), never here.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_accounts",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("exchange", sa.String(16), nullable=False),
        sa.Column("api_url", sa.Text, nullable=True),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    # history: records as read (amounts as text in JSON), cursors per account and stream
    op.create_table(
        "exchange_records",
        sa.Column("account", sa.String(32),
                  sa.ForeignKey("exchange_accounts.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("record_id", sa.String(160), primary_key=True),
        sa.Column("ts", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )  # fmt: skip
    op.create_table(
        "exchange_cursors",
        sa.Column("account", sa.String(32),
                  sa.ForeignKey("exchange_accounts.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("stream", sa.String(64), primary_key=True),
        sa.Column("cursor", sa.Text, nullable=False),
    )  # fmt: skip
    op.create_table(
        "exchange_ledger_accounts",
        sa.Column("account", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.Integer,
                  sa.ForeignKey("ledger_accounts.id", ondelete="CASCADE"), nullable=False),
    )  # fmt: skip
    op.create_table(
        "exchange_matches",
        sa.Column("fingerprint", sa.String(200), primary_key=True),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("onchain_fingerprint", sa.String(200), nullable=False, unique=True),
        sa.Column("original", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("exchange_matches", "exchange_ledger_accounts", "exchange_cursors",
                  "exchange_records"):  # fmt: skip
        op.drop_table(table)
    op.drop_table("exchange_accounts")
