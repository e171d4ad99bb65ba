"""Scan the wallets' past from the chains and import it into the ledger.

:meth:`OnchainHistoryService.scan` drives one :class:`~app.domain.onchain.HistorySource` per
chain, all chains at once; each source yields batches, and each batch is stored with its
cursors in one database transaction (off the event loop), so a scan stopped at any point —
cancelled, the app closed, the network gone — loses nothing and resumes where the last stored
batch ended. Progress (done/total in the sources' own units, and an estimate of the time left)
goes to the subscribed listeners as :class:`ScanProgress` events.

Then the stored movements of the chains scanned become ledger entries
(:mod:`app.domain.onchain_ledger`): one ledger account per wallet, created on the first import
and linked to its wallet, entries in step with the stored movements by fingerprint. Prices at
each transaction's time come from the stored daily price history (US dollars); missing days are
fetched first through the price backfill, within a time budget.

Depends only on the domain and on the ports below; ``app.bootstrap`` wires the SQL stores, the
sources and the backfill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from app.domain.errors import ChainfolioError
from app.domain.fx_days import DAY, PRICE_DAYS_BACK, daily_price_lookup
from app.domain.ledger import Transaction
from app.domain.model import Wallet
from app.domain.onchain import Fee, HistorySource, Movement, ScanBatch, ScanRequest
from app.domain.onchain_ledger import AssetFacts, chain_prefix, plan_import, wallet_key

log = logging.getLogger(__name__)


class HistoryScanError(ChainfolioError):
    """No chain could be scanned; the message says why for each."""


class SyncCounts(Protocol):
    @property
    def added(self) -> int: ...

    @property
    def removed(self) -> int: ...

    @property
    def priced(self) -> int: ...


class OnchainStore(Protocol):
    """``SqlOnchainStore``."""

    def cursors(self, chain: str) -> dict[str, str]: ...

    def write_batch(self, batch: ScanBatch, now: int) -> None: ...

    def movements(self, chain: str | None = None) -> list[Movement]: ...

    def fees(self, chain: str | None = None) -> list[Fee]: ...

    def ensure_accounts(self, wanted: Sequence[tuple[str, str]], now: int) -> dict[str, str]: ...

    def onchain_accounts(self) -> dict[str, str]: ...

    def sync_ledger(
        self, prefixes: Iterable[str], txs: Sequence[Transaction], now: int
    ) -> SyncCounts: ...


class PriceHistory(Protocol):
    """The stored daily prices (``SqlBackfillStore``-backed adapter)."""

    def daily_usd(self, assets: Sequence[str], start: int) -> dict[str, dict[int, Decimal]]:
        """asset -> {day start: USD price} from ``start`` on."""
        ...


# Fetch the daily prices of ``assets`` over [start, end] into the store (the price backfill).
PriceFetch = Callable[[Sequence[str], int, int], Awaitable[None]]
# The facts (decimals, spam, listed) of each asset that has them; runs SQL (called in a thread).
Catalog = Callable[[Sequence[str]], Mapping[str, AssetFacts]]


@dataclass(frozen=True, slots=True)
class ChainSource:
    """One chain that can be scanned: its wallets are those of ``family``. ``open()`` builds
    the source (it may raise a ``ChainfolioError`` saying why it cannot, such as an explorer
    the person has not agreed to)."""

    chain: str
    name: str
    family: str
    open: Callable[[], HistorySource]


@dataclass(frozen=True, slots=True)
class ScanProgress:
    chain: str
    name: str
    done: int
    total: int
    overall: float  # 0..1 over every chain of the scan
    eta_seconds: float | None  # None until a rate is known
    stored: int  # movements stored so far in this scan (all chains)


@dataclass(slots=True)
class ChainScan:
    chain: str
    name: str
    wallets: dict[str, int] = field(default_factory=dict)  # wallet -> movements stored
    fees: int = 0
    batches: int = 0
    error: str | None = None
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)  # what the source could not see

    @property
    def movements(self) -> int:
        return sum(self.wallets.values())


@dataclass(frozen=True, slots=True)
class LedgerImport:
    added: int = 0
    removed: int = 0
    priced: int = 0
    spam: int = 0
    unknown: int = 0
    unpriced: int = 0
    accounts: Mapping[str, str] = field(default_factory=dict)  # wallet -> account name


@dataclass(frozen=True, slots=True)
class ScanReport:
    chains: tuple[ChainScan, ...]
    ledger: LedgerImport
    cancelled: bool
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[ChainScan, ...]:
        return tuple(c for c in self.chains if c.error)


Listener = Callable[[ScanProgress], None]


class OnchainHistoryService:
    def __init__(
        self,
        sources: Callable[[], Sequence[ChainSource]],
        wallets: Callable[[], Sequence[Wallet]],
        store: OnchainStore,
        prices: PriceHistory | None,
        catalog: Catalog,
        *,
        fetch_prices: PriceFetch | None = None,
        price_budget: Callable[[], float] = lambda: 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sources = sources
        self._wallets = wallets
        self._store = store
        self._prices = prices
        self._catalog = catalog
        self._fetch = fetch_prices
        self._price_budget = price_budget
        self._clock = clock
        self._listeners: list[Listener] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    @property
    def running(self) -> bool:
        return self._running

    def targets(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """What can be scanned: (wallet address, label) and (chain id, network name) pairs, for
        the window's choices (reads the wallet list and the networks file: call in a worker)."""
        wallets = [(w.address, w.label) for w in self._wallets()]
        families = {w.family.value for w in self._wallets()}
        chains = [(s.chain, s.name) for s in self._sources() if s.family in families]
        return wallets, chains

    def cancel(self) -> None:
        """Stop the scan: batches stored so far stay, the ledger import still runs on them."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()

    def _emit(self, event: ScanProgress) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("history scan progress listener failed")

    # ---- scan ----------------------------------------------------------------------------
    async def scan(self, wallet: str | None = None, chain: str | None = None) -> ScanReport:
        """Scan every chain (or ``chain``) for every wallet (or ``wallet``), then import what
        is stored into the ledger. Raises :class:`HistoryScanError` when no chain could be
        scanned at all (nothing new is stored then, nothing imported)."""
        if self._running:
            raise ChainfolioError("A history scan is already running.")
        self._running = True
        self._stop = asyncio.Event()
        try:
            return await self._scan(wallet, chain)
        finally:
            self._running = False
            self._tasks = []

    async def _scan(self, wallet: str | None, chain: str | None) -> ScanReport:
        # the wallet list and the networks file are read in a worker: the loop is the window's
        wallets = list(await asyncio.to_thread(self._wallets))
        if wallet is not None:
            wallets = [w for w in wallets if _matches(w, wallet)]
            if not wallets:
                raise ChainfolioError(
                    f"No wallet {wallet!r} is followed: `chainfolio wallets list` shows them."
                )
        sources = list(await asyncio.to_thread(self._sources))
        if chain is not None:
            sources = [s for s in sources if chain in (s.chain, s.name) or _same(s.name, chain)]
            if not sources:
                raise ChainfolioError(
                    f"No enabled network {chain!r} can be scanned: `chainfolio networks list` "
                    "shows them."
                )
        plans = [(s, [w for w in wallets if w.family.value == s.family]) for s in sources]
        plans = [(s, ws) for s, ws in plans if ws]
        if not plans:
            raise ChainfolioError("There is no wallet on these networks to scan.")
        progress: dict[str, tuple[int, int]] = {s.chain: (0, 0) for s, _ws in plans}
        results = {s.chain: ChainScan(s.chain, s.name) for s, _ws in plans}
        started = self._clock()

        def report(src: ChainSource, batch: ScanBatch) -> None:
            progress[src.chain] = (batch.done, max(batch.total, batch.done))
            # each chain counts in its own units (blocks, signatures): the share of each, averaged
            overall = sum(d / t if t else 0.0 for d, t in progress.values()) / len(progress)
            elapsed = self._clock() - started
            eta = elapsed * (1 - overall) / overall if overall > 0 and elapsed > 0 else None
            stored = sum(r.movements for r in results.values())
            self._emit(
                ScanProgress(src.chain, src.name, batch.done, batch.total, overall, eta, stored)
            )

        self._tasks = [
            asyncio.create_task(self._scan_chain(src, ws, results[src.chain], report))
            for src, ws in plans
        ]
        outcomes = await asyncio.gather(*self._tasks, return_exceptions=True)
        cancelled = self._stop.is_set()
        for (src, _ws), outcome in zip(plans, outcomes, strict=True):
            scan = results[src.chain]
            if isinstance(outcome, asyncio.CancelledError):
                scan.cancelled = True
            elif isinstance(outcome, BaseException):
                scan.error = _sentence(outcome)
                if not isinstance(outcome, ChainfolioError):
                    log.error("history scan of %s failed", src.chain, exc_info=outcome)
                else:
                    log.info("history scan of %s failed: %s", src.chain, outcome)
        chains = tuple(results.values())
        if all(c.error for c in chains):
            raise HistoryScanError(
                "No network could be scanned: " + "; ".join(f"{c.name}: {c.error}" for c in chains)
            )
        ledger, notes = await self.import_ledger([c.chain for c in chains if not c.error])
        seen = [f"{c.name}: {n}" for c in chains for n in c.notes]
        return ScanReport(chains, ledger, cancelled, (*seen, *notes))

    async def _scan_chain(
        self,
        src: ChainSource,
        wallets: Sequence[Wallet],
        result: ChainScan,
        report: Callable[[ChainSource, ScanBatch], None],
    ) -> None:
        source = await asyncio.to_thread(src.open)  # imports the chain's modules: off the loop
        try:
            cursors = await asyncio.to_thread(self._store.cursors, src.chain)
            requests = [ScanRequest(w.address, cursors.get(w.address)) for w in wallets]
            batches = source.scan(requests)
            try:
                async for batch in batches:
                    if batch.chain != src.chain:
                        raise ChainfolioError(
                            f"the {src.name} history reader gave another network's history"
                        )
                    # the write runs to its end in its thread even if the scan is cancelled now
                    await asyncio.to_thread(self._store.write_batch, batch, int(self._clock()))
                    result.batches += 1
                    result.fees += len(batch.fees)
                    for note in getattr(batch, "notes", ()):
                        if note not in result.notes:
                            result.notes.append(note)
                    for m in batch.movements:
                        result.wallets[m.wallet] = result.wallets.get(m.wallet, 0) + 1
                    for w in batch.cursors:
                        result.wallets.setdefault(w, 0)
                    report(src, batch)
                    if self._stop.is_set():
                        result.cancelled = True
                        return
            finally:
                aclose = getattr(batches, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()
        finally:
            closer = getattr(source, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()

    # ---- ledger ------------------------------------------------------------------------------
    async def import_ledger(self, chains: Sequence[str]) -> tuple[LedgerImport, list[str]]:
        """Make the ledger's entries of ``chains`` match their stored movements (idempotent)."""
        if not chains:
            return LedgerImport(), []
        movements, fees = await asyncio.to_thread(self._read, chains)
        notes: list[str] = []
        wallets = {wallet_key(w.address): w for w in await asyncio.to_thread(self._wallets)}
        involved = {wallet_key(m.wallet) for m in movements} | {wallet_key(f.wallet) for f in fees}
        wanted = [(w.address, w.label) for k, w in sorted(wallets.items()) if k in involved]
        now = int(self._clock())
        accounts = dict(await asyncio.to_thread(self._store.onchain_accounts))
        accounts.update(await asyncio.to_thread(self._store.ensure_accounts, wanted, now))
        assets = sorted({m.asset for m in movements} | {f.asset for f in fees})
        facts = dict(await asyncio.to_thread(self._catalog, assets))
        first = min((m.ts for m in movements), default=now)
        priced = [a for a in assets if a in facts]
        daily = await self._daily(priced, movements, first, now, notes)

        plan = await asyncio.to_thread(
            plan_import, movements, fees, accounts, facts.get, daily_price_lookup(daily), now
        )
        for why in plan.refused:
            log.info("on-chain entry left out: %s", why)
        synced = await asyncio.to_thread(
            self._store.sync_ledger, [chain_prefix(c) for c in chains], plan.transactions, now
        )
        if plan.unknown:
            notes.append(
                f"{plan.unknown} movement(s) of tokens Chainfolio does not know (no decimals) "
                "were left out; a refresh that finds them, or adding the token, brings them in."
            )
        if plan.spam:
            notes.append(f"{plan.spam} incoming spam or airdrop dust movement(s) were left out.")
        if plan.unpriced:
            notes.append(unpriced_note(plan.unpriced))
        return (
            LedgerImport(
                synced.added, synced.removed, synced.priced, plan.spam, plan.unknown,
                plan.unpriced,
                {a: n for a, n in accounts.items() if wallet_key(a) in involved},
            ),
            notes,
        )  # fmt: skip

    def _read(self, chains: Sequence[str]) -> tuple[list[Movement], list[Fee]]:
        movements: list[Movement] = []
        fees: list[Fee] = []
        for c in chains:
            movements.extend(self._store.movements(c))
            fees.extend(self._store.fees(c))
        return movements, fees

    async def _daily(
        self,
        assets: Sequence[str],
        movements: Sequence[Movement],
        first: int,
        now: int,
        notes: list[str],
    ) -> dict[str, dict[int, Decimal]]:
        """Stored daily prices from the first movement's day on; days a movement needs and the
        store lacks are fetched first (bounded by the price budget)."""
        if self._prices is None or not assets:
            return {}
        start = first - first % DAY - PRICE_DAYS_BACK * DAY
        daily = await asyncio.to_thread(self._prices.daily_usd, assets, start)
        needed: dict[str, list[int]] = defaultdict(list)
        for m in movements:
            if m.asset in assets:
                needed[m.asset].append(m.ts - m.ts % DAY)
        missing = [
            a
            for a in assets
            if any(
                all((day - b * DAY) not in daily.get(a, {}) for b in range(PRICE_DAYS_BACK + 1))
                for day in needed.get(a, ())
            )
        ]
        budget = self._price_budget()
        if missing and self._fetch is not None and budget > 0:
            lo = min(d for a in missing for d in needed[a]) - PRICE_DAYS_BACK * DAY
            hi = max(d for a in missing for d in needed[a])
            try:
                await asyncio.wait_for(self._fetch(missing, lo, min(hi + DAY, now)), budget)
            except TimeoutError:
                notes.append(
                    "Not every daily price could be fetched in time: the next scan fetches the "
                    "rest and fills in the missing prices."
                )
            except ChainfolioError as exc:
                notes.append(f"Daily prices could not be fetched: {exc}")
            except Exception as exc:  # the prices are optional: the basis stays unknown
                log.warning("price history fetch failed", exc_info=True)
                notes.append(f"Daily prices could not be fetched: {_sentence(exc)}")
            daily = await asyncio.to_thread(self._prices.daily_usd, assets, start)
        return daily


def unpriced_note(count: int) -> str:
    """The scan's note on entries without a price at their time."""
    if count == 1:
        return "1 entry has no price at its time: its cost basis is unknown."
    return f"{count} entries have no price at their time: their cost basis is unknown."


def eta_text(seconds: float | None) -> str:
    """The estimate of the time left, as a person says it."""
    if seconds is None:
        return "estimating…"
    if seconds < 60:
        return "less than a minute left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


def _matches(w: Wallet, text: str) -> bool:
    t = text.strip()
    return (
        wallet_key(w.address) == wallet_key(t)
        or (bool(w.label) and w.label == t)
        or (w.ens_name is not None and w.ens_name.lower() == t.lower())
    )


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, ChainfolioError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "the node did not answer in time"
    if isinstance(exc, OSError):
        return "the node could not be reached"
    return "an unexpected error (details in the log)"
