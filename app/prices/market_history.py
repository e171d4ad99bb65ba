"""Keep the ledger's market history current: daily closes of stocks, ETFs and metals (Stooq)
and daily exchange rates (ECB via Frankfurter), stored per day.

First sight fetches a year (or back to the asset's first transaction, when that is earlier);
afterwards only the days after the newest stored one are asked for, and an asset checked in the
last :data:`RECHECK_SECONDS` is not asked again. A source that is down, or that sends something
not believable, leaves the stored history as it is and is named in plain words in
:attr:`MarketReport.errors`; nothing wrong is stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Protocol, TypeVar

from app.prices.fx_history import ECB_CURRENCIES, FrankfurterSource, FxHistoryError
from app.prices.fx_history import MAX_JUMP as FX_MAX_JUMP
from app.prices.stooq import MAX_JUMP as STOOQ_MAX_JUMP
from app.prices.stooq import (
    NotPriceable,
    StooqDataError,
    StooqSource,
    StooqUnavailable,
    StooqUnknownSymbol,
    symbol_for,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

DAY = 86_400
YEAR_DAYS = 365
RECHECK_SECONDS = 6 * 3600  # closes are daily: more often only costs the source's patience
UNKNOWN_RECHECK_SECONDS = 7 * DAY  # a symbol the source does not know: ask again in a week
OLDER_SLACK_DAYS = 7  # the first stored day may follow the first wanted by a closed stretch


class MarketStore(Protocol):
    """Where closes, daily rates and each asset's symbol and last fetch are kept
    (``app.storage.price_store.SqlMarketStore``, wired in by the factory)."""

    def save_daily(
        self, asset_id: str, currency: str, points: Iterable[tuple[int, Decimal]], source: str
    ) -> int: ...

    def span(self, asset_id: str, source: str) -> tuple[int, int] | None: ...

    def point_before(self, asset_id: str, ts: int, source: str) -> tuple[int, Decimal] | None: ...

    def symbol(self, asset_id: str) -> str | None: ...

    def status(self, asset_id: str) -> tuple[str | None, str, int | None]: ...

    def record(self, asset_id: str, status: str, message: str, now: int) -> None: ...


def fx_id(code: str) -> str:
    """The asset id under which a currency's daily rates are stored (as the live rates)."""
    return f"fx:{code.upper()}"


@dataclass
class MarketReport:
    stored: dict[str, int] = field(default_factory=dict)  # asset id or fx:CODE -> points stored
    up_to_date: list[str] = field(default_factory=list)
    not_priceable: dict[str, str] = field(default_factory=dict)  # asset id -> why, plainly
    errors: list[str] = field(default_factory=list)  # plain sentences

    def merge(self, other: MarketReport) -> None:
        self.stored.update(other.stored)
        self.up_to_date.extend(other.up_to_date)
        self.not_priceable.update(other.not_priceable)
        self.errors.extend(other.errors)


