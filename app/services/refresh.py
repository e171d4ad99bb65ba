"""RefreshService: read every chain, price what was found, write one snapshot.

A refresh requested while one runs joins it (the same task is awaited). After each snapshot
the store's retention rule is applied. A chain that fails
keeps its last good holdings from the previous snapshot, marked stale with the time they were
read; nothing stored is ever lost. Progress is published as events to any listener.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from app.domain.balances import AssetInfo, Balance, ChainReadResult, SourceState
from app.domain.chains import ChainSpec
from app.domain.ids import AccountId, AssetId
from app.domain.model import Wallet
from app.domain.positions import LendingAccount
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.domain.valuation import holding_value

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RefreshProgress:
    """``stage`` is one of: started, chain, pricing, saving, done."""

    stage: str
    chain: str | None = None
    state: SourceState | None = None
    done: int = 0
    total: int = 0


class PricedHolding(Protocol):
    @property
    def wallet(self) -> str: ...

    @property
    def asset_id(self) -> str: ...

    @property
    def price(self) -> Decimal | None: ...

    @property
    def value(self) -> Decimal | None: ...


class Pricer(Protocol):
    async def __call__(
        self, balances: Sequence[Balance], currency: str
    ) -> Sequence[PricedHolding]: ...


class SnapshotStore(Protocol):
    def write(self, snapshot: Snapshot) -> int: ...

    def latest(self) -> Snapshot | None: ...

    def compact(self, now: int) -> int: ...


ReadChain = Callable[[ChainSpec, Sequence[Wallet]], Awaitable[ChainReadResult]]
Listener = Callable[[RefreshProgress], None]


class RefreshService:
    def __init__(
        self,
        chains: Callable[[], Sequence[ChainSpec]],
        wallets: Callable[[], Sequence[Wallet]],
        read_chain: ReadChain,
        pricer: Pricer,
        store: SnapshotStore,
        currency: Callable[[], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._chains = chains
        self._wallets = wallets
        self._read_chain = read_chain
        self._pricer = pricer
        self._store = store
        self._currency = currency
        self._clock = clock
        self._running: asyncio.Task[Snapshot] | None = None
        # What each chain reported in the latest refresh (request counts, per-call failures),
        # for callers that show more than the snapshot keeps.
        self.last_results: tuple[ChainReadResult, ...] = ()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: RefreshProgress) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("refresh progress listener failed")

    @property
    def running(self) -> bool:
        return self._running is not None and not self._running.done()

    async def refresh(self) -> Snapshot:
        """Run a refresh, or join the one already running."""
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._refresh())
        return await asyncio.shield(self._running)

    async def _refresh(self) -> Snapshot:
        now = int(self._clock())
        chains = list(self._chains())
        wallets = list(self._wallets())
        self._emit(RefreshProgress("started", total=len(chains)))
        done = 0

        async def read(spec: ChainSpec) -> ChainReadResult:
            nonlocal done
            result = await self._read_chain(spec, wallets)
            done += 1
            self._emit(
                RefreshProgress("chain", str(spec.chain_id), result.state, done, len(chains))
            )
            return result

        results = await asyncio.gather(*(read(c) for c in chains))
        self.last_results = tuple(results)
        # Database work runs off the event loop's thread: with thousands of holdings a read or
        # a write takes long enough to stall the window.
        previous = await asyncio.to_thread(self._store.latest)
        balances: list[tuple[Balance, SourceState, int]] = []
        sources: list[SourceStatus] = []
        accounts: list[LendingAccount] = []
        for result in results:
            chain = str(result.chain)
            if result.state is SourceState.OK:
                sources.append(SourceStatus(chain, SourceState.OK, None, now))
                balances.extend((b, SourceState.OK, now) for b in result.balances)
                accounts.extend(result.accounts)
                continue
            carried, as_of = _carry_over(previous, chain)
            state = SourceState.STALE if carried else SourceState.FAILED
            sources.append(SourceStatus(chain, state, result.error, as_of or now))
            balances.extend((b, SourceState.STALE, a) for b, a in carried)
            if previous is not None:
                accounts.extend(a for a in previous.accounts if a.chain == chain)
        self._emit(RefreshProgress("pricing", done=done, total=len(chains)))
        currency = self._currency()
        priced = await self._pricer([b for b, _, _ in balances], currency)
        # One price per asset; the value is computed here because a wallet can hold the same
        # asset twice (in the wallet and as a DeFi position).
        prices = {p.asset_id: p.price for p in priced}
        holdings = await asyncio.to_thread(_holdings, balances, prices)  # 10,000s take a while
        snapshot = Snapshot(
            now, currency, tuple(holdings), tuple(sources), accounts=tuple(accounts)
        )
        self._emit(RefreshProgress("saving", done=done, total=len(chains)))
        snapshot_id = await asyncio.to_thread(self._store.write, snapshot)
        # Retention runs after every refresh.
        await asyncio.to_thread(self._store.compact, now)
        self._emit(RefreshProgress("done", done=done, total=len(chains)))
        return Snapshot(
            snapshot.taken_at,
            snapshot.currency,
            snapshot.holdings,
            snapshot.sources,
            snapshot_id,
            snapshot.accounts,
        )


def _holdings(
    balances: Sequence[tuple[Balance, SourceState, int]], prices: dict[str, Decimal | None]
) -> list[SnapshotHolding]:
    holdings = []
    for b, state, as_of in balances:
        price = prices.get(str(b.asset.asset_id))
        holdings.append(
            SnapshotHolding(
                wallet=str(b.wallet),
                asset_id=str(b.asset.asset_id),
                symbol=b.asset.symbol,
                decimals=b.asset.decimals,
                raw=b.raw,
                price=price,
                value=None if price is None else holding_value(b.amount, price),
                state=state,
                as_of=as_of,
                position=b.position,
                is_spam=b.asset.is_spam,
            )
        )
    return holdings


def _carry_over(previous: Snapshot | None, chain: str) -> tuple[list[tuple[Balance, int]], int]:
    """The last good holdings of a chain from the previous snapshot, with when they were read."""
    if previous is None:
        return [], 0
    carried: list[tuple[Balance, int]] = []
    for h in previous.holdings:
        if h.chain != chain:
            continue
        asset = AssetInfo(
            AssetId.parse(h.asset_id), h.symbol, h.symbol, h.decimals, is_spam=h.is_spam
        )
        carried.append((Balance(AccountId.parse(h.wallet), asset, h.raw, h.position), h.as_of))
    as_of = min((a for _, a in carried), default=0)
    return carried, as_of
