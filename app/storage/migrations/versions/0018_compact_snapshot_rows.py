"""Snapshot holdings keyed by small integers: ``snapshot_rows`` + ``holding_texts``.

Every snapshot stored each holding's wallet, asset id, position and symbol as text, and the
first three again in the primary key's index: ~300 bytes a holding, 14 MB and ~0.16 s of SQLite
for a 40,000-holding snapshot. Those texts repeat from one snapshot to the next, so each is now
kept once in ``holding_texts`` and a holding row points at it by number (``snapshot_rows``,
clustered on its key: WITHOUT ROWID on SQLite). ``snapshot_holdings`` becomes a view with the
old columns, so every reader keeps its queries; only the snapshot store writes the new tables.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Kept in the migration (not imported from the app): a migration does what it did when shipped.
VIEW = """
CREATE VIEW snapshot_holdings AS
SELECT r.snapshot_id AS snapshot_id, w.text AS wallet, a.text AS asset_id, p.text AS position,
       s.text AS symbol, r.decimals AS decimals, r.raw AS raw, r.price AS price,
       r.value AS value, r.state AS state, r.as_of AS as_of, r.is_spam AS is_spam,
       r.manual_price AS manual_price
FROM snapshot_rows r
JOIN holding_texts w ON w.id = r.wallet_ref
JOIN holding_texts a ON a.id = r.asset_ref
JOIN holding_texts p ON p.id = r.position_ref
JOIN holding_texts s ON s.id = r.symbol_ref
"""

_COLUMNS = "decimals, raw, price, value, state, as_of, is_spam, manual_price"


def _values() -> list[sa.Column[object]]:
    """A holding's own values, after its key and symbol (the same in both layouts)."""
    return [
        sa.Column("decimals", sa.Integer, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("price", sa.Text, nullable=True),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("as_of", sa.Integer, nullable=False),
        sa.Column("is_spam", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("manual_price", sa.Boolean, nullable=False, server_default=sa.false()),
    ]


def upgrade() -> None:
    op.create_table(
        "holding_texts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False, unique=True),
    )
    op.create_table(
        "snapshot_rows",
        sa.Column(
            "snapshot_id",
            sa.Integer,
            sa.ForeignKey("snapshots.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("wallet_ref", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("asset_ref", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position_ref", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("symbol_ref", sa.Integer, nullable=False),
        *_values(),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO holding_texts (text) "
        "SELECT wallet FROM snapshot_holdings UNION SELECT asset_id FROM snapshot_holdings "
        "UNION SELECT position FROM snapshot_holdings UNION SELECT symbol FROM snapshot_holdings"
    )
    op.execute(
        "INSERT INTO snapshot_rows (snapshot_id, wallet_ref, asset_ref, position_ref, "
        f"symbol_ref, {_COLUMNS}) "
        "SELECT h.snapshot_id, w.id, a.id, p.id, s.id, h.decimals, h.raw, h.price, h.value, "
        "h.state, h.as_of, h.is_spam, h.manual_price FROM snapshot_holdings h "
        "JOIN holding_texts w ON w.text = h.wallet "
        "JOIN holding_texts a ON a.text = h.asset_id "
        "JOIN holding_texts p ON p.text = h.position "
        "JOIN holding_texts s ON s.text = h.symbol"
    )
    op.drop_table("snapshot_holdings")
    op.execute(VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW snapshot_holdings")
    op.create_table(
        "snapshot_holdings",
        sa.Column(
            "snapshot_id",
            sa.Integer,
            sa.ForeignKey("snapshots.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("wallet", sa.String(200), primary_key=True),
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.String(200), primary_key=True, server_default=""),
        sa.Column("symbol", sa.Text, nullable=False),
        *_values(),
    )
    op.execute(
        "INSERT INTO snapshot_holdings (snapshot_id, wallet, asset_id, position, symbol, "
        f"{_COLUMNS}) "
        "SELECT r.snapshot_id, w.text, a.text, p.text, s.text, r.decimals, r.raw, r.price, "
        "r.value, r.state, r.as_of, r.is_spam, r.manual_price FROM snapshot_rows r "
        "JOIN holding_texts w ON w.id = r.wallet_ref "
        "JOIN holding_texts a ON a.id = r.asset_ref "
        "JOIN holding_texts p ON p.id = r.position_ref "
        "JOIN holding_texts s ON s.id = r.symbol_ref"
    )
    op.drop_table("snapshot_rows")
    op.drop_table("holding_texts")