async def _db(fn: Callable[..., T], *args: object) -> T:
    """Storage off the event loop's thread (a refresh runs this in the window's loop)."""
    return await asyncio.to_thread(fn, *args)


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def _ts(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


class MarketHistory:
    def __init__(
        self,
        stooq: StooqSource,
        fx: FrankfurterSource,
        store: MarketStore,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._stooq = stooq
        self._fx = fx
        self._store = store
        self._clock = clock

    def _ranges(
        self, first: date, span: tuple[int, int] | None, today: date
    ) -> list[tuple[date, date]]:
        """What to ask for: everything from ``first`` when nothing is stored, else the days
        before the stored span (an older transaction) and from its newest day on (asked again:
        it may have been fetched before that day's close)."""
        if span is None:
            return [(first, today)]
        out = []
        lo, hi = _day(span[0]), _day(span[1])
        if first < lo - timedelta(days=OLDER_SLACK_DAYS):  # not for a weekend or holiday
            out.append((first, lo - timedelta(days=1)))
        out.append((min(hi, today), today))
        return out

    async def update_assets(
        self, assets: Mapping[str, int | None], *, force: bool = False
    ) -> MarketReport:
        """Daily closes of each stock, ETF and metal: ``assets`` maps asset id -> its first
        transaction time (None: a year back)."""
        report = MarketReport()
        now = int(self._clock())
        today = _day(now)
        for asset_id, since in sorted(assets.items()):
            try:
                sym = symbol_for(asset_id, await _db(self._store.symbol, asset_id))
            except NotPriceable as exc:
                report.not_priceable[asset_id] = str(exc)
                continue
            status, _message, checked = await _db(self._store.status, asset_id)
            wait = UNKNOWN_RECHECK_SECONDS if status == "unknown" else RECHECK_SECONDS
            if not force and checked is not None and now - checked < wait and status != "failed":
                report.up_to_date.append(asset_id)
                continue
            first = today - timedelta(days=YEAR_DAYS)
            if since is not None:
                first = min(first, _day(since))
            ranges = self._ranges(first, await _db(self._store.span, asset_id, "stooq"), today)
            try:
                points = []
                for start, end in ranges:
                    points += await self._stooq.daily(sym, start, end, now)
            except StooqUnknownSymbol as exc:
                await _db(self._store.record, asset_id, "unknown", str(exc), now)
                report.errors.append(f"{asset_id}: {exc}")
                continue
            except (StooqDataError, StooqUnavailable) as exc:
                await _db(self._store.record, asset_id, "failed", str(exc), now)
                report.errors.append(f"{asset_id}: {exc}")
                if isinstance(exc, StooqUnavailable):
                    break  # the source is down or refusing: the other assets would fail too
                continue
            jump = await self._jump(asset_id, points, "stooq", STOOQ_MAX_JUMP)
            if jump:
                message = f"Stooq's new closes for {sym.symbol} {jump}: the answer was refused."
                await _db(self._store.record, asset_id, "failed", message, now)
                report.errors.append(f"{asset_id}: {message}")
                continue
            stored = await _db(self._store.save_daily, asset_id, sym.currency, points, "stooq")
            await _db(self._store.record, asset_id, "ok", "", now)
            if stored:
                report.stored[asset_id] = stored
        return report

    async def _jump(
        self, asset_id: str, points: list[tuple[int, Decimal]], source: str, limit: int
    ) -> str | None:
        """How new points fail to continue the stored history (the newest stored point before
        them, more than ``limit`` times away), or None."""
        if not points:
            return None
        before = await _db(self._store.point_before, asset_id, points[0][0], source)
        if before is None:
            return None
        (d1, p1), (d2, p2) = before, points[0]
        if p2 > p1 * limit or p1 > p2 * limit:
            return (
                f"jump from the stored {p1} on {_day(d1)} to {p2} on {_day(d2)} (more than "
                f"{limit} times)"
            )
        return None

    async def update(
        self,
        assets: Mapping[str, int | None],
        currencies: Mapping[str, int | None],
        display: str,
        *,
        force: bool = False,
    ) -> MarketReport:
        """Closes of ``assets`` first, then the daily rates of every currency needed to value
        them and the transactions in ``display``, from the first time any of them is needed."""
        report = await self.update_assets(assets, force=force)
        firsts = [t for t in (*assets.values(), *currencies.values()) if t is not None]
        earliest = min(firsts) if firsts else None
        # Every pair is converted through the US dollar: each currency from the first day on.
        codes = {c.upper() for c in currencies} | {display.upper()}
        for asset_id in assets:
            try:
                codes.add(symbol_for(asset_id, await _db(self._store.symbol, asset_id)).currency)
            except NotPriceable:
                continue
        report.merge(await self.update_fx(dict.fromkeys(codes, earliest), force=force))
        return report

    async def update_fx(
        self, codes: Mapping[str, int | None], *, force: bool = False
    ) -> MarketReport:
        """Daily ECB rates of each currency (code -> first time it is needed; None: a year)."""
        report = MarketReport()
        now = int(self._clock())
        today = _day(now)
        wanted: dict[tuple[date, date], list[str]] = {}
        for code, since in sorted(codes.items()):
            code = code.upper()
            if code == "USD":
                continue
            if code not in ECB_CURRENCIES:
                report.not_priceable[fx_id(code)] = (
                    f"The ECB publishes no daily rate for {code}: its history is the rate "
                    "stored at each refresh."
                )
                continue
            first = today - timedelta(days=YEAR_DAYS)
            if since is not None:
                first = min(first, _day(since))
            _s, _m, checked = await _db(self._store.status, fx_id(code))
            if not force and checked is not None and now - checked < RECHECK_SECONDS:
                report.up_to_date.append(fx_id(code))
                continue
            ranges = self._ranges(first, await _db(self._store.span, fx_id(code), "ecb"), today)
            for r in ranges:
                wanted.setdefault(r, []).append(code)
        for (start, end), group in sorted(wanted.items()):
            try:
                got = await self._fx.usd_rates(group, start, end, now)
            except FxHistoryError as exc:
                report.errors.append(str(exc))
                break  # down or sending nonsense: the stored history stays as it is
            jumps = [
                f"{code} rates {jump}"
                for code, points in got.items()
                if (jump := await self._jump(fx_id(code), points, "ecb", FX_MAX_JUMP))
            ]
            if jumps:
                report.errors.append(
                    "The exchange-rate history (ECB, via Frankfurter) sent "
                    f"{'; '.join(jumps)}; nothing stored."
                )
                break
            for code, points in got.items():
                key = fx_id(code)
                n = await _db(self._store.save_daily, key, "USD", points, "ecb")
                if n:
                    report.stored[key] = report.stored.get(key, 0) + n
            for code in group:
                await _db(self._store.record, fx_id(code), "ok", "", now)
        return report
