"""Import exchange accounts' trades, deposits and withdrawals into the ledger.

:meth:`ExchangeHistoryService.import_history` reads every account (or one) through its history
reader (:mod:`app.exchanges.history`), page by page from each stream's stored cursor; each page
is stored with its cursor in one transaction (off the event loop), so an import stopped
anywhere — cancelled, the window closed, a 429 or an outage — keeps every page read and the
next import asks only for what is new. Then the account's stored records become its ledger
entries (:mod:`app.domain.exchange_history`) in its own ledger account (kind exchange, created
on the first import), and deposits and withdrawals that match a wallet's on-chain entries
become transfers. The ledger step runs on what is stored even when reading failed part way.

Depends only on the domain and the ports below; ``app.bootstrap`` wires the SQL store, the
ccxt reader and the price history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from app.domain.errors import ChainfolioError
from app.domain.exchange_history import (
    MATCH_AFTER,
    MATCH_BEFORE,
    ChainEntry,
    ExchangeRecord,
    Match,
    RecordKind,
    asset_for,
    is_fiat,
    match_transfers,
    plan_entries,
    without_matched,
)
from app.domain.exchanges import EXCHANGES, Credentials, ExchangeAccount
from app.domain.fx_days import DAY, PRICE_DAYS_BACK, daily_price_lookup
from app.domain.ledger import Transaction

log = logging.getLogger(__name__)


class Page(Protocol):
    @property
    def stream(self) -> str: ...

    @property
    def records(self) -> tuple[ExchangeRecord, ...]: ...

    @property
    def cursor(self) -> str | None: ...

    @property
    def skipped(self) -> tuple[str, ...]: ...


class HistoryReader(Protocol):
    requests: int

    def pages(
        self, cursors: Mapping[str, str], held: Iterable[str] = ()
    ) -> AsyncIterator[Page]: ...

    async def aclose(self) -> None: ...


ReaderFactory = Callable[[str, Credentials, str | None], HistoryReader]


class Accounts(Protocol):
    """``ExchangeService``: the accounts and their keys."""

    def account_urls(self) -> list[tuple[ExchangeAccount, str | None]]: ...

    def credentials(self, name: str) -> Credentials | None: ...


class SyncCounts(Protocol):
    @property
    def added(self) -> int: ...

    @property
    def removed(self) -> int: ...

    @property
    def matched(self) -> int: ...

    @property
    def unmatched(self) -> int: ...


class HistoryStore(Protocol):
    """``SqlExchangeHistoryStore``."""

    def cursors(self, account: str) -> dict[str, str]: ...

    def write_page(
        self, account: str, stream: str, records: Sequence[ExchangeRecord], cursor: str | None
    ) -> int: ...

    def records(self, account: str) -> list[ExchangeRecord]: ...

    def ensure_account(self, account: str, title: str, now: int) -> str: ...

    def chain_entries(self, account: str, since: int, until: int) -> list[ChainEntry]: ...

    def sync_ledger(
        self, account: str, txs: Sequence[Transaction], matches: Iterable[Match], now: int
    ) -> SyncCounts: ...


class PriceHistory(Protocol):
    def daily_usd(self, assets: Sequence[str], start: int) -> dict[str, dict[int, Decimal]]: ...


@dataclass(frozen=True, slots=True)
class ImportProgress:
    account: str
    title: str
    stream: str
    records: int  # new records stored so far for this account
    accounts_done: int
    accounts_total: int


@dataclass(slots=True)
class AccountImport:
    account: str
    title: str
    new_records: int = 0
    skipped: list[str] = field(default_factory=list)  # refused records, with the reason
    error: str | None = None
    cancelled: bool = False
    ledger_account: str | None = None
    added: int = 0
    removed: int = 0
    matched: int = 0
    unpriced: int = 0
    requests: int = 0


@dataclass(frozen=True, slots=True)
class ImportReport:
    accounts: tuple[AccountImport, ...]
    cancelled: bool = False

    @property
    def failed(self) -> tuple[AccountImport, ...]:
        return tuple(a for a in self.accounts if a.error)


Listener = Callable[[ImportProgress], None]


class ExchangeHistoryService:
    def __init__(
        self,
        accounts: Accounts,
        store: HistoryStore,
        reader: ReaderFactory,
        prices: PriceHistory | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._reader = reader
        self._prices = prices
        self._clock = clock
        self._listeners: list[Listener] = []
        self._running = False
        self._stop = asyncio.Event()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    @property
    def running(self) -> bool:
        return self._running

    def cancel(self) -> None:
        """Stop after the page being stored; what is stored is imported into the ledger."""
        self._stop.set()

    def _emit(self, event: ImportProgress) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("exchange import progress listener failed")

    async def import_history(self, name: str | None = None) -> ImportReport:
        """Import every exchange account (or the one named), then update the ledger."""
        if self._running:
            raise ChainfolioError("An exchange import is already running.")
        self._running = True
        self._stop = asyncio.Event()
        try:
            accounts = await asyncio.to_thread(self._accounts.account_urls)
            if name is not None:
                accounts = [(a, u) for a, u in accounts if a.name == name.strip().lower()]
                if not accounts:
                    raise ChainfolioError(
                        f"No exchange account named {name}: `chainfolio exchanges list` shows them."
                    )
            results = []
            for i, (account, url) in enumerate(accounts):
                result = AccountImport(account.name, account.title)
                results.append(result)
                if self._stop.is_set():
                    result.cancelled = True
                    continue
                await self._read(account, url, result, i, len(accounts))
                await self._ledger(account, result)
            return ImportReport(tuple(results), self._stop.is_set())
        finally:
            self._running = False

    async def _read(
        self, account: ExchangeAccount, url: str | None, result: AccountImport, i: int, n: int
    ) -> None:
        try:
            credentials = await asyncio.to_thread(self._accounts.credentials, account.name)
        except ChainfolioError as exc:  # a locked or missing keyring: its sentence
            result.error = str(exc)
            return
        if credentials is None:
            result.error = (
                f"The API key of {account.title} is not in the keyring; add the account again."
            )
            return
        reader = self._reader(account.exchange, credentials, url)
        try:
            cursors = await asyncio.to_thread(self._store.cursors, account.name)
            held = await asyncio.to_thread(self._held, account.name)
            async for page in reader.pages(cursors, held):
                # the write runs to its end in its thread even if the import is cancelled now
                added = await asyncio.to_thread(
                    self._store.write_page, account.name, page.stream, page.records, page.cursor
                )
                result.new_records += added
                for why in page.skipped:
                    if why not in result.skipped:  # pages read again repeat their refusals
                        log.info("%s: record skipped: %s", account.name, why)
                        result.skipped.append(why)
                self._emit(
                    ImportProgress(account.name, account.title, page.stream,
                                   result.new_records, i, n)
                )  # fmt: skip
                if self._stop.is_set():
                    result.cancelled = True
                    return
        except asyncio.CancelledError:
            result.cancelled = True
            raise
        except ChainfolioError as exc:
            result.error = str(exc)
            log.info("exchange import of %s stopped: %s", account.name, exc)
        except Exception:
            log.exception("exchange import of %s failed", account.name)
            result.error = (
                f"Reading {EXCHANGES.get(account.exchange, account.exchange)} failed "
                "unexpectedly; the log has the details."
            )
        finally:
            result.requests = reader.requests
            with contextlib.suppress(Exception):
                await reader.aclose()

    def _held(self, name: str) -> set[str]:
        held: set[str] = set()
        for r in self._store.records(name):
            held.add(r.code)
            if r.quote:
                held.add(r.quote)
        return held

    async def _ledger(self, account: ExchangeAccount, result: AccountImport) -> None:
        now = int(self._clock())
        records = await asyncio.to_thread(self._store.records, account.name)
        if not records:
            return
        ledger = await asyncio.to_thread(
            self._store.ensure_account, account.name, account.title, now
        )
        result.ledger_account = ledger
        price = await self._price_lookup(account.name, records)
        plan = await asyncio.to_thread(
            plan_entries, account.name, ledger, account.title, records, price, now
        )
        for why in plan.refused:
            log.info("exchange entry left out: %s", why)
        movers = [r for r in records if r.kind is not RecordKind.TRADE]
        matches: list[Match] = []
        if movers:
            lo = min(r.seconds for r in movers) - MATCH_AFTER
            hi = max(r.seconds for r in movers) + MATCH_AFTER
            entries = await asyncio.to_thread(self._store.chain_entries, account.name, lo, hi)
            matches = match_transfers(account.name, ledger, account.title, records, entries, now)
        plan = without_matched(plan, account.name, matches)
        synced = await asyncio.to_thread(
            self._store.sync_ledger, account.name, plan.transactions, matches, now
        )
        result.added, result.removed = synced.added, synced.removed
        result.matched = len(matches)
        result.unpriced = plan.unpriced

    async def _price_lookup(
        self, name: str, records: Sequence[ExchangeRecord]
    ) -> Callable[[str, int], Decimal | None]:
        """USD prices at a time from the stored daily history (the day or up to two before)."""
        if self._prices is None:
            return lambda _asset, _ts: None
        assets = sorted(
            {asset_for(name, c) for r in records for c in (r.code, r.quote or r.code)
             if not is_fiat(c)}
        )  # fmt: skip
        first = min(r.seconds for r in records)
        start = first - first % DAY - PRICE_DAYS_BACK * DAY
        try:
            daily = await asyncio.to_thread(self._prices.daily_usd, assets, start)
        except Exception:
            log.warning("the price history could not be read", exc_info=True)
            daily = {}

        return daily_price_lookup(daily)


def describe(report: ImportReport) -> dict[str, object]:
    """The report as plain data (``exchanges import --json``)."""
    return {
        "cancelled": report.cancelled,
        "accounts": [
            {
                "name": a.account, "title": a.title, "new_records": a.new_records,
                "skipped": a.skipped, "error": a.error, "cancelled": a.cancelled,
                "ledger_account": a.ledger_account,
                "ledger": {"added": a.added, "removed": a.removed, "transfers": a.matched,
                           "unpriced": a.unpriced},
                "requests": a.requests,
            }
            for a in report.accounts
        ],
    }  # fmt: skip


def summary(report: ImportReport) -> list[str]:
    """One line per account, as a person reads it."""
    lines = []
    for a in report.accounts:
        if a.error and not a.new_records:
            head = f"{a.title}: {a.error}"
        else:
            head = (
                f"{a.title}: {a.new_records} new record{'s' if a.new_records != 1 else ''}, "
                f"{a.added} ledger entr{'ies' if a.added != 1 else 'y'} added"
                + (f", {a.matched} matched with your wallets as transfers" if a.matched else "")
                + (f", {len(a.skipped)} skipped (see the log)" if a.skipped else "")
                + "."
            )
            if a.error:
                head += f" Stopped early: {a.error} What was read is kept; the next import "
                head += "continues from there."
        if a.cancelled and not a.error:
            head += " Stopped; the next import continues from there."
        lines.append(head)
    return lines


__all__ = [
    "MATCH_BEFORE",
    "AccountImport",
    "ExchangeHistoryService",
    "ImportProgress",
    "ImportReport",
    "describe",
    "summary",
]
