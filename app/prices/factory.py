"""Build the price service from settings (httpx is imported here, not at app start-up).

The adapter-side builder the composition root calls: it wires the HTTP sources and the SQL
stores into :class:`~app.services.prices.PriceService`, which knows only their ports. The
dependency runs one way: ``app.prices.factory`` -> ``app.services.prices`` -> ``app.domain``.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from app import net
from app.config import Settings
from app.domain.ports import PriceSource, SecretStore
from app.prices.backfill import Backfiller
from app.prices.coingecko import CoinGeckoSource
from app.prices.defillama import DefiLlamaSource
from app.prices.fx_history import FrankfurterSource
from app.prices.market_history import MarketHistory
from app.prices.stooq import StooqSource
from app.services.prices import PriceService
from app.storage.price_store import SqlBackfillStore, SqlMarketStore, SqlPriceStore


@dataclass
class PriceStack:
    service: PriceService
    backfiller: Backfiller
    client: httpx.AsyncClient
    market: MarketHistory | None = None  # the ledger's stock closes and daily exchange rates

    async def aclose(self) -> None:
        await self.client.aclose()


def build_price_service(
    engine: Engine, settings: Settings, secrets: SecretStore | None = None
) -> PriceStack:
    """One keep-alive AsyncClient shared by every source; call ``aclose`` when done."""
    timeout = float(settings.get("prices.timeout_seconds"))
    client = net.client(
        "prices",
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_keepalive_connections=8, max_connections=8),
        headers={"User-Agent": "Chainfolio"},
    )
    coingecko = CoinGeckoSource(
        client,
        settings.get("prices.coingecko.url"),
        settings.get("prices.coingecko.pro_url"),
        secrets,
        per_minute=settings.get("prices.coingecko.per_minute"),
    )
    available: dict[str, PriceSource] = {
        "coingecko": coingecko,
        "defillama": DefiLlamaSource(client, settings.get("prices.defillama.url")),
    }
    sources = [available[name] for name in settings.get("prices.order")]
    history = SqlBackfillStore(engine)
    service = PriceService(
        SqlPriceStore(engine),
        sources,
        rates=coingecko,
        ttl_seconds=settings.get("prices.ttl_seconds"),
        history=history,
    )
    backfiller = Backfiller(
        client,
        settings.get("prices.defillama.url"),
        history,
        coingecko=coingecko if "coingecko" in settings.get("prices.order") else None,
    )
    return PriceStack(
        service, backfiller, client, build_market_history(engine, settings, client, secrets)
    )


def build_market_history(
    engine: Engine,
    settings: Settings,
    client: httpx.AsyncClient,
    secrets: SecretStore | None = None,
) -> MarketHistory:
    """Stooq closes and ECB daily rates over ``client``, stored in the price tables."""
    return MarketHistory(
        StooqSource(client, settings.get("prices.stooq.url"), secrets),
        FrankfurterSource(client, settings.get("prices.fx_history.url")),
        SqlMarketStore(engine),
    )
