"""RefreshService: the one refresh pipeline the window, the tray, the scheduler and the CLI run.

A refresh reads every enabled chain that has a wallet of its family on it, prices what was
found once, builds one snapshot and stores it in one transaction; then the steps registered in
the composition root run (retention, alert checks, price-history backfill, …). Front ends only
start a refresh and show its :class:`RefreshResult`.

Truthful outcomes: a refresh is ``ok``, ``partial`` or ``failed`` (``empty`` with no wallet).
A chain that fails keeps its last good holdings, carried over and marked stale; a chain that
ran out of time part-way keeps the wallets it did read and carries the others over. When
nothing at all could be read and nothing can be carried over, no snapshot is written: history
never gets a fake zero. A refresh requested while one runs joins it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, Balance, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.gc_pause import gc_paused
from app.domain.ids import AccountId, AssetId, ChainId
from app.domain.model import Wallet
from app.domain.outcome import RefreshStatus, plain_reason, summarize_failures
from app.domain.positions import LendingAccount
from app.domain.rates import PositionRate
from app.domain.refresh_group import RefreshGroup
from app.domain.snapshot import HoldingFailure, Snapshot, SnapshotHolding, SourceStatus
from app.domain.valuation import raw_unit_price, raw_value

log = logging.getLogger(__name__)

_FAMILY_OF_CHAIN = {
    ChainFamily.EVM: AddressFamily.EVM,
    ChainFamily.SOLANA: AddressFamily.SOLANA,
    ChainFamily.BITCOIN: AddressFamily.BITCOIN,
}


@dataclass(frozen=True, slots=True)
class RefreshProgress:
    """``stage`` is one of: started, chain, pricing, saving, done."""

    stage: str
    chain: str | None = None
    state: SourceState | None = None
    done: int = 0
    total: int = 0


class AssetPrice(Protocol):
    @property
    def asset_id(self) -> str: ...

    @property
    def price(self) -> Decimal | None: ...

    @property
    def source(self) -> str | None: ...


class PriceReport(Protocol):
    """What pricing a refresh's balances found: one price per asset (each holding is valued
    once, from these, in the snapshot), and what went wrong."""

    @property
    def quotes(self) -> Sequence[AssetPrice]: ...

    @property
    def errors(self) -> Sequence[str]: ...


class Pricer(Protocol):
    async def __call__(
        self, balances: Sequence[Balance], currency: str, known: PriceReport | None = None
    ) -> PriceReport:
        """``known``: what this pricer answered for part of the assets moments ago (in the
        same refresh): those are not asked for again."""
        ...


class SnapshotStore(Protocol):
    def write(self, snapshot: Snapshot) -> int: ...

    def latest(self) -> Snapshot | None: ...


ReadChain = Callable[[ChainSpec, Sequence[Wallet]], Awaitable[ChainReadResult]]


class ExtraSource(Protocol):
    """A source read alongside the chains, with no wallet of its own (an exchange account):
    ``source`` is its id in snapshots (CAIP-2 form), ``name`` what a person reads."""

    @property
    def source(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def read(self) -> Callable[[], Awaitable[ChainReadResult]]: ...


Listener = Callable[[RefreshProgress], None]
Step = Callable[["RefreshResult"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ChainReport:
    """One chain's part of a refresh, as logged and shown."""

    chain: str
    name: str
    state: SourceState  # as stored: ok, stale (carried over) or failed (nothing to carry)
    reason: str | None
    seconds: float
    requests: int
    read: int  # holdings read fresh in this refresh
    partial: bool = False  # read part-way: some wallets carried over


@dataclass
class RefreshResult:
    """What a refresh did. ``snapshot`` is what was stored (None when nothing was, and for a
    read-only refresh, whose balances are the chains' ``results``)."""

    status: RefreshStatus
    summary: str  # one plain sentence for the status bar, the tray and the log
    started_at: int
    currency: str
    chains: tuple[ChainReport, ...] = ()
    results: tuple[ChainReadResult, ...] = ()
    snapshot: Snapshot | None = None
    stored: bool = False
    prices: PriceReport | None = None
    alerts: list[Any] = field(default_factory=list)  # FiredAlert, set by the alerts step

    @property
    def ok(self) -> bool:
        return self.status in (RefreshStatus.OK, RefreshStatus.PARTIAL)

    @property
    def failure(self) -> str | None:
        """Why the refresh counts as failed (for the backoff), or None."""
        return self.summary if self.status is RefreshStatus.FAILED else None

    @property
    def price_errors(self) -> list[str]:
        return [] if self.prices is None else list(self.prices.errors)


