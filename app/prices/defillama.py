"""DefiLlama coins API (no key): ``/prices/current/{coins}`` with comma-separated coin keys.

Keys are ``ethereum:0x…`` / ``solana:<mint>`` or ``coingecko:<id>``; prices are USD.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import httpx

from app.domain.valuation import PriceAnswer, PricedAsset, RefusedPrice, check_price
from app.prices.http import FetchError, chunks, get_json, requests_of
from app.prices.mapping import price_keys

# The coin list goes in the URL path; ~100 keys keep it under common 8 KiB URL limits.
BATCH = 100


class DefiLlamaSource:
    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self._client = client
        self._base = base_url.rstrip("/")

    @property
    def name(self) -> str:
        return "defillama"

    async def current_usd(self, assets: Sequence[PricedAsset]) -> PriceAnswer:
        by_key: dict[str, list[str]] = {}
        for a in assets:
            key = price_keys(a.asset_id, a.price_id).defillama
            if key:
                by_key.setdefault(key, []).append(str(a.asset_id))
        prices: dict[str, object] = {}
        requests = 0
        error: str | None = None
        for batch in chunks(sorted(by_key), BATCH):
            try:
                body, made = await get_json(
                    self._client, f"{self._base}/prices/current/{','.join(batch)}"
                )
            except FetchError as exc:
                requests += requests_of(exc)
                error = f"DefiLlama {exc}"
                continue
            requests += made
            coins = body.get("coins") if isinstance(body, dict) else None
            if isinstance(coins, dict):
                for key, entry in coins.items():
                    if isinstance(entry, dict) and key in by_key:
                        prices[key] = entry.get("price")
        good: dict[str, Decimal] = {}
        rejected: list[RefusedPrice] = []
        for key, raw in prices.items():
            price, why = check_price(raw)
            for asset_id in by_key[key]:
                if price is None:
                    rejected.append(RefusedPrice(asset_id, self.name, why or "not a number"))
                else:
                    good[asset_id] = price
        return PriceAnswer(self.name, good, requests, error, tuple(rejected))

    async def aclose(self) -> None:
        return None
