"""The ledger use cases: accounts, transactions, CSV import/export, P&L and returns.

Depends only on the domain and on the ports below (:class:`LedgerStore`, :class:`MarketData`);
the SQL stores are wired in by ``app.bootstrap``. Every method is synchronous and may run SQL:
the window calls them off its thread (``asyncio.to_thread``), the CLI directly. Results are the
domain's plain frozen dataclasses (:class:`~app.domain.ledger.PnlReport`,
:class:`ReturnsReport`, :class:`ImportReport`), so a window tab can show them as they are.

**Currencies.** P&L and returns are in the display currency. Transaction prices in another
currency, and market prices (kept in US dollars), are converted at the rate of their own day
from the stored daily history (``app/services/ledger_fx.py``; the nearest earlier day over a
gap); where no daily rate is stored, today's rate is used and the report says so in ``notes``.

**Prices for valuation.** Crypto assets are valued with the price cache (current) and the daily
price history store (returns); every asset also has the prices recorded on its transactions as
marks (the only prices bonds have, and stocks, ETFs and metals without a Stooq key).
Without the price store (empty, or the price API down) P&L is still computed from transaction
prices; a holding without any price has its unrealised P&L marked unknown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from app.domain.fx_days import DayRates
from app.domain.gc_pause import gc_paused  # no collection passes over 10,000s of lots
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
from app.services.ledger_fx import (
    MARKET_NOTE,
    close_marks,
    convert_transactions,
    daily_in_currency,
    fx_notes,
    is_market_asset,
)

_DIV = Context(prec=CONVERSION_PREC)
FX_NOTE = (
    "Amounts in other currencies were converted at today's exchange rate (no daily rate of "
    "their own day is stored for them)."
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

    def check(self, tx: Transaction, replacing: int | None = None) -> Transaction:
        """What :meth:`add` (or :meth:`edit` of ``replacing``) would store, checked the same
        way (valid entry, known accounts, never more out of an account than it holds at that
        time), without storing anything: the window's dialog checks as the person types."""
        tx = validate(replace(tx, note=free_text(tx.note, "note"), id=replacing), self._now())
        self._check_accounts([tx])
        existing = self._all()
        if replacing is None:
            after = [*existing, tx]
        else:
            after = [tx if t.id == replacing else t for t in existing]
        _refuse_new_overdrafts(existing, after, tx)
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

        assets = {t.asset for t in txs}
        market = self._market_marks(assets, currency, to_report)
        rates = self._day_rates()
        fx: list[str] = []
        if rates is not None:  # each amount at its own day's rate (ledger_fx)
            conv = convert_transactions(txs, currency, rates, to_report)
            txs = conv.txs
            market.update(self._other_marks(assets, currency, rates, to_report, conv.at_today))
            fx = fx_notes(conv.by_day, conv.at_today, rates)
            converted -= {code for code in converted if code in conv.at_today}
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
        if rates is None:
            notes = [FX_NOTE] if converted else []
        else:
            notes = [*fx, *([MARKET_NOTE] if converted else [])]
        return replace(report, notes=tuple(notes))

    def market_needs(self) -> tuple[dict[str, int], dict[str, int]]:
        """What the ledger needs of the market data: each stock, ETF and metal, and each
        currency of a price, a fee or a cash holding, with the time of its first transaction
        (daily closes and rates are fetched from then on)."""
        assets: dict[str, int] = {}
        currencies: dict[str, int] = {}
        for t in self._all():  # oldest first: the first time seen is the earliest
            if is_market_asset(t.asset):
                assets.setdefault(t.asset, t.ts)
            elif t.asset.startswith("fiat:"):
                currencies.setdefault(t.asset[5:], t.ts)
            for code in (t.price_currency, t.fee_currency):
                if code and code != t.asset and ":" not in code and "/" not in code:
                    currencies.setdefault(code, t.ts)
        return assets, currencies

    def _day_rates(self) -> DayRates | None:
        """The stored daily exchange rates, when the market data can give them."""
        days = getattr(self._market, "usd_rate_days", None)
        if days is None:
            return None

        def load(code: str) -> list[tuple[int, Decimal]]:
            try:
                return list(days(code))
            except Exception:  # an unreadable store: today's rate, said in the notes
                logging.getLogger(__name__).warning("rate history unreadable", exc_info=True)
                return []

        return DayRates(load)

    def _other_marks(
        self,
        assets: set[str],
        currency: str,
        rates: DayRates,
        to_report: Callable[[str], Decimal],
        at_today: dict[str, list[int]],
    ) -> dict[str, Mark]:
        """Stocks, ETFs and metals at their newest stored close (its day's rate); foreign cash
        at today's rate."""
        marks: dict[str, Mark] = {}
        stocks = [a for a in assets if is_market_asset(a)]
        if stocks and hasattr(self._market, "last_closes"):
            try:
                marks = close_marks(
                    self._market,  # type: ignore[arg-type]
                    stocks,
                    currency,
                    rates,
                    to_report,
                    at_today,
                )
            except LedgerError:
                raise
            except Exception:  # the price store is optional: transaction prices still value
                logging.getLogger(__name__).warning("daily closes unreadable", exc_info=True)
        now = self._now()
        for asset in assets:
            if asset.startswith("fiat:") and asset[5:] != currency:
                try:
                    marks[asset] = Mark(to_report(asset[5:]), now, "market")
                except LedgerError:
                    continue  # no rate today: the transactions' own rates value it
        return marks

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
        rates = self._day_rates()
        if prices and rates is None:
            usd = to_report(USD)
        fx: list[str] = []
        if rates is not None:  # each day at its own day's rate (ledger_fx)
            conv = convert_transactions(txs, currency, rates, lambda c: self._factor(c, currency))
            txs = conv.txs
            market = self._market if hasattr(self._market, "daily_closes") else None
            try:
                daily_values = daily_in_currency(
                    market,  # type: ignore[arg-type]
                    prices,
                    sorted({t.asset for t in txs if is_market_asset(t.asset)}),
                    _first_days(t for t in txs if t.asset.startswith("fiat:")),
                    currency,
                    rates,
                    to_report,
                    start_day - 1,
                    end_day,
                )
            except LedgerError:
                raise
            except Exception:  # as for P&L: transaction prices still value
                logging.getLogger(__name__).warning("daily closes unreadable", exc_info=True)
                usd = to_report(USD) if prices else 1.0
            else:
                prices = daily_values.prices
                for code, days in daily_values.at_today.items():
                    conv.at_today.setdefault(code, []).extend(days)
                conv.by_day |= daily_values.by_day
            fx = fx_notes(conv.by_day, conv.at_today, rates)
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
        if rates is not None:
            notes.extend(fx)
        elif converted:
            notes.append(FX_NOTE)
        if figures.unpriced:
            notes.append(
                f"{len(figures.unpriced)} asset(s) have no price at all and are left out of the "
                "value: " + ", ".join(figures.unpriced[:5])
            )
        if figures.twr_annualised is None:
            notes.append("Not annualised: the range is shorter than a year.")
        return ReturnsReport(account, currency, start, end, figures, tuple(notes))


def _first_days(txs: Iterable[Transaction]) -> dict[str, int]:
    """Currency code -> day number of the first transaction of that fiat asset."""
    out: dict[str, int] = {}
    for t in txs:
        code = t.asset[5:]
        out[code] = min(out.get(code, t.ts // 86400), t.ts // 86400)
    return out


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
