"""Liquidation risk of every lending account in a snapshot (the model: app.domain.risk).

This part gathers the model's inputs: which position holdings make up an account's collateral
and debt (for the basket weights and the values shown), and the daily price history of each
asset from the price store. It is synchronous SQLite reading of a few hundred rows; callers on
the event loop run it with ``asyncio.to_thread``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Protocol

from app.domain.positions import LendingAccount, PositionKind, position_kind
from app.domain.risk import DAY, AccountRisk, BasketLeg, RiskStatus, assess
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.domain.text import clean_text

WINDOW_DAYS = 60
MIN_OBSERVATIONS = 20
MAX_AGE_DAYS = 30

# Debt or collateral in one of these, with no price history yet, counts as a constant 1 USD.
# Only used as a fallback: an asset with history always uses its history.
USD_STABLECOINS = frozenset(
    {
        "USDC", "USDC.E", "USDBC", "USDT", "USDT0", "USD₮0", "DAI", "USDS", "GHO", "LUSD",
        "BOLD", "FRAX", "PYUSD", "CRVUSD", "TUSD", "FDUSD", "RLUSD", "USDE",
    }
)  # fmt: skip


class PriceHistory(Protocol):
    """Daily USD prices (day start, price), oldest first: ``SqlBackfillStore`` is one."""

    def history(self, asset_id: str, since: int = 0) -> list[tuple[int, Decimal]]: ...


def _market_and_kind(key: str) -> tuple[str, str, PositionKind | None]:
    parts = key.split(":")
    market = parts[1] if len(parts) == 3 else ""
    return parts[0], market, position_kind(key)


def account_holdings(
    snapshot: Snapshot, account: LendingAccount
) -> tuple[list[SnapshotHolding], list[SnapshotHolding]]:
    """The position holdings behind an account: (collateral side, debt side)."""
    collateral: list[SnapshotHolding] = []
    debt: list[SnapshotHolding] = []
    wallet = account.wallet.lower()
    # Ids compared without case: a reader may spell an address checksummed in one place only.
    collateral_ids = {a.lower() for a in account.collateral_assets}
    debt_ids = {a.lower() for a in account.debt_assets}
    for h in snapshot.holdings:
        if not h.position or h.wallet.lower() != wallet:
            continue
        protocol, market, kind = _market_and_kind(h.position)
        if protocol != account.protocol:
            continue
        if account.market and market and market.lower() != account.market.lower():
            continue
        if kind in (PositionKind.SUPPLIED, PositionKind.COLLATERAL):
            if h.asset_id.lower() in collateral_ids:
                collateral.append(h)
        elif kind is PositionKind.BORROWED and h.asset_id.lower() in debt_ids:
            debt.append(h)
    return collateral, debt


def side_value(holdings: Sequence[SnapshotHolding]) -> Decimal | None:
    """Absolute value of one side in the snapshot's currency; None if anything is unpriced."""
    if not holdings or any(h.value is None for h in holdings):
        return None
    return sum((abs(h.value) for h in holdings if h.value is not None), Decimal(0))


class RiskService:
    def __init__(
        self,
        history: PriceHistory,
        *,
        window_days: int = WINDOW_DAYS,
        min_observations: int = MIN_OBSERVATIONS,
        max_age_days: int = MAX_AGE_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._history = history
        self.window_days = window_days
        self.min_observations = min_observations
        self.max_age_days = max_age_days
        self._clock = clock

    def assess(self, snapshot: Snapshot | None) -> tuple[AccountRisk, ...]:
        """One AccountRisk per lending account of the snapshot, in the snapshot's order."""
        if snapshot is None:
            return ()
        now = int(self._clock())
        since = now - (self.window_days + self.max_age_days + 2) * DAY
        cache: dict[str, dict[int, Decimal]] = {}

        def prices(asset_id: str) -> dict[int, Decimal]:
            if asset_id not in cache:
                cache[asset_id] = dict(self._history.history(asset_id, since))
            return cache[asset_id]

        return tuple(self._assess(snapshot, a, now, prices) for a in snapshot.accounts)

    def _assess(
        self,
        snapshot: Snapshot,
        account: LendingAccount,
        now: int,
        prices: Callable[[str], dict[int, Decimal]],
    ) -> AccountRisk:
        held_collateral, held_debt = account_holdings(snapshot, account)

        def shown(risk: AccountRisk) -> AccountRisk:
            return replace(
                risk, collateral_value=side_value(held_collateral), debt_value=side_value(held_debt)
            )

        if account.health_factor is None or account.debt <= 0:
            return shown(AccountRisk(account, RiskStatus.NO_DEBT))
        collateral = _legs(account.collateral_assets, held_collateral, prices, "collateral")
        if isinstance(collateral, str):
            return shown(AccountRisk(account, RiskStatus.UNKNOWN, reason=collateral))
        debt = _legs(account.debt_assets, held_debt, prices, "debt")
        if isinstance(debt, str):
            return shown(AccountRisk(account, RiskStatus.UNKNOWN, reason=debt))
        risk = assess(
            account,
            collateral,
            debt,
            now=now,
            window_days=self.window_days,
            min_observations=self.min_observations,
            max_age_days=self.max_age_days,
        )
        return shown(risk)


def _legs(
    assets: Sequence[str],
    holdings: Sequence[SnapshotHolding],
    prices: Callable[[str], dict[int, Decimal]],
    side: str,
) -> list[BasketLeg] | str:
    """The basket of one side, or the reason it cannot be built."""
    if not assets:
        return f"the protocol reported no {side} assets for this account"
    value: dict[str, Decimal] = {}
    symbols: dict[str, str] = {}
    spelled: dict[str, str] = {}
    for h in holdings:
        key = h.asset_id.lower()
        spelled[key] = h.asset_id  # the price history is stored under the holdings' spelling
        symbols[key] = clean_text(h.symbol, 32).upper()
        if h.value is not None:
            value[key] = value.get(key, Decimal(0)) + abs(h.value)
    total = sum(value.values(), Decimal(0))
    if len(assets) == 1:
        weights = {assets[0]: 1.0}
    elif all(a.lower() in value for a in assets) and total > 0:
        weights = {a: float(value[a.lower()] / total) for a in assets}
    else:
        missing = ", ".join(a for a in assets if a.lower() not in value)
        return f"no current value for {missing} to weight the {side} basket"
    legs: list[BasketLeg] = []
    for asset_id in assets:
        history = prices(spelled.get(asset_id.lower(), asset_id))
        if len(history) < 2 and symbols.get(asset_id.lower()) in USD_STABLECOINS:
            legs.append(BasketLeg(asset_id, weights[asset_id], None))
        elif not history:
            return f"no price history yet for {asset_id}"
        else:
            legs.append(BasketLeg(asset_id, weights[asset_id], history))
    return legs
