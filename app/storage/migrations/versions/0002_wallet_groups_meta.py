"""Wallet groups and ENS names; app metadata table.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wallets") as batch:
        batch.add_column(sa.Column("wallet_group", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("ens_name", sa.Text, nullable=True))
    op.create_table(
        "app_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("app_meta")
    with op.batch_alter_table("wallets") as batch:
        batch.drop_column("ens_name")
        batch.drop_column("wallet_group")
