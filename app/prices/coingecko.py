"""CoinGecko: ``simple/price`` (coin ids), ``simple/token_price/{platform}`` (contracts), and
``exchange_rates`` (fiat conversion), paced to the free tier.

Keys: a Pro key goes only to the Pro host in ``x-cg-pro-api-key``; otherwise a Demo key goes only
to the public host in ``x-cg-demo-api-key``; otherwise keyless. Keys are registered with the log
redactor as soon as they are read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

import httpx

from app.domain.errors import ChainfolioError
from app.domain.ports import SecretStore
from app.domain.valuation import PriceAnswer, PricedAsset, RefusedPrice, check_price, parse_price
from app.logging_setup import register_secret
from app.prices.http import FetchError, Pacer, chunks, get_json, requests_of
from app.prices.mapping import PriceKeys, price_keys

log = logging.getLogger(__name__)

ID_BATCH = 250
CONTRACT_BATCH = 100


def _read_key(secrets: SecretStore | None, name: str) -> str | None:
    """A key the keyring cannot give (locked, dismissed prompt) means keyless, not a failure."""
    if secrets is None:
        return None
    try:
        return secrets.get(name)
    except ChainfolioError as exc:
        log.warning("CoinGecko key %s unavailable, continuing without it: %s", name, exc)
        return None


class CoinGeckoSource:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        pro_url: str,
        secrets: SecretStore | None = None,
        per_minute: int = 30,
    ) -> None:
        self._client = client
        self._pacer = Pacer(per_minute)
        pro = _read_key(secrets, "coingecko.pro")
        demo = _read_key(secrets, "coingecko.demo")
        for key in (pro, demo):
            if key:
                register_secret(key)
        if pro:
            self._base = pro_url.rstrip("/")
            self._headers = {"x-cg-pro-api-key": pro}
        elif demo:
            self._base = base_url.rstrip("/")
            self._headers = {"x-cg-demo-api-key": demo}
        else:
            self._base = base_url.rstrip("/")
            self._headers = {}

    @property
    def name(self) -> str:
        return "coingecko"

    async def _get(self, path: str, params: dict[str, str]) -> tuple[object, int]:
        return await get_json(
            self._client,
            f"{self._base}{path}",
            params=params,
            headers=self._headers,
            pacer=self._pacer,
        )

    async def current_usd(self, assets: Sequence[PricedAsset]) -> PriceAnswer:
        by_id: dict[str, list[str]] = {}
        by_platform: dict[str, dict[str, list[str]]] = {}
        for a in assets:
            keys = price_keys(a.asset_id, a.price_id)
            if keys.coingecko_id:
                by_id.setdefault(keys.coingecko_id, []).append(str(a.asset_id))
            elif keys.coingecko_platform and keys.contract:
                contracts = by_platform.setdefault(keys.coingecko_platform, {})
                contracts.setdefault(keys.contract, []).append(str(a.asset_id))
        good: dict[str, Decimal] = {}
        rejected: list[RefusedPrice] = []
        requests = 0
        error: str | None = None

        def take(body: object, wanted: dict[str, list[str]], lower: bool) -> None:
            if not isinstance(body, dict):
                return
            for key, entry in body.items():
                key = key.lower() if lower else key
                if key not in wanted or not isinstance(entry, dict):
                    continue
                price, why = check_price(entry.get("usd"))
                for asset_id in wanted[key]:
                    if price is None:
                        rejected.append(RefusedPrice(asset_id, self.name, why or "not a number"))
                    else:
                        good[asset_id] = price

        jobs: list[tuple[str, dict[str, str], dict[str, list[str]], bool]] = []
        for batch in chunks(sorted(by_id), ID_BATCH):
            params = {"ids": ",".join(batch), "vs_currencies": "usd"}
            jobs.append(("/simple/price", params, by_id, False))
        for platform, contracts in sorted(by_platform.items()):
            for batch in chunks(sorted(contracts), CONTRACT_BATCH):
                params = {"contract_addresses": ",".join(batch), "vs_currencies": "usd"}
                jobs.append((f"/simple/token_price/{platform}", params, contracts, True))
        for path, params, wanted, lower in jobs:
            try:
                body, made = await self._get(path, params)
            except FetchError as exc:
                requests += requests_of(exc)
                error = f"CoinGecko {exc}"
                continue
            requests += made
            take(body, wanted, lower)
        return PriceAnswer(self.name, good, requests, error, tuple(rejected))

    async def usd_rates(self) -> dict[str, Decimal]:
        """Units of each currency per 1 USD, from ``/exchange_rates`` (BTC-based table)."""
        body, _ = await self._get("/exchange_rates", {})
        rates = body.get("rates") if isinstance(body, dict) else None
        if not isinstance(rates, dict) or not isinstance(rates.get("usd"), dict):
            raise FetchError("CoinGecko exchange rates are missing the US dollar")
        usd = parse_price(rates["usd"].get("value"))
        if not usd:
            raise FetchError("CoinGecko exchange rates have an unusable US dollar rate")
        out: dict[str, Decimal] = {}
        for code, entry in rates.items():
            value = parse_price(entry.get("value")) if isinstance(entry, dict) else None
            if value:
                out[code.upper()] = value / usd
        return out

    async def daily_usd(self, keys: PriceKeys, start: int, end: int) -> list[tuple[int, Decimal]]:
        """Daily USD points from ``market_chart/range`` (``{"prices": [[ms, price], ..]}``).

        One request per asset (the API has no batch form), paced like every CoinGecko call.
        Raises FetchError; absurd points are dropped.
        """
        if keys.coingecko_id:
            path = f"/coins/{keys.coingecko_id}/market_chart/range"
        elif keys.coingecko_platform and keys.contract:
            path = f"/coins/{keys.coingecko_platform}/contract/{keys.contract}/market_chart/range"
        else:
            return []
        params = {"vs_currency": "usd", "from": str(start), "to": str(end)}
        body, _ = await self._get(path, params)
        points = body.get("prices") if isinstance(body, dict) else None
        out: dict[int, Decimal] = {}
        for point in points if isinstance(points, list) else []:
            if not (isinstance(point, list) and len(point) == 2 and isinstance(point[0], int)):
                continue
            price = parse_price(point[1])
            if price is not None:
                ts = point[0] // 1000
                out[ts - ts % 86400] = price
            else:
                log.info("price history: an unusable daily price from CoinGecko left out")
        return sorted(out.items())

    async def aclose(self) -> None:
        return None