@dataclass(frozen=True, slots=True)
class _Registered:
    name: str
    step: Step
    background: bool


class RefreshService:
    def __init__(
        self,
        chains: Callable[[], Sequence[ChainSpec]],
        wallets: Callable[[], Sequence[Wallet]],
        read_chain: ReadChain,
        pricer: Callable[[], Pricer],
        store: SnapshotStore,
        currency: Callable[[], str],
        clock: Callable[[], float] = time.time,
        sources: Callable[[], Sequence[ExtraSource]] | None = None,
        group: RefreshGroup | None = None,
    ) -> None:
        """``chains``, ``pricer``, ``currency`` and ``sources`` are asked on every refresh, so
        settings changed while the app runs apply to the next refresh. ``group``: processes
        sharing one database take turns (one reads the chains, the others use its snapshot)."""
        self._group = group
        self._chains = chains
        self._wallets = wallets
        self._read_chain = read_chain
        self._pricer = pricer
        self._store = store
        self._currency = currency
        self._clock = clock
        self._sources = sources
        self._running: asyncio.Task[RefreshResult] | None = None
        self._listeners: list[Listener] = []
        self._steps: list[_Registered] = []
        self._background: set[asyncio.Task[None]] = set()
        # One balance per asset the last priced refresh held: their prices are asked for
        # while the chains of the next one answer.
        self._held: list[Balance] = []
        self.last: RefreshResult | None = None

    # --- wiring -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add_step(self, name: str, step: Step, *, background: bool = False) -> None:
        """Run ``step(result)`` after every stored snapshot, in registration order. A
        ``background`` step is not awaited by the refresh (see :meth:`drain`)."""
        self._steps.append(_Registered(name, step, background))

    def _emit(self, event: RefreshProgress) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("refresh progress listener failed")

    @property
    def running(self) -> bool:
        return self._running is not None and not self._running.done()

    # --- running ------------------------------------------------------------------------
    async def refresh(self, *, store: bool = True, chains: Sequence[str] = ()) -> RefreshResult:
        """Run a refresh, or join the one already running.

        ``store=False`` reads (and carries over) without pricing or storing anything, for
        ``refresh --no-prices``; ``chains`` limits the refresh to these CAIP-2 ids.
        """
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._in_turn(store, tuple(chains)))
        return await asyncio.shield(self._running)

    async def _in_turn(self, store: bool, only: tuple[str, ...]) -> RefreshResult:
        """With a group (a shared database), wait for this process's turn first; a snapshot
        another process stored meanwhile is the result, and the chains are not read again."""
        if self._group is None or not store:
            return await self._refresh(store, only)
        group, cancelled = self._group, threading.Event()
        now = int(self._clock())
        try:
            stored = await asyncio.to_thread(group.acquire, now, cancelled)
        except asyncio.CancelledError:
            cancelled.set()  # the waiting thread gives up (and gives the turn back)
            raise
        if stored is not None:
            result = RefreshResult(
                RefreshStatus.OK,
                "Another Chainfolio sharing this database has just refreshed: its result is shown.",
                now,
                stored.currency,
                snapshot=stored,
            )
            self._finish(result)
            return result
        try:
            return await self._refresh(store, only)
        finally:
            await asyncio.to_thread(group.release)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for background steps (at most ``timeout`` s), then cancel what is left."""
        pending = {t for t in self._background if not t.done()}
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def aclose(self) -> None:
        tasks = [t for t in (self._running, *self._background) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _extras(self, only: tuple[str, ...]) -> list[ExtraSource]:
        assert self._sources is not None
        return [x for x in self._sources() if not only or x.source in only]

    def _select(
        self, only: tuple[str, ...]
    ) -> tuple[list[ChainSpec], list[Wallet], dict[str, list[Wallet]], list[str]]:
        """Enabled chains that have a wallet of their family (a chain nobody watches is not
        read and not counted), each chain's wallets, and the chains left out by ``only``."""
        wallets = list(self._wallets())
        by_family: dict[AddressFamily | None, list[Wallet]] = {}
        for wallet in wallets:
            by_family.setdefault(wallet.family, []).append(wallet)
        chains: list[ChainSpec] = []
        per_chain: dict[str, list[Wallet]] = {}
        skipped: list[str] = []
        for spec in self._chains():
            mine = by_family.get(_FAMILY_OF_CHAIN.get(spec.family), [])
            if not spec.enabled or not mine:
                continue
            if only and str(spec.chain_id) not in only:
                skipped.append(str(spec.chain_id))
                continue
            chains.append(spec)
            per_chain[str(spec.chain_id)] = mine
        return chains, wallets, per_chain, skipped

    async def _refresh(self, store: bool, only: tuple[str, ...]) -> RefreshResult:
        # Reading, valuing and storing 10,000s of balances makes 100,000s of objects: without
        # the cyclic collector's ~100 passes over them a window's refresh of 40,200 is 25-45 ms
        # shorter. Reference counting frees as it goes; cycles are collected afterwards.
        with gc_paused():
            return await self._read_and_store(store, only)

    async def _read_and_store(self, store: bool, only: tuple[str, ...]) -> RefreshResult:
        now = int(self._clock())
        # Settings files and the wallet table are read off the loop's thread.
        chains, wallets, per_chain, skipped = await asyncio.to_thread(self._select, only)
        extras = await asyncio.to_thread(self._extras, only) if self._sources else []
        jobs: list[tuple[str, str, Callable[[], Awaitable[ChainReadResult]]]] = [
            (str(spec.chain_id), spec.name, _bind_read(self._read_chain, spec, per_chain))
            for spec in chains
        ]
        jobs += [(x.source, x.name, x.read) for x in extras]
        currency = self._currency()
        if not wallets and not extras:
            result = RefreshResult(
                RefreshStatus.EMPTY, "No wallets to refresh: add one first.", now, currency
            )
            self._finish(result)
            return result
        self._emit(RefreshProgress("started", total=len(jobs)))
        done = 0
        # The pricer is set up (price sources, API keys from the keyring) while chains answer.
        pricing = asyncio.ensure_future(asyncio.to_thread(self._pricer)) if store else None
        if pricing is not None:
            pricing.add_done_callback(_error_retrieved)
        # What the last refresh held is priced while the chains answer (the price round trip
        # no longer follows the read): after the read only assets new since are asked for.
        prefetch = None
        if pricing is not None and self._held:
            prefetch = asyncio.ensure_future(self._prefetch(pricing, self._held, currency))
            prefetch.add_done_callback(_error_retrieved)
            task = asyncio.current_task()
            if task is not None:  # a refresh cancelled or failed on the way drops it
                task.add_done_callback(lambda _t: prefetch.cancel())

        async def read(
            key: str, name: str, job: Callable[[], Awaitable[ChainReadResult]]
        ) -> tuple[ChainReadResult, float]:
            nonlocal done
            started = time.monotonic()
            try:
                result = await job()
            except Exception as exc:  # a reader must not sink the other chains
                log.exception("reading %s failed unexpectedly", name)
                result = ChainReadResult(
                    ChainId.parse(key), SourceState.FAILED, error=f"reading failed: {exc}"
                )
            done += 1
            self._emit(RefreshProgress("chain", key, result.state, done, len(jobs)))
            return result, time.monotonic() - started

        reads = await asyncio.gather(*(read(*job) for job in jobs))
        # The previous snapshot (10,000s of holdings to load) only matters for what is carried
        # over: a chain not read, or not read in full.
        carry = bool(skipped) or any(r.state is not SourceState.OK or r.unread for r, _ in reads)
        previous = await asyncio.to_thread(self._store.latest) if carry else None
        built = _Merge(now, previous)
        for res, _ in reads:
            built.add(res)
        for chain in skipped:  # not asked for this time: kept as they were, marked stale
            built.keep(chain)
        reports = tuple(
            _report(key, name, res, seconds, built.states[key])
            for (key, name, _), (res, seconds) in zip(jobs, reads, strict=True)
        )
        status, summary = _status(reports)
        prices: PriceReport | None = None
        price_map: dict[str, Decimal | None] = {}
        manual: set[str] = set()  # assets priced by the person's manual override
        if pricing is not None and built.balances:
            self._emit(RefreshProgress("pricing", done=done, total=len(jobs)))
            # A pricer that raises (a bug, not an unreachable source: those come back as
            # stale or missing prices with errors) stores nothing rather than unpriced zeros.
            pricer = await pricing
            known = None if prefetch is None else await self._prefetched(prefetch)
            prices = await pricer([b for b, _, _ in built.balances], currency, known)
            price_map = {p.asset_id: p.price for p in prices.quotes}
            manual = {p.asset_id for p in prices.quotes if p.source == "manual"}
        elif pricing is not None:
            pricing.cancel()  # nothing to price
            if prefetch is not None:
                prefetch.cancel()
        # A read-only refresh (``store=False``) reports the chains' own results: no snapshot
        # of 10,000s of holdings is built for it.
        holdings: list[SnapshotHolding] = []
        if store:
            holdings, held = await asyncio.to_thread(_holdings, built.balances, price_map, manual)
            if prices is not None:
                self._held = held
        snapshot = Snapshot(
            now, currency, tuple(holdings), tuple(built.sources), accounts=tuple(built.accounts),
            rates=tuple(built.rates),
        )  # fmt: skip
        result = RefreshResult(
            status,
            summary,
            now,
            currency,
            reports,
            tuple(r for r, _ in reads),
            snapshot,
            prices=prices,
        )
        # Nothing read and nothing to carry over: storing would put a fake zero into history.
        if store and (status is not RefreshStatus.FAILED or holdings):
            self._emit(RefreshProgress("saving", done=done, total=len(jobs)))
            snapshot_id = await asyncio.to_thread(self._store.write, snapshot)
            result.snapshot = snapshot.stored_as(snapshot_id)
            result.stored = True
            await self._run_steps(result)
        else:
            result.snapshot = None
        self._finish(result)
        return result

    @staticmethod
    async def _prefetch(
        pricing: asyncio.Future[Pricer], held: Sequence[Balance], currency: str
    ) -> PriceReport:
        # Shielded: dropping the prefetch must not cancel the pricer the refresh still awaits.
        pricer = await asyncio.shield(pricing)
        return await pricer(held, currency)

    @staticmethod
    async def _prefetched(prefetch: asyncio.Future[PriceReport]) -> PriceReport | None:
        """The early prices, or None when asking for them failed (a bug: unreachable sources
        come back as errors): then every asset is asked for after the read, as before."""
        try:
            return await prefetch
        except Exception:
            log.warning("asking for the last refresh's prices early failed", exc_info=True)
            return None

    async def _run_steps(self, result: RefreshResult) -> None:
        for registered in self._steps:
            if registered.background:
                task = asyncio.ensure_future(self._guarded(registered, result))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            else:
                await self._guarded(registered, result)

    async def _guarded(self, registered: _Registered, result: RefreshResult) -> None:
        """A failing step is logged: after-refresh work never undoes a stored snapshot."""
        try:
            await registered.step(result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("after-refresh step %r failed", registered.name)

    def _finish(self, result: RefreshResult) -> None:
        self.last = result
        for c in result.chains:
            log.info(
                "refresh %s: %s%s in %.2f s, %d requests, %d holdings read%s",
                c.name,
                c.state.value,
                " (partial)" if c.partial else "",
                c.seconds,
                c.requests,
                c.read,
                f": {plain_reason(c.reason)}" if c.reason else "",
            )
        log.info(
            "refresh %s%s: %s",
            result.status.value,
            ", snapshot stored" if result.stored else ", nothing stored",
            result.summary,
        )
        self._emit(RefreshProgress("done", done=len(result.chains), total=len(result.chains)))


class _Merge:
    """Fresh balances where a chain answered; the previous snapshot's where it did not."""

    def __init__(self, now: int, previous: Snapshot | None) -> None:
        self.now = now
        self.previous = previous
        self.balances: list[tuple[Balance, SourceState, int]] = []
        self.sources: list[SourceStatus] = []
        self.accounts: list[LendingAccount] = []
        self.rates: list[PositionRate] = []
        self.states: dict[str, SourceState] = {}

    def keep(self, chain: str) -> None:
        """A chain not read in this refresh keeps its previous holdings and status time."""
        as_of = self._carry(chain)
        if as_of is not None:
            self.sources.append(
                SourceStatus(chain, SourceState.STALE, "not read in this refresh", as_of)
            )

    def add(self, result: ChainReadResult) -> None:
        chain = str(result.chain)
        now = self.now
        if result.state is SourceState.OK:
            self.balances.extend((b, SourceState.OK, now) for b in result.balances)
            self.accounts.extend(result.accounts)
            self.rates.extend(result.rates)
        if result.state is SourceState.OK and not result.unread:
            state, as_of = SourceState.OK, None
        elif result.state is SourceState.OK:  # read part-way: the unread wallets are carried
            state, as_of = SourceState.STALE, self._carry(chain, {str(w) for w in result.unread})
        else:
            as_of = self._carry(chain)
            state = SourceState.FAILED if as_of is None else SourceState.STALE
        reason = None if state is SourceState.OK else result.error
        failures = tuple(
            HoldingFailure(str(f.wallet), str(f.asset), f.reason, f.symbol, f.is_spam)
            for f in result.failures
        )
        self.sources.append(SourceStatus(chain, state, reason, as_of or now, failures))
        self.states[chain] = state

    def _carry(self, chain: str, wallets: set[str] | None = None) -> int | None:
        """Carry the previous snapshot's holdings and lending accounts of ``chain`` (of
        ``wallets`` only, when given) over as stale; when the oldest was read, or None when
        there was nothing to carry."""
        carried, as_of = _carry_over(self.previous, chain, wallets)
        self.balances.extend((b, SourceState.STALE, a) for b, a in carried)
        if self.previous is not None:
            self.accounts.extend(
                a
                for a in self.previous.accounts
                if a.chain == chain and (wallets is None or a.wallet in wallets)
            )
            if wallets is None:  # a chain not read keeps its last rates (a partial one has its own)
                self.rates.extend(r for r in self.previous.rates if r.chain == chain)
        return as_of if carried else None


def _bind_read(
    read_chain: ReadChain, spec: ChainSpec, per_chain: dict[str, list[Wallet]]
) -> Callable[[], Awaitable[ChainReadResult]]:
    return lambda: read_chain(spec, per_chain[str(spec.chain_id)])


def _report(
    key: str, name: str, result: ChainReadResult, seconds: float, state: SourceState
) -> ChainReport:
    read = len(result.balances) if result.state is SourceState.OK else 0
    return ChainReport(
        key,
        name,
        state,
        result.error,
        round(seconds, 3),
        result.http_requests,
        read,
        partial=result.partial,
    )


def _status(reports: Sequence[ChainReport]) -> tuple[RefreshStatus, str]:
    fresh = [r for r in reports if r.read or (r.state is SourceState.OK and not r.partial)]
    whole = [r for r in reports if r.state is SourceState.OK and not r.partial]
    troubled = [(r.name, r.reason) for r in reports if r not in whole]
    if not reports:
        return RefreshStatus.OK, "Refreshed: no enabled network has a wallet of its kind."
    if len(whole) == len(reports):
        return RefreshStatus.OK, "Refreshed."
    detail = summarize_failures(troubled)
    if not fresh:
        return RefreshStatus.FAILED, f"Nothing could be read. {detail}."
    n = len(troubled)
    return (
        RefreshStatus.PARTIAL,
        f"Refreshed, but {n} chain{'s' if n != 1 else ''} could not be read in full. {detail}.",
    )


def _error_retrieved(future: asyncio.Future[Any]) -> None:
    """A side task's error is raised where it is awaited, or dropped here without asyncio's
    "exception was never retrieved" (a refresh that ended early no longer awaits it)."""
    if not future.cancelled():
        future.exception()


def _holdings(
    balances: Sequence[tuple[Balance, SourceState, int]],
    prices: dict[str, Decimal | None],
    manual: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[SnapshotHolding], list[Balance]]:
    """Every balance as a snapshot holding, valued; and one balance per asset held."""
    holdings = []
    held: dict[str, Balance] = {}
    # Per asset object (10,000s of balances share a few hundred): its id as text, its price,
    # that price per raw unit (each value is then one multiplication) and whether it is manual.
    assets: dict[int, tuple[str, Decimal | None, Decimal | None, bool]] = {}
    wallets: dict[int, str] = {}  # wallet ids as text by object
    for b, state, as_of in balances:
        asset = b.asset
        known = assets.get(id(asset))
        if known is None:
            asset_id = str(asset.asset_id)
            held[asset_id] = b  # the asset's details the pricing saw (its last, as there)
            price = prices.get(asset_id)
            unit = None if price is None else raw_unit_price(price, asset.decimals)
            known = assets[id(asset)] = (asset_id, price, unit, asset_id in manual)
        asset_id, price, unit, is_manual = known
        wallet = wallets.get(id(b.wallet))
        if wallet is None:
            wallet = wallets[id(b.wallet)] = str(b.wallet)
        holdings.append(
            SnapshotHolding(  # by position: a third faster than by keyword, per holding
                wallet,
                asset_id,
                asset.symbol,
                asset.decimals,
                b.raw,
                price,
                None if unit is None else raw_value(b.raw, unit),
                state,
                as_of,
                b.position,
                asset.is_spam,
                is_manual,
            )
        )
    return holdings, list(held.values())


def _carry_over(
    previous: Snapshot | None, chain: str, wallets: set[str] | None = None
) -> tuple[list[tuple[Balance, int]], int]:
    """The last good holdings of a chain (of ``wallets`` only, when given) from the previous
    snapshot, with when they were read."""
    if previous is None:
        return [], 0
    carried: list[tuple[Balance, int]] = []
    for h in previous.holdings:
        if h.chain != chain or (wallets is not None and h.wallet not in wallets):
            continue
        asset = AssetInfo(
            AssetId.parse(h.asset_id), h.symbol, h.symbol, h.decimals, is_spam=h.is_spam
        )
        carried.append((Balance(AccountId.parse(h.wallet), asset, h.raw, h.position), h.as_of))
    as_of = min((a for _, a in carried), default=0)
    return carried, as_of
