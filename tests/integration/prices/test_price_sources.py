"""Price sources against local servers speaking CoinGecko's and DefiLlama's real formats."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from app.config import Settings
from app.domain.balances import AssetInfo, Balance
from app.domain.ids import AccountId, AssetId
from app.prices.coingecko import CoinGeckoSource
from app.prices.defillama import DefiLlamaSource
from app.prices.factory import build_price_service
from app.services.prices import PriceService
from app.storage.price_store import SqlPriceStore
from tests.integration.prices.conftest import MemorySecrets
from tests.integration.prices.fakes import FakeCoinGecko, FakeDefiLlama, serve

pytestmark = pytest.mark.integration

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
DAI = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
ETH = AssetId.parse("eip155:1/slip44:60")
USDC_ID = AssetId.parse(f"eip155:1/erc20:{USDC}")
DAI_ID = AssetId.parse(f"eip155:1/erc20:{DAI}")
JUNK_ID = AssetId.parse("eip155:1/erc20:0x000000000000000000000000000000000000dEaD")
WALLET = AccountId.parse("eip155:1:0x00000000219ab540356cBB839Cbe05303d7705Fa")


def bal(asset: AssetId, raw: int, decimals: int = 18, price_id: str | None = None) -> Balance:
    return Balance(WALLET, AssetInfo(asset, "T", "Token", decimals, price_id=price_id), raw)


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(0.5))


class Clock:
    def __init__(self, now: float = 1_800_000_000) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_defillama_then_coingecko_fallback_and_cache(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(prices={"coingecko:ethereum": 3000.5, f"ethereum:{USDC.lower()}": 1})
        cg = FakeCoinGecko(prices={f"ethereum:{DAI.lower()}": 0.9998})
        async with serve(llama) as lurl, serve(cg, "/api/v3") as curl, client() as http:
            clock = Clock()
            svc = PriceService(
                SqlPriceStore(engine),
                [DefiLlamaSource(http, lurl), CoinGeckoSource(http, curl, curl, per_minute=6000)],
                ttl_seconds=300,
                clock=clock,
            )
            balances = [bal(ETH, 2 * 10**18), bal(USDC_ID, 1_500_000, 6), bal(DAI_ID, 10**18)]
            v = await svc.value(balances, "USD")
            by = {h.asset_id: h for h in v.holdings}
            assert by[str(ETH)].value == Decimal("6001.0")
            assert by[str(ETH)].source == "defillama"
            assert by[str(USDC_ID)].value == Decimal("1.5")
            assert by[str(DAI_ID)].source == "coingecko"
            assert v.total == Decimal("6001.0") + Decimal("1.5") + Decimal("0.9998")
            # one batched request per source
            assert v.requests == {"defillama": 1, "coingecko": 1}
            assert len(llama.log) == 1 and len(cg.log) == 1
            # within TTL: no request at all
            clock.now += 100
            v2 = await svc.value(balances, "USD")
            assert v2.requests == {} and len(llama.log) == 1
            assert {h.age_seconds for h in v2.holdings} == {100}
            # every source down after the TTL: last price, stale, with age
            llama.script = ["500"] * 3
            cg.script = ["500"] * 6  # two batched calls (ids, contracts), three tries each
            clock.now += 1000
            v3 = await svc.value(balances, "USD")
            assert all(h.stale and h.age_seconds == 1100 for h in v3.holdings)
            assert v3.total == v.total
            assert v3.errors

    asyncio.run(run())


def test_429_retry_after_5xx_and_timeout_are_retried(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(prices={"coingecko:ethereum": 3000}, script=["429", "500"])
        async with serve(llama) as lurl, client() as http:
            answer = await DefiLlamaSource(http, lurl).current_usd([PricedAssetOf(ETH)])
            assert answer.prices == {str(ETH): Decimal("3000")}
            assert answer.requests == 3 and answer.error is None
            llama.script = ["hang"]
            answer = await DefiLlamaSource(http, lurl).current_usd([PricedAssetOf(ETH)])
            assert answer.prices == {str(ETH): Decimal("3000")} and answer.requests == 2
            llama.script = ["hang", "hang", "hang"]
            answer = await DefiLlamaSource(http, lurl).current_usd([PricedAssetOf(ETH)])
            assert answer.prices == {} and answer.error and "timed out" in answer.error

    asyncio.run(run())


def PricedAssetOf(asset: AssetId, price_id: str | None = None):  # type: ignore[no-untyped-def]
    from app.domain.valuation import PricedAsset

    return PricedAsset(asset, price_id)


def test_partial_answers_and_absurd_values_rejected(engine: Engine) -> None:
    async def run() -> None:
        tokens = [f"0x{i:040x}" for i in range(1, 6)]
        llama = FakeDefiLlama(
            prices={
                f"ethereum:{tokens[0]}": float("nan"),
                f"ethereum:{tokens[1]}": -5,
                f"ethereum:{tokens[2]}": 1e30,
                f"ethereum:{tokens[3]}": 2.5,
                # tokens[4] missing: partial answer
            }
        )
        cg = FakeCoinGecko(
            prices={f"ethereum:{tokens[0]}": float("inf"), f"ethereum:{tokens[1]}": 7}
        )
        async with serve(llama) as lurl, serve(cg, "/api/v3") as curl, client() as http:
            svc = PriceService(
                SqlPriceStore(engine),
                [DefiLlamaSource(http, lurl), CoinGeckoSource(http, curl, curl, per_minute=6000)],
            )
            ids = [AssetId.parse(f"eip155:1/erc20:{t}") for t in tokens]
            results, _, _ = await svc.prices([PricedAssetOf(a) for a in ids])
            got = {k: (r.price, r.source) for k, r in results.items()}
            assert got[str(ids[0])] == (None, None)  # NaN and inf both refused
            assert got[str(ids[1])] == (Decimal("7"), "coingecko")  # negative refused, fallback
            assert got[str(ids[2])] == (None, None)  # 1e30 refused
            assert got[str(ids[3])] == (Decimal("2.5"), "defillama")
            assert got[str(ids[4])] == (None, None)
            # the token_price request carried every still-missing address in one call
            assert len(cg.log) == 1
            assert len(cg.log[0].query["contract_addresses"].split(",")) == 4

    asyncio.run(run())


def test_keys_only_go_to_their_host_and_never_into_logs(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    demo, pro = "CG-demo-key-1234567890", "CG-pro-key-0987654321"

    async def run() -> None:
        caplog.set_level(logging.DEBUG)
        llama = FakeDefiLlama(prices={"coingecko:ethereum": 3000})
        public = FakeCoinGecko(
            prices={"bitcoin": 67000}, required_header=("x-cg-demo-api-key", demo)
        )
        pro_api = FakeCoinGecko(
            prices={"bitcoin": 67001}, required_header=("x-cg-pro-api-key", pro)
        )
        async with (
            serve(llama) as lurl,
            serve(public, "/api/v3") as curl,
            serve(pro_api, "/api/v3") as purl,
            client() as http,
        ):
            btc = PricedAssetOf(ETH, "coingecko:bitcoin")
            demo_src = CoinGeckoSource(http, curl, purl, MemorySecrets({"coingecko.demo": demo}))
            assert (await demo_src.current_usd([btc])).prices[str(ETH)] == 67000
            both = MemorySecrets({"coingecko.demo": demo, "coingecko.pro": pro})
            pro_src = CoinGeckoSource(http, curl, purl, both)
            assert (await pro_src.current_usd([btc])).prices[str(ETH)] == 67001
            await DefiLlamaSource(http, lurl).current_usd([PricedAssetOf(ETH)])
        sent = lambda api: [h for entry in api.log for h in entry.headers.values()]  # noqa: E731
        assert demo in sent(public) and pro not in sent(public)
        assert pro in sent(pro_api) and demo not in sent(pro_api)
        assert demo not in sent(llama) and pro not in sent(llama)
        for api in (public, pro_api, llama):
            for entry in api.log:
                assert demo not in str(entry.query) and pro not in str(entry.query)
                assert demo not in entry.path and pro not in entry.path
        assert demo not in caplog.text and pro not in caplog.text

    asyncio.run(run())
    from app.logging_setup import redact

    assert demo not in redact(f"key={demo}") and pro not in redact(f"key={pro}")


def test_currency_change_revalues_without_refetching_prices(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(prices={"coingecko:ethereum": 3350})
        cg = FakeCoinGecko()
        async with serve(llama) as lurl, serve(cg, "/api/v3") as curl, client() as http:
            rates = CoinGeckoSource(http, curl, curl, per_minute=6000)
            svc = PriceService(
                SqlPriceStore(engine), [DefiLlamaSource(http, lurl)], rates=rates, clock=Clock()
            )
            usd = await svc.value([bal(ETH, 10**18)], "USD")
            eur = await svc.value([bal(ETH, 10**18)], "EUR")
            chf = await svc.value([bal(ETH, 10**18)], "CHF")
            assert usd.total == Decimal("3350")
            assert eur.total == Decimal("3350") * Decimal("61640.0") / Decimal("67000.0")
            assert chf.total == Decimal("3350") * Decimal("59630.0") / Decimal("67000.0")
            assert len(llama.log) == 1  # prices fetched once, in USD
            assert len(cg.log) == 1  # one FX table, reused for CHF from the cache

    asyncio.run(run())


def test_manual_override_wins_and_is_shown_as_manual(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(prices={f"ethereum:{USDC.lower()}": 1})
        store = SqlPriceStore(engine)
        store.set_override(str(USDC_ID), Decimal("0.5"), "USD", 1)
        async with serve(llama) as lurl, client() as http:
            svc = PriceService(store, [DefiLlamaSource(http, lurl)])
            v = await svc.value([bal(USDC_ID, 4_000_000, 6)], "USD")
            assert v.holdings[0].source == "manual" and v.total == Decimal("2.0")
            assert llama.log == []
            assert store.remove_override(str(USDC_ID))
            v = await svc.value([bal(USDC_ID, 4_000_000, 6)], "USD")
            assert v.holdings[0].source == "defillama" and v.total == Decimal("4")

    asyncio.run(run())


def test_factory_uses_url_settings(engine: Engine, tmp_path: Path) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(prices={"coingecko:ethereum": 3000})
        async with serve(llama) as lurl:
            settings = Settings.load(tmp_path / "settings.toml")
            settings.set("prices.defillama.url", lurl)
            settings.set("prices.order", "defillama")
            stack = build_price_service(engine, settings, MemorySecrets())
            try:
                v = await stack.service.value([bal(ETH, 10**18)], "USD")
            finally:
                await stack.aclose()
            assert v.total == Decimal("3000") and len(llama.log) == 1

    asyncio.run(run())


def test_a_refresh_is_quoted_once_per_asset_not_per_holding(engine: Engine) -> None:
    """Thousands of balances of a few assets: one price each, and one request per source."""

    async def run() -> None:
        llama = FakeDefiLlama(prices={"coingecko:ethereum": 3000, f"ethereum:{USDC.lower()}": 1})
        async with serve(llama) as lurl, client() as http:
            svc = PriceService(SqlPriceStore(engine), [DefiLlamaSource(http, lurl)])
            balances = [bal(ETH, 10**18 + n) for n in range(500)]
            balances += [bal(USDC_ID, 10**6 + n, 6) for n in range(500)]
            balances.append(bal(DAI_ID, 10**18))  # no source knows it
            quoted = await svc.quote(balances, "USD")
            assert sorted(q.asset_id for q in quoted.quotes) == sorted(
                {str(ETH), str(USDC_ID), str(DAI_ID)}
            )
            by = {q.asset_id: q for q in quoted.quotes}
            assert by[str(ETH)].price == Decimal(3000) and by[str(ETH)].source == "defillama"
            assert by[str(DAI_ID)].price is None and by[str(DAI_ID)].source is None
            assert quoted.requests == {"defillama": 1} and len(llama.log) == 1
            # value() prices from the same quotes and values every holding
            valued = await svc.value(balances, "USD")
            assert len(valued.holdings) == 1001
            assert valued.total == sum(
                (h.value for h in valued.holdings if h.value is not None), Decimal(0)
            )

    asyncio.run(run())
