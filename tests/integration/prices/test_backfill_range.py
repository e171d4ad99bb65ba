"""Daily prices of any past range (the on-chain history reaches back before the one-year
backfill): a year per request, many coins per request, stored like the backfill stores; a down
DefiLlama is a FetchError and stores nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine

from app.prices.backfill import DAY, Backfiller
from app.prices.http import FetchError
from app.storage.price_store import SqlBackfillStore
from tests.integration.prices.fakes import FakeDefiLlama, serve

pytestmark = pytest.mark.integration

ETH = "eip155:1/slip44:60"
TOKEN = "eip155:1/erc20:0x0000000000000000000000000000000000000001"
START = 1_500_000_000 - 1_500_000_000 % DAY  # 2017: years before any one-year backfill


def test_a_past_range_in_yearly_spans_stored_exactly(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(prices={"coingecko:ethereum": 300, "ethereum:" + TOKEN[-42:]: 2})
        store = SqlBackfillStore(engine)
        async with serve(llama) as url, httpx.AsyncClient(timeout=2) as http:
            backfiller = Backfiller(http, url, store, per_minute=6000)
            stored = await backfiller.fetch_range([ETH, TOKEN], START, START + 400 * DAY)
        charts = [e for e in llama.log if e.path.startswith("/chart/")]
        assert len(charts) == 2  # 401 days: two yearly spans, both coins in each
        assert [c.query["span"] for c in charts] == ["365", "36"]
        assert stored == 2 * 401
        eth = store.history(ETH)
        assert len(eth) == 401 and eth[0] == (START, Decimal(300))
        assert all(ts % DAY == 0 for ts, _p in eth)
        assert store.history(TOKEN)[-1] == (START + 400 * DAY, Decimal(2))

    asyncio.run(run())


def test_defillama_down_is_a_fetch_error_and_stores_nothing(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(prices={"coingecko:ethereum": 300})
        llama.script = ["500"] * 10
        store = SqlBackfillStore(engine)
        async with serve(llama) as url, httpx.AsyncClient(timeout=2) as http:
            with pytest.raises(FetchError):
                await Backfiller(http, url, store, per_minute=6000).fetch_range(
                    [ETH], START, START + DAY
                )
        assert store.history(ETH) == []

    asyncio.run(run())
