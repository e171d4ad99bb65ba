"""DeFi positions, spam flags and lending accounts in snapshots; alert rules and their events.

``snapshot_holdings`` gains ``position`` (part of the key: a wallet can hold USDC and supply USDC
to Aave at once) and ``is_spam``. SQLite cannot change a primary key in place, so the table is
rebuilt and its rows copied. ``snapshot_accounts`` keeps each lending market's view of a wallet
(collateral, debt, health factor) per snapshot. ``alert_rules`` / ``alert_events`` hold the
user's alert rules, whether each is armed or has fired for the current crossing, and the history.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _holdings_table(name: str) -> None:
    op.create_table(
        name,
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
        sa.Column("decimals", sa.Integer, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("price", sa.Text, nullable=True),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("as_of", sa.Integer, nullable=False),
        sa.Column("is_spam", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def upgrade() -> None:
    _holdings_table("snapshot_holdings_new")
    op.execute(
        "INSERT INTO snapshot_holdings_new (snapshot_id, wallet, asset_id, position, symbol, "
        "decimals, raw, price, value, state, as_of, is_spam) "
        "SELECT snapshot_id, wallet, asset_id, '', symbol, decimals, raw, price, value, state, "
        "as_of, FALSE FROM snapshot_holdings"
    )
    op.drop_index("ix_snapshot_holdings_asset", "snapshot_holdings")
    op.drop_table("snapshot_holdings")
    op.rename_table("snapshot_holdings_new", "snapshot_holdings")
    op.create_index("ix_snapshot_holdings_asset", "snapshot_holdings", ["asset_id", "snapshot_id"])

    op.create_table(
        "snapshot_accounts",
        sa.Column(
            "snapshot_id",
            sa.Integer,
            sa.ForeignKey("snapshots.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("wallet", sa.String(200), primary_key=True),
        sa.Column("protocol", sa.String(64), primary_key=True),
        sa.Column("chain", sa.String(100), primary_key=True),
        sa.Column("market", sa.String(100), primary_key=True, server_default=""),
        sa.Column("collateral", sa.Text, nullable=False),
        sa.Column("debt", sa.Text, nullable=False),
        sa.Column("liquidation_threshold", sa.Text, nullable=False),
        sa.Column("health_factor", sa.Text, nullable=True),
        sa.Column("collateral_assets", sa.Text, nullable=False),  # JSON list of CAIP-19
        sa.Column("debt_assets", sa.Text, nullable=False),  # JSON list of CAIP-19
    )

    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        # health_factor_below | liquidation_probability_above | price_above | price_below |
        # daily_move_above
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("target", sa.Text, nullable=False, server_default=""),  # asset / wallet / ""
        sa.Column("threshold", sa.Text, nullable=False),  # Decimal as text
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("fired", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("last_fired_at", sa.Integer, nullable=True),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "rule_id",
            sa.Integer,
            sa.ForeignKey("alert_rules.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("fired_at", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_alert_events_fired_at", "alert_events", ["fired_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_fired_at", "alert_events")
    op.drop_table("alert_events")
    op.drop_table("alert_rules")
    op.drop_table("snapshot_accounts")
    op.create_table(
        "snapshot_holdings_old",
        sa.Column(
            "snapshot_id",
            sa.Integer,
            sa.ForeignKey("snapshots.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("wallet", sa.String(200), primary_key=True),
        sa.Column("asset_id", sa.String(200), primary_key=True),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("decimals", sa.Integer, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("price", sa.Text, nullable=True),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("as_of", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO snapshot_holdings_old SELECT snapshot_id, wallet, asset_id, symbol, "
        "decimals, raw, price, value, state, as_of FROM snapshot_holdings WHERE position = '' "
        "ON CONFLICT DO NOTHING"
    )
    op.drop_index("ix_snapshot_holdings_asset", "snapshot_holdings")
    op.drop_table("snapshot_holdings")
    op.rename_table("snapshot_holdings_old", "snapshot_holdings")
    op.create_index("ix_snapshot_holdings_asset", "snapshot_holdings", ["asset_id", "snapshot_id"])
