"""The timeline before the first snapshot: holdings rebuilt from the stored on-chain movements
(:mod:`app.domain.onchain_timeline`), valued with the daily price history.

Synchronous and read-only (SQL): the Timeline calls :meth:`OnchainTimeline.read` in a worker
thread, the CLI directly.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from app.domain.balances import to_decimal_amount
from app.domain.onchain import Fee, Movement
from app.domain.onchain_ledger import AssetFacts, wallet_key
from app.domain.onchain_timeline import Reconstruction, reconstruct
from app.domain.snapshot import SnapshotHolding
from app.domain.valuation import USD, money_context


class MovementStore(Protocol):
    def movements(self, chain: str | None = None) -> list[Movement]: ...

    def fees(self, chain: str | None = None) -> list[Fee]: ...

    def stamp(self) -> tuple[int, ...]:
        """Changes whenever the movements, the first snapshot or the daily prices change."""
        ...


class Snapshots(Protocol):
    def snapshot_head(self, when: int, after: bool = False) -> tuple[int, int, str] | None: ...

    def holdings_of(self, snapshot_id: int) -> tuple[SnapshotHolding, ...]: ...

    def total_of(self, snapshot_id: int) -> Decimal | None: ...


class DailyPrices(Protocol):
    def daily_usd(self, assets: Sequence[str], start: int) -> dict[str, dict[int, Decimal]]: ...


class OnchainTimeline:
    def __init__(
        self,
        store: MovementStore,
        snapshots: Snapshots,
        prices: DailyPrices,
        catalog: Callable[[Sequence[str]], Mapping[str, AssetFacts]],
        usd_rates: Callable[[str], Mapping[int, Decimal]],
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._snapshots = snapshots
        self._prices = prices
        self._catalog = catalog
        self._rates = usd_rates
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[tuple[int, ...], Reconstruction | None] | None = None

    def read(self) -> Reconstruction | None:
        """The rebuilt values from the first movement to the first snapshot, or None when no
        movement lies before it. Kept until the history, the first snapshot or the prices
        change: the Timeline asks again after every refresh."""
        stamp = self._store.stamp()
        with self._lock:
            if self._kept is not None and self._kept[0] == stamp:
                return self._kept[1]
        result = self._build()
        with self._lock:
            self._kept = (stamp, result)
        return result

    def _build(self) -> Reconstruction | None:
        movements = self._store.movements()
        if not movements:
            return None
        fees = self._store.fees()
        head = self._snapshots.snapshot_head(0, after=True)
        first = min(m.ts for m in movements)
        if head is not None and first >= head[1]:
            return None
        wallets = {wallet_key(m.wallet) for m in movements} | {wallet_key(f.wallet) for f in fees}
        assets = sorted({m.asset for m in movements} | {f.asset for f in fees})
        observed: dict[str, Decimal] = defaultdict(Decimal)
        snapshot: tuple[int, Decimal, str] | None = None
        currency = USD
        if head is not None:
            sid, taken_at, currency = head
            total = self._snapshots.total_of(sid)
            if total is not None:
                snapshot = (taken_at, total, currency)
            with money_context():
                for h in self._snapshots.holdings_of(sid):
                    address = h.wallet.rsplit(":", 1)[-1]
                    if h.position or h.is_spam or wallet_key(address) not in wallets:
                        continue
                    observed[h.asset_id] += to_decimal_amount(h.raw, h.decimals)
            assets = sorted(set(assets) | set(observed))
        facts = dict(self._catalog(assets))
        daily = self._prices.daily_usd([a for a in assets if a in facts], first - first % 86_400)
        rate = self._rate(currency)
        if rate is None:
            return None  # no exchange rate at all: nothing honest to draw beside the snapshots
        return reconstruct(
            movements, fees, facts, daily, rate,
            snapshot=snapshot, observed=observed, until=int(self._clock()),
        )  # fmt: skip

    def _rate(self, currency: str) -> Callable[[int], Decimal | None] | None:
        if currency.upper() == USD:
            return lambda _day: Decimal(1)
        rates = self._rates(currency)
        if not rates:
            return None
        days = sorted(rates)

        def at(day: int) -> Decimal | None:
            i = bisect.bisect_right(days, day) - 1
            return rates[days[max(i, 0)]]  # the nearest earlier day (the first one before it)

        return at
