"""Price a list of balances: overrides, then fresh cache, then the sources, then stale cache.

Everything is fetched and cached in US dollars and converted with one FX table, so changing the
display currency re-values holdings (and history) without refetching balances or prices.

Depends only on the domain and on the ports below (:class:`PriceCache`, :class:`PriceHistory`,
:class:`RateSource`) and :class:`~app.domain.ports.PriceSource`; the SQL stores and the HTTP
sources are wired in by ``app.prices.factory``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from app.domain.balances import Balance
from app.domain.errors import ChainfolioError
from app.domain.fx_days import DayRates
from app.domain.ids import AssetId
from app.domain.ports import PriceSource
from app.domain.price_routing import route
from app.domain.text import clean_text
from app.domain.valuation import (
    USD,
    PricedAsset,
    Quote,
    RefusedPrice,
    convert,
    exact_mul,
    exact_sum,
    holding_value,
    optional_text,
)


class RateSource(Protocol):
    async def usd_rates(self) -> dict[str, Decimal]: ...


class PriceCache(Protocol):
    """Cached quotes (US dollars), FX rates and manual overrides (SqlPriceStore)."""

    def cached(self, asset_ids: Iterable[str], currency: str = USD) -> dict[str, Quote]: ...

    def save(self, quotes: Iterable[Quote]) -> None: ...

    def overrides(self) -> dict[str, tuple[Decimal, str]]: ...

    def save_rates(self, rates: Mapping[str, Decimal], source: str, now: int) -> None: ...

    def rate(self, code: str) -> Quote | None: ...


class PriceHistory(Protocol):
    """Daily US dollar prices and the backfill queue (SqlBackfillStore)."""

    def enqueue(self, asset_ids: Iterable[str], now: int) -> int: ...

    def history(self, asset_id: str, since: int = 0) -> list[tuple[int, Decimal]]: ...


@dataclass(frozen=True, slots=True)
class PriceResult:
    asset_id: str
    price: Decimal | None  # in the requested currency
    source: str | None  # coingecko | defillama | manual | None when unpriced
    age_seconds: int | None
    stale: bool


@dataclass(frozen=True, slots=True)
class HoldingValue:
    wallet: str
    asset_id: str
    symbol: str
    amount: Decimal
    price: Decimal | None
    value: Decimal | None
    source: str | None
    age_seconds: int | None
    stale: bool

    def to_json(self) -> dict[str, object]:
        """Decimals as strings so no precision is lost in JSON."""
        return {
            "wallet": self.wallet,
            "asset": self.asset_id,
            "symbol": self.symbol,
            "amount": optional_text(self.amount),
            "price": optional_text(self.price),
            "value": optional_text(self.value),
            "price_source": self.source,
            "price_age_seconds": self.age_seconds,
            "price_stale": self.stale,
        }


@dataclass(frozen=True, slots=True)
class Valuation:
    currency: str
    holdings: tuple[HoldingValue, ...]
    total: Decimal
    requests: dict[str, int] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "currency": self.currency,
            "total": optional_text(self.total),
            "holdings": [h.to_json() for h in self.holdings],
            "price_requests": self.requests,
            "price_errors": list(self.errors),
        }


@dataclass(frozen=True, slots=True)
class Quotes:
    """One price per asset of a list of balances (what a refresh needs: the snapshot values
    each holding once, from these), the requests made and what went wrong."""

    currency: str
    quotes: tuple[PriceResult, ...]
    requests: dict[str, int] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    # How each asset was asked for (its price id and what it is valued through): a later
    # quote reuses a price only for an asset asked for the same way.
    asked: dict[str, tuple[str | None, tuple[str, Decimal] | None]] = field(default_factory=dict)


class CurrencyUnavailableError(ChainfolioError):
    pass


class PriceService:
    def __init__(
        self,
        store: PriceCache,
        sources: Sequence[PriceSource],
        *,
        rates: RateSource | None = None,
        ttl_seconds: int = 300,
        clock: Callable[[], float] = time.time,
        history: PriceHistory | None = None,
    ) -> None:
        self._store = store
        self._history = history
        self._sources = list(sources)
        self._rates = rates
        self._ttl = ttl_seconds
        self._clock = clock

    async def usd_rate(self, currency: str, errors: list[str]) -> Decimal:
        """Units of ``currency`` per US dollar: cached within the TTL, else fetched, else stale."""
        currency = currency.upper()
        if currency == USD:
            return Decimal(1)
        now = int(self._clock())
        cached = await asyncio.to_thread(self._store.rate, currency)  # never SQL on the loop
        if cached and now - cached.fetched_at <= self._ttl:
            return cached.price
        if self._rates is not None:
            try:
                fetched = await self._rates.usd_rates()
            except Exception as exc:  # network trouble of any kind falls back to the cache
                errors.append(f"exchange rates: {exc}")
            else:
                await asyncio.to_thread(self._store.save_rates, fetched, "coingecko", now)
                if currency in fetched:
                    return fetched[currency]
                errors.append(f"exchange rates: no usable rate for {currency} was sent")
        if cached:
            return cached.price
        raise CurrencyUnavailableError(
            f"No exchange rate for {currency} is available yet; try again when online."
        )

    async def prices(
        self,
        assets: Sequence[PricedAsset],
        currency: str = USD,
        names: Mapping[str, str] | None = None,
    ) -> tuple[dict[str, PriceResult], dict[str, int], list[str]]:
        """Prices in ``currency``, the requests made per source, and what went wrong in plain
        words: every quote refused as not believable is one line (``names``: asset id -> symbol,
        to name the asset the way the person knows it)."""
        now = int(self._clock())
        errors: list[str] = []
        rate = await self.usd_rate(currency, errors)
        unique = {str(a.asset_id): a for a in assets}
        results: dict[str, PriceResult] = {}
        overrides = await asyncio.to_thread(self._store.overrides)
        for asset_id, (price, cur) in overrides.items():
            if asset_id in unique:
                if cur.upper() != currency.upper():
                    price = convert(price, await self.usd_rate(cur, errors), rate)
                results[asset_id] = PriceResult(asset_id, price, "manual", None, False)
        cached = await asyncio.to_thread(
            self._store.cached, [a for a in unique if a not in results]
        )
        for asset_id, q in cached.items():
            if now - q.fetched_at <= self._ttl:
                results[asset_id] = self._result(q, rate, now, stale=False)
        todo = [a for k, a in unique.items() if k not in results]
        requests: dict[str, int] = {}
        if todo:
            routed = await route(self._sources, todo)
            requests = routed.requests
            errors.extend(routed.errors)
            errors.extend(_refusals(routed.refused, routed.prices, names or {}))
            fresh = [Quote(k, USD, p, s, now) for k, (p, s) in routed.prices.items()]
            await asyncio.to_thread(self._store.save, fresh)
            for q in fresh:
                results[q.asset_id] = self._result(q, rate, now, stale=False)
            for a in todo:
                key = str(a.asset_id)
                if key in results:
                    continue
                if key in cached:
                    results[key] = self._result(cached[key], rate, now, stale=True)
                else:
                    results[key] = PriceResult(key, None, None, None, False)
        return results, requests, errors

    @staticmethod
    def _result(q: Quote, rate: Decimal, now: int, *, stale: bool) -> PriceResult:
        price = q.price if rate == 1 else exact_mul(q.price, rate)
        return PriceResult(q.asset_id, price, q.source, max(0, now - q.fetched_at), stale)

    async def quote(
        self, balances: Sequence[Balance], currency: str = USD, known: Quotes | None = None
    ) -> Quotes:
        """A price for each asset of ``balances`` (10,000s of balances, a few hundred assets);
        assets seen for the first time are queued for a year of daily prices.

        ``known``: what an earlier quote in ``currency`` found moments ago (a refresh asks for
        the assets it held last time while the chains answer). Its assets are not asked for
        again, found or not, and its requests and errors are part of the answer."""
        infos = {id(b.asset): b.asset for b in balances}.values()  # shared per token
        assets = {str(a.asset_id): a for a in infos}
        asked = {k: (a.price_id, a.via) for k, a in assets.items()}
        earlier: dict[str, PriceResult] = {}
        reused: dict[str, PriceResult] = {}
        if known is not None and known.currency == currency.upper():
            earlier = {q.asset_id: q for q in known.quotes}
            reused = {
                k: q for k, q in earlier.items() if k in asked and known.asked.get(k) == asked[k]
            }
            if reused:
                assets = {k: a for k, a in assets.items() if k not in reused}
            if not assets:  # nothing new since: the earlier answer is the whole answer
                return Quotes(
                    known.currency, tuple(reused.values()), known.requests, known.errors, asked
                )
        # Valued through another asset (a liquid staking token at its pool's rate): that asset
        # is priced instead, unless the person set a price of their own for the token.
        derived = {k: a.via for k, a in assets.items() if a.via is not None}
        if derived:
            own = await asyncio.to_thread(self._store.overrides)
            derived = {k: v for k, v in derived.items() if k not in own}
        wanted = [
            PricedAsset(a.asset_id, a.price_id) for k, a in assets.items() if k not in derived
        ]
        unders = {u for u, _ in derived.values()} - assets.keys() - earlier.keys()
        for under in unders:
            wanted.append(PricedAsset(AssetId.parse(under)))
        priced, requests, errors = await self.prices(
            wanted, currency, {k: a.symbol for k, a in assets.items()}
        )
        for k, (under, units) in derived.items():
            base = priced.get(under) or earlier.get(under)
            priced[k] = (
                PriceResult(k, None, None, None, False)
                if base is None or base.price is None
                else PriceResult(
                    k,
                    exact_mul(base.price, units),
                    f"{base.source}+pool rate",
                    base.age_seconds,
                    base.stale,
                )
            )
        for under in unders:
            priced.pop(under, None)  # asked for only to value the tokens
        if self._history is not None:  # first sighting queues a year of daily prices
            # Only what has a price today and is not spam: a year of history is asked for
            # one asset at a time, and hundreds of worthless airdrops would hold up the rest.
            ids = sorted(
                k
                for k, a in assets.items()
                if not a.is_spam and (hit := priced.get(k)) is not None and hit.price is not None
            )
            if ids:
                await asyncio.to_thread(self._history.enqueue, ids, int(self._clock()))
        if known is not None and reused:
            priced.update(reused)
            requests = {
                k: requests.get(k, 0) + known.requests.get(k, 0)
                for k in requests.keys() | known.requests.keys()
            }
            errors = [*known.errors, *errors]
        return Quotes(currency.upper(), tuple(priced.values()), requests, tuple(errors), asked)

    async def value(self, balances: Sequence[Balance], currency: str = USD) -> Valuation:
        """Every balance valued (the prices command and tests; a refresh uses :meth:`quote`)."""
        quoted = await self.quote(balances, currency)
        priced = {q.asset_id: q for q in quoted.quotes}
        # Thousands of holdings take tens of milliseconds to value: off the event loop's thread.
        holdings = await asyncio.to_thread(_value_each, balances, priced)
        total = exact_sum(h.value for h in holdings if h.value is not None)
        return Valuation(quoted.currency, tuple(holdings), total, quoted.requests, quoted.errors)

    async def history(
        self, asset_id: str, currency: str = USD, since: int = 0
    ) -> list[tuple[int, Decimal]]:
        """Daily prices in ``currency``, derived from the stored USD history at the exchange
        rate of each day (the nearest earlier day's on a weekend; today's only for days older
        than every stored rate), so a currency change needs no refetch."""
        if self._history is None:
            return []
        history = self._history
        points = await asyncio.to_thread(history.history, asset_id, since)
        if currency.upper() == USD or not points:
            return points
        today = await self.usd_rate(currency, [])
        days = await asyncio.to_thread(history.history, f"fx:{currency.upper()}")
        rates = DayRates(lambda _code: days)
        out = []
        for ts, p in points:
            found = rates.usd_rate(currency, ts)
            out.append((ts, exact_mul(p, today if found is None else found.rate)))
        return out


def _refusals(
    refused: Sequence[RefusedPrice],
    used: Mapping[str, tuple[Decimal, str]],
    names: Mapping[str, str],
) -> list[str]:
    """One sentence per refused quote, naming the asset, the source, why, and what was used."""
    out = []
    for r in refused:
        name = clean_text(names[r.asset_id], 24) if names.get(r.asset_id) else None
        source = used.get(r.asset_id)
        out.append(r.describe(name, source[1] if source else None))
    return out


def _value_each(
    balances: Sequence[Balance], priced: Mapping[str, PriceResult]
) -> list[HoldingValue]:
    holdings: list[HoldingValue] = []
    for b in balances:
        p = priced[str(b.asset.asset_id)]
        holdings.append(
            HoldingValue(
                str(b.wallet),
                str(b.asset.asset_id),
                b.asset.symbol,
                b.amount,
                p.price,
                None if p.price is None else holding_value(b.amount, p.price),
                p.source,
                p.age_seconds,
                p.stale,
            )
        )
    return holdings
