"""Absurd prices from the price APIs are refused, and every refusal is reported in plain words."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine, insert

from app.domain.balances import AssetInfo, Balance
from app.domain.ids import AccountId, AssetId
from app.prices.coingecko import CoinGeckoSource
from app.prices.defillama import DefiLlamaSource
from app.services.prices import PriceService
from app.storage.price_store import SqlPriceStore
from app.storage.tables import prices
from tests.integration.prices.fakes import FakeCoinGecko, FakeDefiLlama, Raw, serve

pytestmark = pytest.mark.integration

WALLET = AccountId.parse("eip155:1:0x00000000219ab540356cBB839Cbe05303d7705Fa")
TOKENS = [f"0x{i:040x}" for i in range(1, 9)]
IDS = [AssetId.parse(f"eip155:1/erc20:{t}") for t in TOKENS]
ABSURD: list[object] = [
    "1e-999999999999999999",  # a string an API can send
    Raw("1e-999999999999999999"),  # the same as a bare JSON number (a float would read 0.0)
    Raw("1e999999"),  # a float would read inf
    "NaN",
    "Infinity",
    -3,
    "1." + "7" * 60,  # more digits than any real quote has
]


def test_absurd_prices_are_refused_and_each_one_reported(engine: Engine) -> None:
    async def run() -> None:
        quotes: dict[str, object] = {
            f"ethereum:{t}": p for t, p in zip(TOKENS[:7], ABSURD, strict=True)
        }
        quotes[f"ethereum:{TOKENS[7]}"] = Raw("2.50000000000000000000000000000000001")
        llama = FakeDefiLlama(prices=quotes)
        cg = FakeCoinGecko(prices={f"ethereum:{TOKENS[0]}": 7})  # fills one refused asset
        async with (
            serve(llama) as lurl,
            serve(cg, "/api/v3") as curl,
            httpx.AsyncClient(timeout=httpx.Timeout(2)) as http,
        ):
            store = SqlPriceStore(engine)
            svc = PriceService(
                store,
                [DefiLlamaSource(http, lurl), CoinGeckoSource(http, curl, curl, per_minute=6000)],
            )
            balances = [
                Balance(WALLET, AssetInfo(a, f"TK{i}", "Token", 18), 10**18)
                for i, a in enumerate(IDS)
            ]
            v = await svc.value(balances, "USD")
        by = {h.asset_id: h for h in v.holdings}
        assert by[str(IDS[0])].price == Decimal(7) and by[str(IDS[0])].source == "coingecko"
        for a in IDS[1:7]:
            assert by[str(a)].price is None and by[str(a)].value is None
        # a bare JSON number is read exactly, not through a float
        assert by[str(IDS[7])].price == Decimal("2.50000000000000000000000000000000001")
        assert v.total == Decimal("9.50000000000000000000000000000000001")
        refusals = [e for e in v.errors if "refused" in e]
        assert len(refusals) == 7, v.errors
        for i, a in enumerate(IDS[:7]):
            (line,) = [e for e in refusals if str(a) in e]
            assert "DefiLlama" in line and f"TK{i}" in line
            assert "Error" not in line and "http" not in line
        assert "CoinGecko" in next(e for e in refusals if str(IDS[0]) in e)  # what was used
        # nothing absurd went into the cache
        assert set(store.cached(str(a) for a in IDS)) == {str(IDS[0]), str(IDS[7])}

    asyncio.run(run())


def test_an_absurd_price_already_in_the_cache_is_never_used(engine: Engine) -> None:
    async def run() -> None:
        store = SqlPriceStore(engine)
        with engine.begin() as con:  # a row an older version wrote
            con.execute(
                insert(prices).values(
                    asset_id=str(IDS[0]), currency="USD", price="1e-999999999999999999",
                    source="defillama", fetched_at=1_000,
                )
            )  # fmt: skip
        assert store.cached([str(IDS[0])]) == {}
        svc = PriceService(store, [], clock=lambda: 1_100)
        results, _, _ = await svc.prices([_priced(IDS[0])])
        assert results[str(IDS[0])].price is None

    asyncio.run(run())


def _priced(asset: AssetId):  # type: ignore[no-untyped-def]
    from app.domain.valuation import PricedAsset

    return PricedAsset(asset)
