"""Drop ``wallet_tokens``: which tokens each wallet held is what the snapshots already record.

Why: the table was written after every command-line refresh (one transaction per holding: 8-11 s
for 29,000 holdings) and never read. Readers find tokens from the curated lists and the
user's own tokens; the holdings of every snapshot say what each wallet held and when.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("wallet_tokens")


def downgrade() -> None:
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
