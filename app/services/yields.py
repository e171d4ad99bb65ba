"""The yield of the portfolio's interest-bearing positions: each position's current rate (read
by the protocols with the balances, stored with the snapshot), the yield it actually realised
over its own recent snapshots, and the value-weighted APY of the whole portfolio.

Runs in a worker thread (it reads the history); the Yield tab and the CLI only show the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from app.domain.positions import position_protocol
from app.domain.rates import PositionRate, WeightedYield, realised_apy, weighted_yield
from app.domain.snapshot import Snapshot
from app.domain.text import clean_text

PositionKey = tuple[str, str, str]
REALISED_WINDOW = 30 * 24 * 3600  # realised yield over the last 30 days of snapshots


class PositionHistory(Protocol):
    def position_points(
        self, keys: Iterable[PositionKey], since: int, until: int, max_points: int = 120
    ) -> dict[PositionKey, list[tuple[int, int]]]: ...


@dataclass(frozen=True, slots=True)
class YieldRow:
    wallet: str  # CAIP-10
    asset_id: str
    symbol: str  # cleaned plain text
    chain: str
    position: str
    protocol: str
    value: Decimal | None  # in the snapshot's currency; negative for a debt
    rate: PositionRate
    realised: Decimal | None  # annualised, from the position's own snapshots; None: too little

    @property
    def yearly(self) -> Decimal | None:
        """Income (positive) or cost (negative) over a year at today's rate."""
        if self.value is None:
            return None
        return self.value * self.rate.apy


@dataclass(frozen=True, slots=True)
class YieldReport:
    currency: str
    rows: tuple[YieldRow, ...]
    portfolio: WeightedYield


class YieldService:
    def __init__(self, history: PositionHistory | None = None) -> None:
        self._history = history

    def report(self, snapshot: Snapshot | None) -> YieldReport:
        if snapshot is None:
            return YieldReport("USD", (), weighted_yield((), {}))
        rates = {r.key: r for r in snapshot.rates}
        held = [
            h
            for h in snapshot.holdings
            if h.raw and not h.is_spam and (h.asset_id, h.position) in rates
        ]
        points: dict[PositionKey, list[tuple[int, int]]] = {}
        if self._history is not None and held:
            points = self._history.position_points(
                [(h.wallet, h.asset_id, h.position) for h in held],
                snapshot.taken_at - REALISED_WINDOW,
                snapshot.taken_at,
            )
        rows = tuple(
            YieldRow(
                h.wallet,
                h.asset_id,
                clean_text(h.symbol, 32),
                h.chain,
                h.position,
                position_protocol(h.position),
                h.value,
                rates[(h.asset_id, h.position)],
                _realised(points.get((h.wallet, h.asset_id, h.position), [])),
            )
            for h in held
        )
        portfolio = weighted_yield(((r.asset_id, r.position, r.value) for r in rows), rates)
        return YieldReport(snapshot.currency, rows, portfolio)


def _realised(points: Sequence[tuple[int, int]]) -> Decimal | None:
    """A debt grows as its interest accrues: its realised rate is the growth of what is owed."""
    return realised_apy([(t, abs(raw)) for t, raw in points])
