"""Bitcoin watch-only wallets: extended public keys, descriptors and derived addresses
(filled in by the Bitcoin work).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
