"""Privacy: the record of every outbound request's host, purpose and revealed addresses,
summed per host and purpose (``privacy_contacts``) and per host and address
(``privacy_revealed``). No URL, body or key is stored: only hosts, purposes, counts, times and
the watched addresses a host has seen.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_contacts",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("purpose", sa.String(32), primary_key=True),
        sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
        sa.Column("refused", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_at", sa.Integer, nullable=True),
        sa.Column("last_at", sa.Integer, nullable=True),
        sa.Column("last_refused_at", sa.Integer, nullable=True),
    )
    op.create_table(
        "privacy_revealed",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("address", sa.String(128), primary_key=True),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("first_at", sa.Integer, nullable=False),
        sa.Column("last_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("privacy_revealed")
    op.drop_table("privacy_contacts")
