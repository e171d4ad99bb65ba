"""Past holdings rebuilt from the stored on-chain movements, valued with daily prices. Pure.

Two rebuilds, both shown and never forced into one:

- **forward** from zero: each day's quantity is the sum of every movement (and fee) up to the
  end of that day — what the chains' history explains on its own;
- **back** from the first observed snapshot: its balances minus the movements after each day —
  what the observed balances imply.

The two differ by whatever the scan did not see (a wallet or a chain not scanned, a transfer
the node could not give, a token without decimals) and by DeFi positions, which the snapshot
counts and the movements do not. That difference is reported as the **gap** at the first
snapshot, per asset (quantities) and in value (the snapshot's stored total minus the forward
value then); the timeline draws it rather than hiding it.

Values are in the snapshot's currency: daily USD prices times that day's exchange rate. A day
without a price of its own uses the last earlier one; an asset never priced is left out of the
value and named in ``unpriced``. Spam tokens and assets without known decimals are left out, as
the snapshot totals leave spam out. Coins moved into the wallet's own stake accounts stay in the
rebuilt quantity (they are still the person's).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.domain.balances import to_decimal_amount
from app.domain.onchain import Fee, Movement, MovementKind
from app.domain.onchain_ledger import AssetFacts
from app.domain.valuation import money_context

DAY = 86_400


@dataclass(frozen=True, slots=True)
class AssetGap:
    asset: str
    observed: Decimal  # the first snapshot's quantity
    reconstructed: Decimal  # the forward rebuild's quantity then


@dataclass(frozen=True, slots=True)
class Reconstruction:
    times: tuple[int, ...]  # the end of each day (the last point: the first snapshot's time)
    forward: tuple[Decimal, ...]  # value per point, rebuilt from zero
    back: tuple[Decimal, ...]  # value per point, walked back from the first snapshot (if any)
    currency: str
    snapshot_time: int | None  # the first observed snapshot (None: no snapshot yet)
    snapshot_total: Decimal | None  # its stored total
    gaps: tuple[AssetGap, ...]  # assets whose two quantities differ at the first snapshot
    unpriced: tuple[str, ...]  # assets left out of the value: no price at all

    @property
    def gap_value(self) -> Decimal | None:
        """The first snapshot's total minus the forward rebuild's value then."""
        if self.snapshot_total is None or not self.forward:
            return None
        with money_context():
            return self.snapshot_total - self.forward[-1]

    def __len__(self) -> int:
        return len(self.times)


def reconstruct(
    movements: Iterable[Movement],
    fees: Iterable[Fee],
    facts: Mapping[str, AssetFacts],
    daily_usd: Mapping[str, Mapping[int, Decimal]],
    usd_rate: Callable[[int], Decimal | None],
    *,
    snapshot: tuple[int, Decimal, str] | None,
    observed: Mapping[str, Decimal],
    until: int,
) -> Reconstruction | None:
    """The daily values from the first movement's day to the first snapshot (``snapshot``:
    time, stored total, currency; without one, to ``until``). ``observed``: asset -> quantity
    held by the scanned wallets in that snapshot (wallet balances, spam left out).
    ``usd_rate(day)``: units of the snapshot's currency per US dollar on that day (1 for USD).
    None when there is nothing before the first snapshot to draw."""
    end = snapshot[0] if snapshot is not None else until
    deltas: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for m in movements:
        f = facts.get(m.asset)
        if f is not None and not f.spam and m.ts <= end and m.kind != MovementKind.STAKE:
            deltas[m.asset].append((m.ts, to_decimal_amount(m.delta, f.decimals)))
    for fee in fees:
        f = facts.get(fee.asset)
        if f is not None and fee.ts <= end:
            deltas[fee.asset].append((fee.ts, -to_decimal_amount(fee.amount, f.decimals)))
    if not deltas:
        return None
    first = min(ts for items in deltas.values() for ts, _d in items)
    if first >= end:
        return None
    days = list(range(first - first % DAY, end - end % DAY + 1, DAY))
    times = [min(d + DAY - 1, end) for d in days]
    times[-1] = end
    assets = sorted(set(deltas) | {a for a in observed if a in facts})
    zero = Decimal(0)
    forward_values = [zero] * len(times)
    back_values = [zero] * len(times)
    unpriced: list[str] = []
    gaps: list[AssetGap] = []
    with money_context():
        for asset in assets:
            items = sorted(deltas.get(asset, ()))
            total_moved = sum((d for _t, d in items), zero)
            seen = observed.get(asset, zero)
            if snapshot is not None and seen != total_moved:
                gaps.append(AssetGap(asset, seen, total_moved))
            prices = daily_usd.get(asset, {})
            if not prices:
                if items or seen:
                    unpriced.append(asset)
                continue
            price_days = sorted(prices)
            i = 0
            qty = zero
            k = -1
            for j, (day, t) in enumerate(zip(days, times, strict=True)):
                while i < len(items) and items[i][0] <= t:
                    qty += items[i][1]
                    i += 1
                while k + 1 < len(price_days) and price_days[k + 1] <= day:
                    k += 1
                if k < 0:
                    continue  # no price yet on this day
                rate = usd_rate(day)
                if rate is None:
                    continue
                p = prices[price_days[k]] * rate
                forward_values[j] += qty * p
                back_values[j] += (seen - total_moved + qty) * p
    return Reconstruction(
        tuple(times),
        tuple(forward_values),
        tuple(back_values) if snapshot is not None else (),
        snapshot[2] if snapshot is not None else "USD",
        snapshot[0] if snapshot is not None else None,
        snapshot[1] if snapshot is not None else None,
        tuple(gaps),
        tuple(unpriced),
    )
