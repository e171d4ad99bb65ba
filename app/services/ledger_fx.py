"""The ledger in one currency, each amount at the exchange rate of its own day.

P&L and returns are computed in the display currency. A transaction priced in another currency
is converted at the rate of its day (the nearest earlier day's when that day has none: weekends,
holidays), never today's; so are the daily closes of stocks and metals and each day's value of
foreign cash. Only where no rate at or before the day is stored is today's rate used, and the
report says so, naming the currency and the dates.

Pure over two ports (:class:`DailyMarket` for the stored history, a today's-rate function), so
:class:`~app.services.ledger.LedgerService` stays as it was for everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from typing import Protocol

import numpy as np

from app.domain.cost_basis import Mark
from app.domain.fx_days import DAY, DayRates, iso_day
from app.domain.ledger import LedgerError, Transaction
from app.domain.valuation import CONVERSION_PREC

DAY_RATES_NOTE = "Amounts in other currencies were converted at the exchange rate of their own day."
MARKET_NOTE = "Current market prices were converted at today's exchange rate."


class DailyMarket(Protocol):
    """The stored history the ledger reads (``SqlLedgerMarket``)."""

    def usd_rate_days(self, code: str) -> list[tuple[int, Decimal]]:
        """Daily rates of ``code``: (day start, units per US dollar), oldest first."""
        ...

    def last_closes(self, asset_ids: Iterable[str]) -> dict[str, tuple[int, str, Decimal]]:
        """asset id -> (day start, currency, close) of its newest stored daily close."""
        ...

    def daily_closes(
        self, asset_ids: Iterable[str], since: int
    ) -> dict[str, tuple[str, list[tuple[int, float]]]]:
        """asset id -> (currency, [(day number, close)]) oldest first (returns only)."""
        ...


def is_market_asset(asset: str) -> bool:
    """Stocks, ETFs and metals: priced by daily closes (bonds have no source yet)."""
    return asset.startswith(("stock:", "etf:", "commodity:"))


@dataclass
class Conversion:
    txs: list[Transaction]
    by_day: set[str] = field(default_factory=set)  # currencies converted at their day's rate
    at_today: dict[str, list[int]] = field(default_factory=dict)  # code -> days, today's rate


def convert_transactions(
    txs: Sequence[Transaction],
    currency: str,
    rates: DayRates,
    today: Callable[[str], Decimal],
) -> Conversion:
    """Each transaction's price and fiat fee in ``currency`` at the rate of its day. ``today``
    gives today's factor for a currency with no stored rate at or before the day (it raises
    when there is none at all, as before)."""
    out = Conversion([])
    factors: dict[tuple[str, int], Decimal] = {}

    def factor(code: str, ts: int) -> Decimal:
        day = ts - ts % DAY
        key = (code, day)
        got = factors.get(key)
        if got is None:
            found = rates.factor(code, currency, ts)
            if found is None:
                found = today(code)
                out.at_today.setdefault(code, []).append(day)
            else:
                out.by_day.add(code)
            got = factors[key] = found
        return got

    with localcontext() as ctx:
        ctx.prec = CONVERSION_PREC
        for t in txs:
            changes: dict[str, object] = {}
            if t.price is not None and t.price_currency and t.price_currency != currency:
                changes["price"] = t.price * factor(t.price_currency, t.ts)
                changes["price_currency"] = currency
            fee_code = t.fee_currency
            if t.fee and fee_code and fee_code != t.asset and fee_code != currency:
                changes["fee"] = t.fee * factor(fee_code, t.ts)
                changes["fee_currency"] = currency
            out.txs.append(replace(t, **changes) if changes else t)  # type: ignore[arg-type]
    return out


def close_marks(
    market: DailyMarket,
    assets: Iterable[str],
    currency: str,
    rates: DayRates,
    today: Callable[[str], Decimal],
    at_today: dict[str, list[int]],
) -> dict[str, Mark]:
    """The newest stored close of each stock, ETF and metal, in ``currency`` at its day's
    rate (a "market" mark as of that day)."""
    marks: dict[str, Mark] = {}
    with localcontext() as ctx:
        ctx.prec = CONVERSION_PREC
        for asset, (day, code, close) in market.last_closes(sorted(assets)).items():
            f = rates.factor(code, currency, day)
            if f is None:
                try:
                    f = today(code)
                except LedgerError:  # no rate at all: the transactions' own prices value it
                    continue
                at_today.setdefault(code, []).append(day)
            marks[asset] = Mark(close * f, day, "market")
    return marks


def factor_days(
    rates: DayRates, code: str, currency: str, days: np.ndarray, today: Callable[[], float]
) -> tuple[np.ndarray, np.ndarray]:
    """Units of ``currency`` per unit of ``code`` on each day number of ``days`` (float, for
    returns), and a mask of the days that had no stored rate at or before them (``today``
    used)."""
    days = np.asarray(days, dtype=np.int64)
    if code.upper() == currency.upper():
        return np.ones(len(days)), np.zeros(len(days), dtype=bool)

    def per_usd(c: str) -> tuple[np.ndarray, np.ndarray]:
        if c.upper() == "USD":
            return np.ones(len(days)), np.ones(len(days), dtype=bool)
        stored_days, stored = rates.series(c)
        if not stored_days:
            return np.full(len(days), np.nan), np.zeros(len(days), dtype=bool)
        d = np.asarray(stored_days, dtype=np.int64) // DAY
        r = np.asarray([float(x) for x in stored], dtype=np.float64)
        i = np.searchsorted(d, days, side="right") - 1
        ok = i >= 0
        return np.where(ok, r[np.clip(i, 0, None)], np.nan), ok

    have, ok_have = per_usd(code)
    want, ok_want = per_usd(currency)
    ok = ok_have & ok_want
    fill = today() if not ok.all() else 1.0  # today's rate only where no day's rate is stored
    out = np.where(ok, want / np.where(ok, have, 1.0), fill)
    return out, ~ok


@dataclass
class DailyInCurrency:
    """Daily market prices and fiat values in the report currency, for returns."""

    prices: dict[str, list[tuple[int, float]]]
    at_today: dict[str, list[int]]
    by_day: set[str]


def daily_in_currency(
    market: DailyMarket | None,
    crypto_usd: Mapping[str, Sequence[tuple[int, float]]],
    market_assets: Sequence[str],
    fiat_codes: Mapping[str, int],
    currency: str,
    rates: DayRates,
    today: Callable[[str], float],
    first_day: int,
    last_day: int,
) -> DailyInCurrency:
    """Crypto daily USD prices, stock/ETF/metal closes and fiat cash (``fiat_codes``: code ->
    day number of its first transaction) as (day, value in ``currency``) series, each day at
    that day's rate."""
    out = DailyInCurrency({}, {}, set())

    def convert(asset: str, code: str, points: Sequence[tuple[int, float]]) -> None:
        if not points:
            return
        if code.upper() == currency.upper():
            out.prices[asset] = points if isinstance(points, list) else list(points)
            return
        arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        days = arr[:, 0].astype(np.int64)
        f, missing = factor_days(rates, code, currency, days, lambda: today(code))
        if missing.any():
            out.at_today.setdefault(code, []).extend(int(d) * DAY for d in days[missing])
        if (~missing).any():
            out.by_day.add(code)
        out.prices[asset] = list(zip(days.tolist(), (arr[:, 1] * f).tolist(), strict=True))

    for asset, points in crypto_usd.items():
        convert(asset, "USD", points)
    if market is not None and market_assets:
        for asset, (code, points) in market.daily_closes(market_assets, 0).items():
            convert(asset, code, points)
    for code, held_from in fiat_codes.items():  # each day of the range the cash is held
        if code.upper() != currency.upper():
            grid = [(d, 1.0) for d in range(max(first_day, held_from), last_day + 1)]
            convert(f"fiat:{code}", code, grid)
    return out


def fx_notes(by_day: set[str], at_today: Mapping[str, list[int]], rates: DayRates) -> list[str]:
    """Plain sentences: which amounts used their day's rate, the long gaps filled with an
    earlier day's rate, and which used today's rate because none of their day is stored."""
    notes: list[str] = []
    if by_day:
        notes.append(DAY_RATES_NOTE)
    notes.extend(n for n in rates.notes() if "or any day before" not in n)
    for code, days in sorted(at_today.items()):
        first, last = iso_day(min(days)), iso_day(max(days))
        span = first if first == last else f"{first} to {last}"
        notes.append(
            f"No {code} exchange rate of their own day is stored for amounts dated {span}: "
            f"they were converted at today's exchange rate (fetch the history with "
            f"`chainfolio fx history {code}` while online)."
        )
    return notes
