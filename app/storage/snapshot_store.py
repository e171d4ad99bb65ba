"""Snapshots on SQLite: one transaction per snapshot, totals per snapshot for timelines."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import Engine, insert, select

from app.domain.balances import SourceState
from app.domain.history import StoredTotal
from app.domain.positions import LendingAccount
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.domain.valuation import decimal_text, optional_text
from app.storage.history_store import breakdown_rows
from app.storage.tables import (
    snapshot_accounts,
    snapshot_breakdown,
    snapshot_holdings,
    snapshots,
)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _text(value: Decimal | None) -> str | None:
    return optional_text(value)  # every digit, never E-notation


class SqlSnapshotStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def write(self, snapshot: Snapshot) -> int:
        """All or nothing: the totals row and every holding in one transaction."""
        with self._engine.begin() as con:
            result = con.execute(
                insert(snapshots).values(
                    taken_at=snapshot.taken_at,
                    currency=snapshot.currency,
                    total=decimal_text(snapshot.total),
                    stale_total=decimal_text(snapshot.stale_total),
                    sources=json.dumps(
                        [
                            {
                                "source": s.source,
                                "state": s.state.value,
                                "reason": s.reason,
                                "as_of": s.as_of,
                            }
                            for s in snapshot.sources
                        ]
                    ),
                )
            )
            snapshot_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            if snapshot.holdings:
                con.execute(
                    insert(snapshot_holdings),
                    [
                        {
                            "snapshot_id": snapshot_id,
                            "wallet": h.wallet,
                            "asset_id": h.asset_id,
                            "symbol": h.symbol,
                            "decimals": h.decimals,
                            "raw": str(h.raw),
                            "price": _text(h.price),
                            "value": _text(h.value),
                            "state": h.state.value,
                            "as_of": h.as_of,
                            "position": h.position,
                            "is_spam": h.is_spam,
                        }
                        for h in snapshot.holdings
                    ],
                )
            # Timeline breakdown sums (revision 0007), in the same transaction.
            breakdown = breakdown_rows(snapshot_id, snapshot.holdings)
            if breakdown:
                con.execute(insert(snapshot_breakdown), breakdown)
            if snapshot.accounts:
                con.execute(
                    insert(snapshot_accounts),
                    [
                        {
                            "snapshot_id": snapshot_id,
                            "wallet": a.wallet,
                            "protocol": a.protocol,
                            "chain": a.chain,
                            "market": a.market,
                            "collateral": str(a.collateral),
                            "debt": str(a.debt),
                            "liquidation_threshold": str(a.liquidation_threshold),
                            "health_factor": _text(a.health_factor),
                            "collateral_assets": json.dumps(list(a.collateral_assets)),
                            "debt_assets": json.dumps(list(a.debt_assets)),
                        }
                        for a in snapshot.accounts
                    ],
                )
        return snapshot_id

    def latest(self) -> Snapshot | None:
        return self.at_or_before(None)

    def at_or_before(self, when: int | None) -> Snapshot | None:
        """The newest snapshot taken at or before ``when`` (epoch seconds; None: the latest).

        Used for "24 h change" (the snapshot nearest to a day ago) and "what changed".
        """
        query = select(snapshots).order_by(snapshots.c.taken_at.desc(), snapshots.c.id.desc())
        if when is not None:
            query = query.where(snapshots.c.taken_at <= when)
        with self._engine.connect() as con:
            row = con.execute(query.limit(1)).fetchone()
            if row is None:
                return None
            rows = con.execute(
                select(snapshot_holdings).where(snapshot_holdings.c.snapshot_id == row.id)
            ).fetchall()
            account_rows = con.execute(
                select(snapshot_accounts).where(snapshot_accounts.c.snapshot_id == row.id)
            ).fetchall()
        return Snapshot(
            id=int(row.id),
            taken_at=int(row.taken_at),
            currency=str(row.currency),
            sources=tuple(
                SourceStatus(s["source"], SourceState(s["state"]), s["reason"], int(s["as_of"]))
                for s in json.loads(row.sources)
            ),
            holdings=tuple(
                SnapshotHolding(
                    wallet=r.wallet,
                    asset_id=r.asset_id,
                    symbol=r.symbol,
                    decimals=int(r.decimals),
                    raw=int(r.raw),
                    price=_dec(r.price),
                    value=_dec(r.value),
                    state=SourceState(r.state),
                    as_of=int(r.as_of),
                    position=str(r.position),
                    is_spam=bool(r.is_spam),
                )
                for r in rows
            ),
            accounts=tuple(
                LendingAccount(
                    wallet=a.wallet,
                    protocol=a.protocol,
                    chain=a.chain,
                    market=a.market,
                    collateral=Decimal(a.collateral),
                    debt=Decimal(a.debt),
                    liquidation_threshold=Decimal(a.liquidation_threshold),
                    health_factor=_dec(a.health_factor),
                    collateral_assets=tuple(json.loads(a.collateral_assets)),
                    debt_assets=tuple(json.loads(a.debt_assets)),
                )
                for a in account_rows
            ),
        )

    def totals(self, start: int | None = None, end: int | None = None) -> list[tuple[int, Decimal]]:
        """(time, total) per snapshot in a range, oldest first: the net-worth timeline."""
        query = select(snapshots.c.taken_at, snapshots.c.total).order_by(snapshots.c.taken_at)
        if start is not None:
            query = query.where(snapshots.c.taken_at >= start)
        if end is not None:
            query = query.where(snapshots.c.taken_at <= end)
        with self._engine.connect() as con:
            return [(int(t), Decimal(v)) for t, v in con.execute(query)]

    def currency_totals(
        self, start: int | None = None, end: int | None = None
    ) -> list[StoredTotal]:
        """Like :meth:`totals`, with the currency each snapshot was stored in."""
        query = select(snapshots.c.taken_at, snapshots.c.currency, snapshots.c.total).order_by(
            snapshots.c.taken_at, snapshots.c.id
        )
        if start is not None:
            query = query.where(snapshots.c.taken_at >= start)
        if end is not None:
            query = query.where(snapshots.c.taken_at <= end)
        with self._engine.connect() as con:
            return [StoredTotal(int(t), str(c), Decimal(v)) for t, c, v in con.execute(query)]

    def compact(self, now: int) -> int:
        """Apply the retention rule (see :func:`compact`)."""
        return compact(self._engine, now)

    def count(self) -> int:
        with self._engine.connect() as con:
            return len(con.execute(select(snapshots.c.id)).fetchall())


HOUR = 3600
DAY = 86400
KEEP_ALL_SECONDS = 7 * DAY
KEEP_HOURLY_SECONDS = 90 * DAY


def compact(engine: Engine, now: int) -> int:
    """Retention: every snapshot for 7 days, the last of each hour for 90 days, the last of each
    day after that. Returns how many snapshots were removed (their holdings go with them)."""
    from sqlalchemy import text

    with engine.begin() as con:
        result = con.execute(
            text(
                """
                DELETE FROM snapshots
                WHERE taken_at < :recent
                  AND id NOT IN (
                    SELECT max(id) FROM snapshots
                    WHERE taken_at < :recent
                    GROUP BY CASE WHEN taken_at >= :hourly THEN taken_at / :hour
                                  ELSE -1 - taken_at / :day END
                  )
                """
            ),
            {
                "recent": now - KEEP_ALL_SECONDS,
                "hourly": now - KEEP_HOURLY_SECONDS,
                "hour": HOUR,
                "day": DAY,
            },
        )
        return int(result.rowcount or 0)
