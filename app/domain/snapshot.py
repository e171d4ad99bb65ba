"""A snapshot: the whole portfolio at one moment, written atomically after every refresh."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import NamedTuple

from app.domain.balances import SourceState
from app.domain.positions import LendingAccount
from app.domain.rates import PositionRate
from app.domain.valuation import exact_sum


@dataclass(frozen=True, slots=True)
class HoldingFailure:
    """One holding a chain read could not read while the rest of the chain was read (a token
    whose ``balanceOf`` reverts): shown and counted in the window, never valued."""

    wallet: str  # CAIP-10
    asset_id: str  # CAIP-19
    reason: str  # plain words ("the token contract reverted")
    symbol: str = ""  # the token's symbol when the reader knew it
    is_spam: bool = False  # a known spam token: shown only with spam, never counted


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How one source (a chain) fared in a refresh. ``as_of`` is when its data was read."""

    source: str  # CAIP-2 chain id
    state: SourceState
    reason: str | None
    as_of: int  # epoch seconds
    failures: tuple[HoldingFailure, ...] = ()  # holdings of this chain that could not be read


class SnapshotHolding(NamedTuple):
    """One holding of a snapshot. Built by the 10,000s per refresh and per snapshot loaded, so
    an immutable named tuple: made 2.5x faster than the slotted frozen dataclass it was (0.26
    against 0.65 us a holding, ~16 ms of every 40,000-holding refresh and snapshot load), its
    fields read as fast. Change a field with ``_replace``."""

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
    manual_price: bool = False  # the price is the person's manual override, not a source's

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
    rates: tuple[PositionRate, ...] = ()  # the protocols' rates read in this refresh
    # Both sums, worked out together on first use: a refresh, its store, its document and the
    # window ask for them several times, each a pass over 10,000s of holdings. Not init fields,
    # so ``replace()`` (other holdings) starts without them.
    _sums: tuple[Decimal, Decimal] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    def _total_and_stale(self) -> tuple[Decimal, Decimal]:
        sums = self._sums
        if sums is None:
            ok = SourceState.OK
            counted = [
                (h.value, h.state is ok)
                for h in self.holdings
                if h.value is not None and not h.is_spam
            ]
            sums = (
                exact_sum(value for value, _ in counted),
                exact_sum(value for value, fresh in counted if not fresh),
            )
            object.__setattr__(self, "_sums", sums)
        return sums

    def stored_as(self, snapshot_id: int) -> Snapshot:
        """This snapshot under the id its store gave it, with the sums already worked out."""
        stored = replace(self, id=snapshot_id)
        object.__setattr__(stored, "_sums", self._sums)
        return stored

    @property
    def total(self) -> Decimal:
        """Net worth: every valued holding except spam; debts are negative."""
        return self._total_and_stale()[0]

    @property
    def stale_total(self) -> Decimal:
        """How much of the total comes from holdings carried over from an earlier refresh."""
        return self._total_and_stale()[1]
