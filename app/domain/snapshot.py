"""A snapshot: the whole portfolio at one moment, written atomically after every refresh."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.balances import SourceState
from app.domain.positions import LendingAccount
from app.domain.valuation import exact_sum


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How one source (a chain) fared in a refresh. ``as_of`` is when its data was read."""

    source: str  # CAIP-2 chain id
    state: SourceState
    reason: str | None
    as_of: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class SnapshotHolding:
    wallet: str  # CAIP-10
    asset_id: str  # CAIP-19
    symbol: str
    decimals: int
    raw: int
    price: Decimal | None
    value: Decimal | None
    state: SourceState  # ok, or stale when carried over from an earlier refresh
    as_of: int
    position: str = ""  # "" for a wallet balance, else a DeFi position key (app.domain.positions)
    is_spam: bool = False  # spam is kept (the user may show it) but never counted in totals

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies a holding across snapshots."""
        return (self.wallet, self.asset_id, self.position)

    @property
    def chain(self) -> str:
        return self.asset_id.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Snapshot:
    taken_at: int
    currency: str
    holdings: tuple[SnapshotHolding, ...]
    sources: tuple[SourceStatus, ...]
    id: int | None = None
    accounts: tuple[LendingAccount, ...] = ()

    @property
    def total(self) -> Decimal:
        """Net worth: every valued holding except spam; debts are negative."""
        return exact_sum(h.value for h in self.holdings if h.value is not None and not h.is_spam)

    @property
    def stale_total(self) -> Decimal:
        """How much of the total comes from holdings carried over from an earlier refresh."""
        return exact_sum(
            h.value
            for h in self.holdings
            if h.value is not None and not h.is_spam and h.state is not SourceState.OK
        )
