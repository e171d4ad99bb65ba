"""The ledger use cases: accounts, transactions, CSV import/export, P&L and returns.

Depends only on the domain and on the ports below (:class:`LedgerStore`, :class:`MarketData`);
the SQL stores are wired in by ``app.bootstrap``. Every method is synchronous and may run SQL:
the window calls them off its thread (``asyncio.to_thread``), the CLI directly. Results are the
domain's plain frozen dataclasses (:class:`~app.domain.ledger.PnlReport`,
:class:`ReturnsReport`, :class:`ImportReport`), so a window tab can show them as they are.

**Currencies.** P&L and returns are in the display currency. Transaction prices in another
currency, and market prices (kept in US dollars), are converted with the stored exchange rate
of today: historical rates are not used yet, and every report that converted says so in
``notes``.

**Prices for valuation.** Crypto assets are valued with the price cache (current) and the daily
price history store (returns); every asset also has the prices recorded on its transactions as
marks, the only prices stocks, bonds and commodities have until a price source for them exists.
Without the price store (empty, or the price API down) P&L is still computed from transaction
prices; a holding without any price has its unrealised P&L marked unknown.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Context, Decimal, localcontext
from typing import Protocol

from app.domain.assets import asset_from_symbol
from app.domain.cost_basis import (
    BasisScope,
    CostBasisMethod,
    Mark,
    PnlReport,
    compute_pnl,
)
from app.domain.ledger import (
    Account,
    AccountKind,
    LedgerError,
    Transaction,
    account_name,
    free_text,
    quantity_changes,
    validate,
)
from app.domain.returns import ReturnFigures, compute_returns, day_of
from app.domain.valuation import CONVERSION_PREC, USD
from app.services.ledger_csv import CsvFormat, LineError, ParseOptions, parse
from app.services.ledger_export import write

_DIV = Context(prec=CONVERSION_PREC)
FX_NOTE = (
    "Amounts in other currencies were converted at today's exchange rate: historical exchange "
    "rates are not used yet."
)


class LedgerStore(Protocol):
    """Accounts and transactions (``SqlLedgerStore``)."""

    def accounts(self) -> list[Account]: ...

    def add_account(self, name: str, kind: AccountKind, note: str, now: int) -> Account: ...

    def remove_account(self, name: str) -> int: ...

    def transaction_count(self, account: str) -> int: ...

    def transactions(self, account: str | None = None) -> list[Transaction]: ...

    def revision(self) -> int:
        """Changes with every write (from any process)."""
        ...

    def get(self, tx_id: int) -> Transaction | None: ...

    def known_fingerprints(self, fingerprints: Iterable[str]) -> set[str]: ...

    def add(self, txs: Sequence[Transaction], now: int) -> list[int]: ...

    def update(self, tx: Transaction) -> None: ...

    def remove(self, tx_id: int) -> bool: ...


class MarketData(Protocol):
    """What the price stores know (``SqlLedgerMarket``): all in US dollars."""

    def latest_usd(self, asset_ids: Iterable[str]) -> dict[str, tuple[Decimal, int]]: ...

    def last_daily_usd(self, asset_ids: Iterable[str]) -> dict[str, tuple[int, Decimal]]:
        """asset id -> (day start in seconds, price) of the newest daily history point."""
        ...

    def daily_usd(self, asset_ids: Iterable[str], since: int) -> dict[str, list[tuple[int, float]]]:
        """asset id -> (day number, price), oldest first."""
        ...

    def usd_rate(self, code: str) -> Decimal | None:
        """Units of ``code`` per US dollar (stored, today's)."""
        ...


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    currency: str = USD
    method: CostBasisMethod = CostBasisMethod.FIFO
    scope: BasisScope = BasisScope.ACCOUNT


@dataclass(frozen=True, slots=True)
class ImportReport:
    format: CsvFormat
    rows: int  # lines with a transaction
    to_add: tuple[Transaction, ...]  # what is (or, in a dry run, would be) added
    duplicates: int  # transactions already imported before
    errors: tuple[LineError, ...]
    added: int  # 0 in a dry run or when any line is bad
    dry_run: bool
    new_accounts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class ReturnsReport:
    account: str | None
    currency: str
    start: date
    end: date
    figures: ReturnFigures
    notes: tuple[str, ...]


class LedgerService:
    def __init__(
        self,
        store: LedgerStore,
        market: MarketData | None,
        config: Callable[[], LedgerConfig],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._market = market
        self._config = config
        self._clock = clock
        self._cache: tuple[int, list[Transaction]] | None = None

    def _all(self) -> list[Transaction]:
        """Every transaction, oldest first; reused until the ledger changes (the window asks
        for P&L and returns again and again; reading 50,000 rows costs ~0.4 s)."""
        revision = self._store.revision()
        if self._cache is None or self._cache[0] != revision:
            self._cache = (revision, self._store.transactions())
        return self._cache[1]

    def _txs(self, account: str | None) -> list[Transaction]:
        txs = self._all()
        if account is None:
            return txs
        if account not in {a.name for a in self._store.accounts()}:
            raise LedgerError(f"no account named {account!r}")
        return [t for t in txs if account in (t.account, t.to_account)]

    def _now(self) -> int:
        return int(self._clock())

    # ---- accounts ---------------------------------------------------------------------------
    def accounts(self) -> list[Account]:
        return self._store.accounts()

    def add_account(self, name: str, kind: str = "other", note: str = "") -> Account:
        try:
            kind_ = AccountKind(kind)
        except ValueError:
            raise LedgerError(
                f"an account is one of: {', '.join(k.value for k in AccountKind)}"
            ) from None
        return self._store.add_account(
            account_name(name), kind_, free_text(note, "account note"), self._now()
        )

    def remove_account(self, name: str, *, with_transactions: bool = False) -> int:
        count = self._store.transaction_count(name)
        if count and not with_transactions:
            raise LedgerError(
                f"the account {name!r} has {count} transaction(s); remove them first, or remove "
                "the account with its transactions (--with-transactions)"
            )
        return self._store.remove_account(name)

    # ---- transactions -----------------------------------------------------------------------
    def transactions(
        self,
        account: str | None = None,
        asset: str | None = None,
        kind: str | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[Transaction]:
        txs = self._txs(account)
        return [
            t
            for t in txs
            if (asset is None or t.asset == asset)
            and (kind is None or t.kind.value == kind)
            and (since is None or t.ts >= since)
            and (until is None or t.ts <= until)
        ]

    def add(self, tx: Transaction) -> Transaction:
        tx = validate(replace(tx, note=free_text(tx.note, "note")), self._now())
        self._check_accounts([tx])
        existing = self._all()
        _refuse_new_overdrafts(existing, [*existing, tx], tx)
        (new_id,) = self._store.add([tx], self._now())
        return replace(tx, id=new_id)

    def edit(self, tx_id: int, **changes: object) -> Transaction:
        old = self._store.get(tx_id)
        if old is None:
            raise LedgerError(f"no transaction {tx_id}")
        if isinstance(changes.get("note"), str):
            changes["note"] = free_text(str(changes["note"]), "note")
        tx = validate(replace(old, **changes), self._now())  # type: ignore[arg-type]
        self._check_accounts([tx])
        existing = self._all()
        after = [tx if t.id == tx_id else t for t in existing]
        _refuse_new_overdrafts(existing, after, tx)
        self._store.update(tx)
        return tx

    def remove(self, tx_id: int) -> Transaction:
        old = self._store.get(tx_id)
        if old is None or not self._store.remove(tx_id):
            raise LedgerError(f"no transaction {tx_id}")
        return old

    def _check_accounts(self, txs: Sequence[Transaction]) -> None:
        names = {a.name for a in self._store.accounts()}
        for t in txs:
            for name in (t.account, t.to_account):
                if name is not None and name not in names:
                    raise LedgerError(
                        f"no account named {name!r}: add it with `chainfolio accounts add`"
                    )

    # ---- CSV --------------------------------------------------------------------------------
    def import_csv(
        self,
        text: str,
        fmt: CsvFormat | str = CsvFormat.GENERIC,
        *,
        account: str | None = None,
        asset_map: Mapping[str, str] | None = None,
        dry_run: bool = False,
        create_accounts: bool = False,
    ) -> ImportReport:
        """Parse and check every line; add all of the file's new transactions, or nothing when
        any line is bad (malformed, unknown asset or account, negative amount, a date in the
        future, more sold than held)."""
        fmt = CsvFormat(fmt)
        now = self._now()
        mapping = _check_map(asset_map or {})
        with gc_paused():
            parsed = parse(text, fmt, ParseOptions(now, account, mapping))
        errors = list(parsed.errors)
        known = self._store.known_fingerprints(
            t.fingerprint for r in parsed.rows for t in r.txs if t.fingerprint
        )
        fresh = [(r.line, t) for r in parsed.rows for t in r.txs if t.fingerprint not in known]
        duplicates = sum(len(r.txs) for r in parsed.rows) - len(fresh)
        names = {a.name for a in self._store.accounts()}
        wanted = sorted({n for _line, t in fresh for n in (t.account, t.to_account) if n})
        new_accounts = [n for n in wanted if n not in names]
        if new_accounts and not create_accounts:
            for line, t in fresh:
                for n in (t.account, t.to_account):
                    if n in new_accounts:
                        errors.append(
                            LineError(
                                line,
                                f"No account named {n!r}: add it first (chainfolio accounts "
                                "add), or import with --create-accounts",
                            )
                        )
        errors.extend(_overdrafts(self._all(), fresh))
        errors.sort(key=lambda e: e.line)
        to_add = tuple(t for _line, t in fresh)
        added = 0
        if not errors and not dry_run and to_add:
            for name in new_accounts:
                self._store.add_account(name, AccountKind.OTHER, "", now)
            added = len(self._store.add(to_add, now))
        return ImportReport(
            fmt,
            len(parsed.rows),
            to_add,
            duplicates,
            tuple(errors),
            added,
            dry_run,
            tuple(new_accounts),
        )

    def export_csv(
        self, fmt: CsvFormat | str = CsvFormat.GENERIC, account: str | None = None
    ) -> str:
        fmt = CsvFormat(fmt)
        cfg = self._config()
        txs = self._txs(account)

        def to_value(code: str) -> Decimal | None:
            try:
                return self._factor(code, cfg.currency)
            except LedgerError:
                return None

        return write(txs, fmt, value_currency=cfg.currency, to_value=to_value)

    # ---- P&L --------------------------------------------------------------------------------
    def pnl(
        self,
        method: CostBasisMethod | str | None = None,
        account: str | None = None,
        currency: str | None = None,
        scope: BasisScope | str | None = None,
    ) -> PnlReport:
        cfg = self._config()
        currency = (currency or cfg.currency).upper()
        method_ = CostBasisMethod(method or cfg.method)
        scope_ = BasisScope(scope or cfg.scope)
        if account is not None and account not in {a.name for a in self._store.accounts()}:
            raise LedgerError(f"no account named {account!r}")
        txs = self._all()
        converted: set[str] = set()

        def to_report(code: str) -> Decimal:
            if code != currency:
                converted.add(code)
            return self._factor(code, currency)

        market = self._market_marks({t.asset for t in txs}, currency, to_report)
        with gc_paused():
            report = compute_pnl(
                txs,
                method=method_,
                scope=scope_,
                currency=currency,
                to_report=to_report,
                market=market,
                account=account,
            )
        notes = [FX_NOTE] if converted else []
        return replace(report, notes=tuple(notes))

    def _market_marks(
        self, assets: set[str], currency: str, to_report: Callable[[str], Decimal]
    ) -> dict[str, Mark]:
        crypto = sorted(a for a in assets if "/" in a)
        if self._market is None or not crypto:
            return {}
        try:
            latest = self._market.latest_usd(crypto)
            missing = [a for a in crypto if a not in latest]
            last = self._market.last_daily_usd(missing) if missing else {}
        except Exception:  # the price store is optional: transaction prices still value
            logging.getLogger(__name__).warning("price store unreadable", exc_info=True)
            return {}
        marks: dict[str, Mark] = {}
        if not latest and not last:
            return marks
        usd = to_report(USD)
        with localcontext(_DIV):
            for asset, (price, ts) in latest.items():
                marks[asset] = Mark(price * usd, ts, "market")
            for asset, (ts, price) in last.items():
                marks[asset] = Mark(price * usd, ts, "market")
        return marks

    def _factor(self, code: str, currency: str) -> Decimal:
        """Report-currency units per unit of ``code`` (today's stored rates)."""
        code, currency = code.upper(), currency.upper()
        if code == currency:
            return Decimal(1)
        rate_to = self._rate(currency)
        rate_from = self._rate(code)
        with localcontext(_DIV):
            return rate_to / rate_from

    def _rate(self, code: str) -> Decimal:
        if code == USD:
            return Decimal(1)
        try:
            rate = None if self._market is None else self._market.usd_rate(code)
        except Exception:  # an unreadable price store: said plainly below, detail in the log
            logging.getLogger(__name__).warning("exchange rates unreadable", exc_info=True)
            rate = None
        if rate is None or rate <= 0:
            raise LedgerError(
                f"No exchange rate for {code} is stored yet: refresh once while online, then "
                "try again."
            )
        return rate

    # ---- returns ----------------------------------------------------------------------------
    def returns(
        self,
        account: str | None = None,
        start: date | None = None,
        end: date | None = None,
        currency: str | None = None,
        *,
        with_series: bool = False,
    ) -> ReturnsReport:
        cfg = self._config()
        currency = (currency or cfg.currency).upper()
        if account is not None and account not in {a.name for a in self._store.accounts()}:
            raise LedgerError(f"no account named {account!r}")
        txs = self._txs(account)
        today = datetime.fromtimestamp(self._now(), UTC).date()
        end = end or today
        if start is None:
            start = datetime.fromtimestamp(min(t.ts for t in txs), UTC).date() if txs else end
        if end < start:
            raise LedgerError("the range ends before it starts")
        if end > today:
            raise LedgerError("the range ends in the future")
        converted: set[str] = set()
        factors: dict[str, float] = {}

        def to_report(code: str) -> float:
            if code not in factors:
                if code != currency:
                    converted.add(code)
                factors[code] = float(self._factor(code, currency))
            return factors[code]

        start_day, end_day = _day(start), _day(end)
        prices: dict[str, list[tuple[int, float]]] = {}
        usd = 1.0
        crypto = sorted({t.asset for t in txs if "/" in t.asset})
        if self._market is not None and crypto:
            try:
                daily = self._market.daily_usd(crypto, 0)
            except Exception:  # as for P&L: transaction prices still value
                logging.getLogger(__name__).warning("price history unreadable", exc_info=True)
                daily = {}
            if any(daily.values()):
                prices = daily
                usd = to_report(USD)
        with gc_paused():
            figures = compute_returns(
                txs,
                start_day=start_day,
                end_day=end_day,
                prices=prices,
                to_report=to_report,
                account=account,
                with_series=with_series,
                market_factor=usd,
            )
        notes = []
        if converted:
            notes.append(FX_NOTE)
        if figures.unpriced:
            notes.append(
                f"{len(figures.unpriced)} asset(s) have no price at all and are left out of the "
                "value: " + ", ".join(figures.unpriced[:5])
            )
        if figures.twr_annualised is None:
            notes.append("Not annualised: the range is shorter than a year.")
        return ReturnsReport(account, currency, start, end, figures, tuple(notes))


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report is computed: tens of thousands of lots are
    made and dropped, and each full collection would walk every object of the process (25 % of
    a 50,000-transaction P&L). Reference counting still frees everything at once."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _day(d: date) -> int:
    return day_of(int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()))


def _check_map(mapping: Mapping[str, str]) -> dict[str, str]:
    """SYMBOL=ID pairs, each id validated (an unknown id is refused before any line is read)."""
    out: dict[str, str] = {}
    for symbol, asset in mapping.items():
        try:
            out[symbol.strip().upper()] = asset_from_symbol(asset).id
        except ValueError as exc:
            raise LedgerError(f"--asset {symbol}: {exc}") from None
    return out


def _overdrafts(
    existing: Sequence[Transaction], fresh: Sequence[tuple[int, Transaction]]
) -> list[LineError]:
    """Lines that take more of an asset out of an account than it holds at that time. Existing
    transactions are never reported (line 0); new rows sort after existing ones of the same
    second, in file order (their ids come later)."""
    from app.domain.assets import parse_asset
    from app.domain.valuation import money_context

    top = max((t.id or 0 for t in existing), default=0)
    items = [((t.ts, t.id or 0), 0, t) for t in existing]
    items += [((t.ts, top + 1 + i), line, t) for i, (line, t) in enumerate(fresh)]
    items.sort(key=lambda item: item[0])
    held: dict[tuple[str, str], Decimal] = {}
    errors: list[LineError] = []
    zero = Decimal(0)
    with money_context():
        for _key, line, t in items:
            for key, delta in quantity_changes(t):
                before = held.get(key, zero)
                after = before + delta
                held[key] = after
                if after < 0 and delta < 0 and line:
                    errors.append(
                        LineError(
                            line,
                            f"Takes {-delta} {parse_asset(key[1]).symbol} out of {key[0]!r}, "
                            f"which holds only {max(before, zero)} then",
                        )
                    )
    return errors


def _negative_keys(txs: Sequence[Transaction]) -> set[tuple[str, str]]:
    """(account, asset) pairs whose running quantity ever falls below zero."""
    held: dict[tuple[str, str], Decimal] = {}
    out: set[tuple[str, str]] = set()
    from app.domain.valuation import money_context

    with money_context():
        for t in sorted(txs, key=Transaction.sort_key):
            for key, delta in quantity_changes(t):
                held[key] = held.get(key, Decimal(0)) + delta
                if held[key] < 0:
                    out.add(key)
    return out


def _refuse_new_overdrafts(
    before: Sequence[Transaction], after: Sequence[Transaction], tx: Transaction
) -> None:
    """A single add or edit may not leave an account holding less than nothing at any time."""
    new = _negative_keys(after) - _negative_keys(before)
    if new:
        account, _asset = sorted(new)[0]
        raise LedgerError(
            f"this takes more of the asset out of {account!r} than the account holds at that "
            "time; record the buy or deposit first"
        )
