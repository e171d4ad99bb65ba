"""One year of daily prices for every newly seen asset, fetched in the background.

DefiLlama's ``/chart/{coins}?start=..&span=..&period=1d`` answers many coins in one request
(``{"coins": {"ethereum:0x..": {"prices": [{"timestamp": .., "price": ..}, ..]}}}``), so jobs are
taken in batches and paced. Progress is in ``backfill_jobs``: a restart resumes where it stopped.
History is kept in US dollars; other currencies are derived with the FX table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Protocol

import httpx

from app.domain.ids import AssetId
from app.domain.valuation import check_price
from app.prices.coingecko import CoinGeckoSource
from app.prices.http import FetchError, Pacer, get_json
from app.prices.mapping import PriceKeys, price_keys

log = logging.getLogger(__name__)

DAY = 86400
YEAR_DAYS = 365
BATCH = 25
GIVE_UP_AFTER = 5


class BackfillStore(Protocol):
    """Where the daily history and the jobs' progress are kept (SqlBackfillStore)."""

    def pending(self, limit: int) -> list[tuple[str, int | None, int]]: ...

    def finish(self, asset_id: str, done_until: int, now: int) -> None: ...

    def failed_attempt(
        self, asset_id: str, attempts: int, give_up_after: int, now: int
    ) -> None: ...

    def save_history(
        self, asset_id: str, points: Iterable[tuple[int, Decimal]], source: str
    ) -> None: ...


class Backfiller:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        store: BackfillStore,
        *,
        per_minute: int = 30,
        clock: Callable[[], float] = time.time,
        price_ids: Callable[[str], str | None] = lambda _asset: None,
        coingecko: CoinGeckoSource | None = None,
    ) -> None:
        self._coingecko = coingecko  # fallback for assets DefiLlama has no chart for
        self._client = client
        self._base = base_url.rstrip("/")
        self._store = store
        self._pacer = Pacer(per_minute)
        self._clock = clock
        self._price_ids = price_ids  # asset id -> token list price id ("coingecko:...")

    def _keys(self, asset_id: str) -> PriceKeys | None:
        try:
            asset = AssetId.parse(asset_id)
        except ValueError:
            return None
        return price_keys(asset, self._price_ids(asset_id))

    def _key(self, asset_id: str) -> str | None:
        keys = self._keys(asset_id)
        return keys.defillama if keys else None

    async def _fallback(self, asset_id: str, start: int, end: int) -> list[tuple[int, Decimal]]:
        keys = self._keys(asset_id)
        if self._coingecko is None or keys is None:
            return []
        try:
            return await self._coingecko.daily_usd(keys, start, end)
        except FetchError as exc:
            log.info("CoinGecko history unavailable for one asset: %s", exc)
            return []

    async def run_once(self) -> int:
        """Backfill one batch of pending jobs; returns how many jobs were taken (0: nothing to do)."""
        jobs = self._store.pending(BATCH)
        if not jobs:
            return 0
        now = int(self._clock())
        today = now - now % DAY
        by_key: dict[str, list[tuple[str, int]]] = {}
        for asset_id, _done_until, attempts in jobs:
            key = self._key(asset_id)
            if key is None:  # nothing can price it: no history to fetch
                self._store.finish(asset_id, today, now)
                continue
            by_key.setdefault(key, []).append((asset_id, attempts))
        if not by_key:
            return len(jobs)
        # Resuming jobs re-ask from a year ago too: rows already stored are kept (insert-or-ignore).
        start = today - YEAR_DAYS * DAY
        params = {"start": str(start), "span": str(YEAR_DAYS + 1), "period": "1d"}
        await self._pacer.wait()
        try:
            body, _ = await get_json(
                self._client, f"{self._base}/chart/{','.join(sorted(by_key))}", params=params
            )
        except FetchError as exc:
            log.info("price history backfill postponed: DefiLlama %s", exc)
            for items in by_key.values():
                for asset_id, attempts in items:
                    self._store.failed_attempt(asset_id, attempts + 1, GIVE_UP_AFTER, now)
            return len(jobs)
        coins = body.get("coins") if isinstance(body, dict) else None
        coins = coins if isinstance(coins, dict) else {}
        for key, items in by_key.items():
            points = _daily_points(coins.get(key))
            for asset_id, _attempts in items:
                source = "defillama"
                if not points:
                    points, source = await self._fallback(asset_id, start, now), "coingecko"
                self._store.save_history(asset_id, points, source)
                self._store.finish(asset_id, today, now)
        return len(jobs)

    async def fetch_range(self, asset_ids: Iterable[str], start: int, end: int) -> int:
        """Daily prices of ``asset_ids`` over [start, end] (any age: the on-chain history reaches
        back before the one-year backfill), in spans of a year, many coins per request, stored
        as the backfill stores them (rows already stored are kept). Returns the points stored;
        raises FetchError when DefiLlama cannot be reached (CoinGecko is the fallback for coins
        DefiLlama has no chart for)."""
        by_key: dict[str, list[str]] = {}
        for asset_id in sorted(set(asset_ids)):
            key = self._key(asset_id)
            if key is not None:
                by_key.setdefault(key, []).append(asset_id)
        if not by_key:
            return 0
        stored = 0
        day0 = start - start % DAY
        keys = sorted(by_key)
        for lo in range(day0, max(end, day0) + 1, YEAR_DAYS * DAY):
            span = min(YEAR_DAYS, (end - lo) // DAY + 1)
            params = {"start": str(lo), "span": str(span), "period": "1d"}
            for i in range(0, len(keys), BATCH):
                chunk = keys[i : i + BATCH]
                await self._pacer.wait()
                body, _ = await get_json(
                    self._client, f"{self._base}/chart/{','.join(chunk)}", params=params
                )
                coins = body.get("coins") if isinstance(body, dict) else None
                coins = coins if isinstance(coins, dict) else {}
                for key in chunk:
                    points = _daily_points(coins.get(key))
                    for asset_id in by_key[key]:
                        source = "defillama"
                        if not points:
                            found = await self._fallback(asset_id, lo, lo + span * DAY)
                            points, source = found, "coingecko"
                        self._store.save_history(asset_id, points, source)
                        stored += len(points)
        return stored

    async def run_until_idle(self, stop: asyncio.Event | None = None) -> None:
        """Work through every pending job (paced); meant to run as a background task."""
        while not (stop and stop.is_set()):
            if await self.run_once() == 0:
                return


def _daily_points(entry: object) -> list[tuple[int, Decimal]]:
    """Believable (day start, price) points; absurd prices are dropped, one point per day."""
    if not isinstance(entry, dict) or not isinstance(entry.get("prices"), list):
        return []
    out: dict[int, Decimal] = {}
    refused = 0
    for point in entry["prices"]:
        if not isinstance(point, dict) or not isinstance(point.get("timestamp"), int):
            continue
        price, _why = check_price(point.get("price"))
        if price is None:
            refused += 1
        else:
            ts = point["timestamp"]
            out[ts - ts % DAY] = price
    if refused:
        log.info("price history: %d unusable daily prices from DefiLlama left out", refused)
    return sorted(out.items())
