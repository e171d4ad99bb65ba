"""A year of daily prices is backfilled for new assets, batched, and resumes after failures."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine

from app.domain.balances import AssetInfo, Balance
from app.domain.ids import AccountId, AssetId
from app.prices.backfill import DAY, GIVE_UP_AFTER, Backfiller
from app.prices.coingecko import CoinGeckoSource
from app.prices.defillama import DefiLlamaSource
from app.services.prices import PriceService
from app.storage.price_store import SqlBackfillStore, SqlPriceStore
from tests.integration.prices.fakes import FakeCoinGecko, FakeDefiLlama, serve

pytestmark = pytest.mark.integration

NOW = 1_800_000_000
ETH = AssetId.parse("eip155:1/slip44:60")
TOKEN = AssetId.parse("eip155:1/erc20:0x0000000000000000000000000000000000000001")
UNKNOWN = AssetId.parse("eip155:999999/erc20:0x0000000000000000000000000000000000000002")
WALLET = AccountId.parse("eip155:1:0x00000000219ab540356cBB839Cbe05303d7705Fa")


def test_backfill_one_year_resumable_and_revalued_in_other_currency(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(
            prices={"coingecko:ethereum": 3000, f"ethereum:{TOKEN.asset_reference}": 2}
        )
        cg = FakeCoinGecko()
        history = SqlBackfillStore(engine)
        async with (
            serve(llama) as lurl,
            serve(cg, "/api/v3") as curl,
            httpx.AsyncClient(timeout=2) as http,
        ):
            svc = PriceService(
                SqlPriceStore(engine),
                [DefiLlamaSource(http, lurl)],
                rates=CoinGeckoSource(http, curl, curl, per_minute=6000),
                clock=lambda: NOW,
                history=history,
            )
            balances = [
                Balance(WALLET, AssetInfo(a, "T", "T", 0), 1) for a in (ETH, TOKEN, UNKNOWN)
            ]
            llama.script = []
            await svc.value(balances, "USD")
            # Only assets priced today are queued: UNKNOWN has no price, nothing to fetch.
            assert {a for a, _, _ in history.pending(10)} == {str(ETH), str(TOKEN)}
            llama.script = ["500", "500", "500"]  # the first backfill attempt fails (3 tries)
            first = Backfiller(http, lurl, history, per_minute=6000, clock=lambda: NOW)
            assert await first.run_once() == 2
            # failure recorded, jobs still pending
            assert {(a, n) for a, _, n in history.pending(10)} == {
                (str(ETH), 1),
                (str(TOKEN), 1),
            }
            # "restart": a new backfiller resumes from the table
            again = Backfiller(http, lurl, history, per_minute=6000, clock=lambda: NOW)
            await again.run_until_idle()
            assert history.pending(10) == []
            chart_calls = [e for e in llama.log if e.path.startswith("/chart/")]
            assert len(chart_calls) == 3 + 1  # 3 failed tries, then one batched request
            assert chart_calls[-1].query["period"] == "1d"
            points = history.history(str(ETH))
            assert len(points) == 366 and all(ts % DAY == 0 for ts, _ in points)
            assert points[-1] == (NOW - NOW % DAY, Decimal(3000))
            eur = await svc.history(str(ETH), "EUR")
            assert eur[0][1] == Decimal(3000) * Decimal("61640.0") / Decimal("67000.0")
            # seen again: not queued again
            await svc.value(balances, "USD")
            assert history.pending(10) == []

    asyncio.run(run())


def test_backfill_gives_up_after_repeated_failures(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(script=["500"] * 3 * GIVE_UP_AFTER)
        history = SqlBackfillStore(engine)
        history.enqueue([str(ETH)], NOW)
        async with serve(llama) as lurl, httpx.AsyncClient(timeout=2) as http:
            await Backfiller(
                http, lurl, history, per_minute=6000, clock=lambda: NOW
            ).run_until_idle()
        assert history.pending(10) == []
        assert history.history(str(ETH)) == []

    asyncio.run(run())


def test_coingecko_history_fills_what_defillama_lacks(engine: Engine) -> None:
    async def run() -> None:
        btc = "eip155:1/erc20:0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"
        llama = FakeDefiLlama()  # knows nothing
        cg = FakeCoinGecko(prices={"bitcoin": 67000})
        history = SqlBackfillStore(engine)
        history.enqueue([btc], NOW)
        async with (
            serve(llama) as lurl,
            serve(cg, "/api/v3") as curl,
            httpx.AsyncClient(timeout=2) as http,
        ):
            source = CoinGeckoSource(http, curl, curl, per_minute=6000)
            backfiller = Backfiller(
                http,
                lurl,
                history,
                per_minute=6000,
                clock=lambda: NOW,
                price_ids=lambda _a: "coingecko:bitcoin",
                coingecko=source,
            )
            await backfiller.run_until_idle()
        points = history.history(btc)
        assert len(points) == 366 and {p for _, p in points} == {Decimal(67000)}
        assert [e.path for e in cg.log] == ["/api/v3/coins/bitcoin/market_chart/range"]

    asyncio.run(run())
