"""Returns of the ledger: true time-weighted return (TWR) and money-weighted return (XIRR).

**Value.** Each day's value is the sum over assets of the quantity held at the end of the day
times the asset's price that day. Prices are daily marks: a price source's daily history where
it has one (crypto), otherwise the prices recorded on the transactions themselves (a stock
bought at 100 is worth 100 until the next transaction of it records another price); a mark holds
until the next one, and before its first mark an asset is valued at that first mark (a coin
deposited without a price and sold a month later is worth its sale price from the start, so its
value is never booked as a gain). An asset with no mark at all is left out of the value and
named in ``unpriced``. Fiat cash is worth its exchange rate (each day's, when ``prices`` has a
series for it).

**External cash flows** (single-entry ledger): a buy is money put in (its cost plus fees), a
sell is money taken out (its proceeds after fees), a deposit or withdrawal moves the asset's
value in or out, a fiat fee paid from outside is money put in that buys nothing. Income and fees
paid in an asset are not flows: they are part of the return. A transfer between the person's own
accounts is no flow for the total, and an outflow of one account and an inflow of the other for
per-account returns.

**TWR** links daily sub-period returns: ``r_d = (V_d + Out_d) / (V_{d-1} + In_d) - 1`` (inflows
at the start of the day, outflows at its end, as Portfolio Performance does). A day whose
starting capital ``V_{d-1} + In_d`` is zero has no return (``r_d = 0``): nothing to divide by.
Cumulative ``TWR = prod(1 + r_d) - 1``; annualised ``(1 + TWR)^(365/days) - 1`` for ranges of a
year or more (shorter ranges are not annualised: the figure would mean little).

**IRR** is the rate ``r`` solving ``sum(cf_i * (1 + r)^(-t_i)) = 0`` with ``t_i`` in years of
365 days from the range's start: the value before the first day as money put in, each day's
flows, and the value at the end as money taken out. Solved on ``x = ln(1 + r)``: a bracket with
a sign change is found first (r from -99.9999 % to +10^6 %), then Newton steps that fall outside
the bracket are replaced by bisection, to ``|dx| < 1e-12``. Sums are scaled by their largest
term, so 10^6 % over decades does not overflow. With several sign changes more than one rate can
solve the equation; the one in the first bracket found from 0 outwards is given. No sign change
(money only in, or only out) means no IRR (None).

**Precision.** Values and flows are IEEE 754 double (about 15 significant digits): a ratio of
sums needs no more, and 500 assets x 3,650 days must stay under a second. Results are rounded to
10 significant digits. Cost basis and P&L stay exact Decimal (``app.domain.ledger``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.domain.ledger import Transaction, TxKind

DAY = 86400
YEAR_DAYS = 365.0
_MIN_X, _MAX_X = math.log(1e-6), math.log(1e4)  # r in [-99.9999 %, +999,900 %]


@dataclass(frozen=True, slots=True)
class DailyPoint:
    day: int  # days since 1970-01-01 (UTC)
    value: float
    inflow: float
    outflow: float
    twr: float  # cumulative TWR up to and including this day


@dataclass(frozen=True, slots=True)
class ReturnFigures:
    start_day: int
    end_day: int
    days: int
    start_value: float  # value at the end of the day before the range
    end_value: float
    inflows: float
    outflows: float
    twr: float
    twr_annualised: float | None
    irr: float | None  # annualised (XIRR)
    irr_cumulative: float | None
    unpriced: tuple[str, ...]
    irr_note: str | None = None  # why there is no IRR
    series: tuple[DailyPoint, ...] = ()


def day_of(ts: int) -> int:
    return ts // DAY


def compute_returns(
    txs: Sequence[Transaction],
    *,
    start_day: int,
    end_day: int,
    prices: Mapping[str, Sequence[tuple[int, float]]],
    to_report: Callable[[str], float],
    account: str | None = None,
    with_series: bool = False,
    market_factor: float = 1.0,
) -> ReturnFigures:
    """TWR and IRR of the whole ledger (``account`` None) or of one account over
    [start_day, end_day] (inclusive, UTC days). ``prices``: asset id -> (day, price) from a
    price source, times ``market_factor`` in the report currency (the store keeps US dollars);
    ``to_report(code)``: report-currency units per unit of a fiat currency."""
    if end_day < start_day:
        raise ValueError("the range ends before it starts")
    n = end_day - start_day + 1
    first = start_day - 1  # index 0 holds the day before the range: the starting value
    size = n + 1
    mine = [t for t in txs if account is None or account in (t.account, t.to_account)]
    fx: dict[str, float] = {}

    def rate(code: str) -> float:
        got = fx.get(code)
        if got is None:
            got = fx[code] = to_report(code)
        return got

    marks: dict[str, dict[int, float]] = {}
    for t in mine:
        if t.price is not None and t.price_currency is not None:
            marks.setdefault(t.asset, {})[t.ts // DAY] = float(t.price) * rate(t.price_currency)
    assets = sorted({t.asset for t in mine})
    rows = np.zeros((len(assets), size))
    unpriced: list[str] = []
    for i, asset in enumerate(assets):
        row = _price_row(
            asset, marks.get(asset, {}), prices.get(asset, ()), first, size, rate, market_factor
        )
        if row is None:
            unpriced.append(asset)
        else:
            rows[i] = row
    index = {a: i for i, a in enumerate(assets)}
    # Quantity changes as (asset row, day, change) triples, summed by numpy at the end; flows in
    # Python lists (a numpy element update costs ten times a list's).
    q: list[tuple[int, int, float]] = []
    inflow_l = [0.0] * size
    outflow_l = [0.0] * size
    buy, sell, deposit = TxKind.BUY, TxKind.SELL, TxKind.DEPOSIT
    withdrawal, transfer = TxKind.WITHDRAWAL, TxKind.TRANSFER
    for t in mine:
        idx = t.ts // DAY - first
        if idx >= size:
            continue
        if idx < 0:
            idx = 0
        kind = t.kind
        amount = float(t.amount)
        fee_qty = float(t.fee) if t.fee and t.fee_currency == t.asset else 0.0
        a = index[t.asset]
        if kind is transfer:
            if account is None or t.account == account:
                q.append((a, idx, -(amount + fee_qty)))
            if account is None or t.to_account == account:
                q.append((a, idx, amount))
        elif kind is buy or kind is deposit or kind is TxKind.INCOME:
            q.append((a, idx, amount - fee_qty))
        elif kind is TxKind.FEE:
            q.append((a, idx, -amount))
        else:
            q.append((a, idx, -(amount + fee_qty)))
        if idx == 0:
            continue  # before the range: part of the starting value
        fee = 0.0
        if t.fee and t.fee_currency and t.fee_currency != t.asset:
            fee = float(t.fee) * rate(t.fee_currency)
        unit = None if t.price is None else float(t.price) * rate(t.price_currency or "")
        if kind is buy:
            inflow_l[idx] += amount * (unit or 0.0) + fee
        elif kind is sell:
            outflow_l[idx] += amount * (unit or 0.0) - fee
        elif kind is deposit:
            inflow_l[idx] += amount * (unit if unit is not None else rows[a, idx]) + fee
        elif kind is withdrawal:
            outflow_l[idx] += amount * rows[a, idx]
            inflow_l[idx] += fee
        elif kind is transfer:
            if account is None:
                inflow_l[idx] += fee
            elif t.account == account:
                outflow_l[idx] += amount * rows[a, idx]
                inflow_l[idx] += fee
            else:
                inflow_l[idx] += amount * rows[a, idx]
        else:  # income, fee
            inflow_l[idx] += fee
    qty = np.zeros((len(assets), size))
    if q:
        changes = np.array(q, dtype=np.float64)
        np.add.at(
            qty, (changes[:, 0].astype(np.int64), changes[:, 1].astype(np.int64)), changes[:, 2]
        )
    values = (np.cumsum(qty, axis=1) * rows).sum(axis=0) if assets else np.zeros(size)
    inflow = np.array(inflow_l)
    outflow = np.array(outflow_l)
    values[np.abs(values) < 1e-9] = 0.0
    twr_daily = _daily_twr(values, inflow, outflow)
    growth = np.cumprod(1.0 + twr_daily)
    twr = float(growth[-1] - 1.0)
    twr_ann = (1.0 + twr) ** (YEAR_DAYS / n) - 1.0 if n >= YEAR_DAYS and twr > -1 else None
    irr, irr_note = _xirr(values, inflow, outflow)
    irr_cum = None if irr is None else (1.0 + irr) ** (n / YEAR_DAYS) - 1.0
    series: tuple[DailyPoint, ...] = ()
    if with_series:
        series = tuple(
            DailyPoint(first + i, float(values[i]), float(inflow[i]), float(outflow[i]),
                       float(growth[i] - 1.0))
            for i in range(1, size)
        )  # fmt: skip
    return ReturnFigures(
        start_day,
        end_day,
        n,
        _round(float(values[0])),
        _round(float(values[-1])),
        _round(float(inflow[1:].sum())),
        _round(float(outflow[1:].sum())),
        _round(twr),
        None if twr_ann is None else _round(twr_ann),
        None if irr is None else _round(irr),
        None if irr_cum is None else _round(irr_cum),
        tuple(unpriced),
        irr_note,
        series,
    )


def _price_row(
    asset: str,
    tx_marks: Mapping[int, float],
    market: Sequence[tuple[int, float]],
    first: int,
    size: int,
    to_report: Callable[[str], float],
    market_factor: float,
) -> np.ndarray | None:
    """Daily price over [first, first + size), forward-filled; market prices win over the
    transaction marks of the same day. None when the asset has no mark at all."""
    if asset.startswith("fiat:"):
        if not market:
            return np.full(size, to_report(asset[5:]))
        tx_marks = {}  # cash is worth each day's exchange rate, given as its market series
    if not tx_marks and not market:
        return None
    m = np.asarray(market, dtype=np.float64).reshape(-1, 2)
    t_days = np.fromiter(tx_marks.keys(), dtype=np.float64, count=len(tx_marks))
    t_vals = np.fromiter(tx_marks.values(), dtype=np.float64, count=len(tx_marks))
    days = np.concatenate([t_days, m[:, 0]])
    vals = np.concatenate([t_vals, m[:, 1] * market_factor])
    source = np.concatenate([np.zeros(len(t_days)), np.ones(len(m))])
    order = np.lexsort((source, days))  # by day; on one day the market's point comes last
    days, vals = days[order], vals[order]
    grid = np.arange(first, first + size, dtype=np.float64)
    idx = np.searchsorted(days, grid, side="right") - 1  # the last point of each day wins
    # Before an asset's first mark its first mark is the best estimate (a coin deposited
    # without a price and sold later): valuing it at zero would book its value as a gain.
    return vals[np.clip(idx, 0, None)]


def _daily_twr(values: np.ndarray, inflow: np.ndarray, outflow: np.ndarray) -> np.ndarray:
    r = np.zeros(values.shape[0])
    start = values[:-1] + inflow[1:]
    end = values[1:] + outflow[1:]
    ok = start > 1e-9
    r[1:][ok] = end[ok] / start[ok] - 1.0
    return r


def _xirr(
    values: np.ndarray, inflow: np.ndarray, outflow: np.ndarray
) -> tuple[float | None, str | None]:
    cf = outflow - inflow
    cf[0] -= values[0]
    cf[-1] += values[-1]
    nz = np.nonzero(np.abs(cf) > 1e-9)[0]
    flows = cf[nz]
    if nz.size < 2 or not (flows.min() < 0 < flows.max()):
        return None, "money only went one way in this range"
    t = nz.astype(np.float64) / YEAR_DAYS
    x = _solve(flows, t)
    if x is None:
        return None, "no rate between -99.9999 % and +999,900 % a year solves it"
    return math.expm1(x), None


def _npv_sign_and_step(flows: np.ndarray, t: np.ndarray, x: float) -> tuple[float, float]:
    """(scaled f(x), Newton step f/f') for f(x) = sum(cf * exp(-x t))."""
    e = -x * t
    m = float(e.max())
    w = flows * np.exp(e - m)
    f = float(w.sum())
    d = float(-(w * t).sum())
    return f, (f / d if d != 0 else math.inf)


def _solve(flows: np.ndarray, t: np.ndarray) -> float | None:
    lo, hi = _bracket(flows, t)
    if lo is None or hi is None:
        return None
    f_lo = _npv_sign_and_step(flows, t, lo)[0]
    x = (lo + hi) / 2
    for _ in range(200):
        f, step = _npv_sign_and_step(flows, t, x)
        if f == 0:
            return x
        if (f > 0) == (f_lo > 0):
            lo, f_lo = x, f
        else:
            hi = x
        nxt = x - step
        if not (lo < nxt < hi) or not math.isfinite(nxt):
            nxt = (lo + hi) / 2
        if abs(nxt - x) < 1e-12 or hi - lo < 1e-12:
            return nxt
        x = nxt
    return x


def _bracket(flows: np.ndarray, t: np.ndarray) -> tuple[float | None, float | None]:
    """An interval of x with a sign change of f, searched from 0 outwards."""
    grid = [0.0]
    step = 0.05
    while step < 20:
        grid = [-step, *grid, step]
        step *= 1.6
    grid = [min(max(g, _MIN_X), _MAX_X) for g in grid]
    xs = sorted(set(grid), key=abs)
    signs = {x: _npv_sign_and_step(flows, t, x)[0] for x in xs}
    ordered = sorted(signs)
    best: tuple[float, float] | None = None
    for a, b in itertools.pairwise(ordered):
        if signs[a] == 0:
            return a, a
        closer = best is None or min(abs(a), abs(b)) < min(abs(best[0]), abs(best[1]))
        if (signs[a] > 0) != (signs[b] > 0) and closer:
            best = (a, b)
    return best if best is not None else (None, None)


def _round(x: float) -> float:
    """10 significant digits; below 1e-12 is float noise (a flat period), shown as 0."""
    if abs(x) < 1e-12:
        return 0.0
    if not math.isfinite(x):
        return x
    return float(f"{x:.10g}")
