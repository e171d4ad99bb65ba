"""Bitcoin watch-only wallets: extended public keys, descriptors and derived addresses.

``wallets.address`` names a Bitcoin wallet by its first receive address (so CAIP-10 ids and
ledger movements keep one short form); the extended key or descriptor (up to a few hundred
characters) lives in ``bitcoin_wallets``.
``bitcoin_addresses`` caches the addresses derived so far and which were seen used, so the next
scan asks for every known used address at once instead of walking the chains again. Rows go
with their wallet (``ON DELETE CASCADE``).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bitcoin_wallets",
        sa.Column(
            "wallet_id",
            sa.Integer,
            sa.ForeignKey("wallets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("watch", sa.Text, nullable=False),  # xpub/ypub/zpub or descriptor
    )
    op.create_table(
        "bitcoin_addresses",
        sa.Column(
            "wallet_id",
            sa.Integer,
            sa.ForeignKey("wallets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("branch", sa.Integer, primary_key=True),  # 0 receive, 1 change
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("address", sa.String(90), nullable=False),
        sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("bitcoin_addresses")
    op.drop_table("bitcoin_wallets")
