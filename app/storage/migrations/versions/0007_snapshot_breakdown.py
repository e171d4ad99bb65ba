"""Per-snapshot breakdown sums for the timeline: value by chain, by asset and by wallet.

Why: the timeline's breakdown series (by chain / asset / wallet, top N plus "Other") over
years of hourly snapshots would otherwise group hundreds of holdings rows per point, which
takes seconds. One small row per (snapshot, kind, key), written in the snapshot's own
transaction, makes any point's breakdown a primary-key lookup. The table is WITHOUT ROWID and
clustered on (snapshot_id, kind, key); deleting a snapshot (retention) cascades to its rows.
Sums are exact Decimal text, like every other money column. Existing snapshots are backfilled.

Also a covering index on snapshots (taken_at, id, total): the net-worth series then reads only
the index, not each row's per-source JSON (~900 bytes a row), which halves the time to load
years of history. And ``ix_snapshot_holdings_asset`` (asset_id, snapshot_id) goes: per-asset
series now come from the breakdown table, nothing queries holdings by asset any more, and that
index made every snapshot write touch ~200 scattered index pages (a WAL checkpoint every few
refreshes: p90 write 17 ms instead of 5 ms with 200 holdings; ~15 % of the file).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    op.create_table(
        "snapshot_breakdown",
        sa.Column(
            "snapshot_id",
            sa.Integer,
            sa.ForeignKey("snapshots.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(8), primary_key=True),  # chain | asset | wallet
        sa.Column("key", sa.String(200), primary_key=True),  # CAIP-2 / CAIP-19 / address
        sa.Column("value", sa.Text, nullable=False),  # exact Decimal sum, debts negative
        sqlite_with_rowid=False,
    )
    op.create_index("ix_snapshots_timeline", "snapshots", ["taken_at", "id", "total"])
    op.drop_index("ix_snapshot_holdings_asset", "snapshot_holdings")
    _backfill()


def _backfill() -> None:
    """Sums for snapshots written before this revision, exact (Decimal without rounding).

    Self-contained on purpose: a migration must keep doing what it did when it shipped, even
    if the app's own breakdown code changes later.
    """
    from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, localcontext

    con = op.get_bind()
    ids = [int(r[0]) for r in con.execute(sa.text("SELECT id FROM snapshots ORDER BY id"))]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = con.execute(
            sa.text(
                "SELECT snapshot_id, wallet, asset_id, value FROM snapshot_holdings "
                "WHERE snapshot_id BETWEEN :lo AND :hi AND value IS NOT NULL AND NOT is_spam"
            ),
            {"lo": chunk[0], "hi": chunk[-1]},
        ).fetchall()
        sums: dict[tuple[int, str, str], Decimal] = {}
        with localcontext(Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)):
            for sid, wallet, asset, value in rows:
                amount = Decimal(value)
                for kind, key in (
                    ("chain", asset.split("/", 1)[0]),
                    ("asset", asset),
                    ("wallet", wallet.rsplit(":", 1)[-1]),
                ):
                    sums[(sid, kind, key)] = sums.get((sid, kind, key), Decimal(0)) + amount
        if sums:
            con.execute(
                sa.text(
                    "INSERT INTO snapshot_breakdown (snapshot_id, kind, key, value) "
                    "VALUES (:sid, :kind, :key, :value)"
                ),
                [
                    {"sid": sid, "kind": kind, "key": key, "value": str(total)}
                    for (sid, kind, key), total in sums.items()
                ],
            )


def downgrade() -> None:
    op.create_index("ix_snapshot_holdings_asset", "snapshot_holdings", ["asset_id", "snapshot_id"])
    op.drop_index("ix_snapshots_timeline", "snapshots")
    op.drop_table("snapshot_breakdown")
