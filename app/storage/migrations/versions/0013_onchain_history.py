"""On-chain history: scan cursors per wallet and chain, and the movements read from the chains
(filled in by the on-chain history work).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
