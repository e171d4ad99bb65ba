"""Prices asked for early (while a refresh's chains answer) are handed to the pricing after the
read: against a local DefiLlama-format server, what is asked for and what comes back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from app.prices.defillama import DefiLlamaSource
from app.services.prices import PriceService
from app.storage.price_store import SqlPriceStore
from tests.integration.prices.fakes import FakeDefiLlama, serve
from tests.integration.prices.test_price_sources import (
    DAI,
    DAI_ID,
    ETH,
    USDC,
    USDC_ID,
    Clock,
    bal,
    client,
)

pytestmark = pytest.mark.integration

PRICES = {"coingecko:ethereum": 3000, f"ethereum:{USDC.lower()}": 1, f"ethereum:{DAI.lower()}": 1}


@asynccontextmanager
async def pricing(
    engine: Engine, ttl_seconds: int, prices: dict[str, Any] = PRICES
) -> AsyncIterator[tuple[PriceService, FakeDefiLlama, Clock]]:
    """The price service on the real store, asking a local DefiLlama-format server, on a clock
    the test moves."""
    llama = FakeDefiLlama(prices=prices)
    async with serve(llama) as lurl, client() as http:
        clock = Clock()
        source = DefiLlamaSource(http, lurl)
        yield (
            PriceService(SqlPriceStore(engine), [source], ttl_seconds=ttl_seconds, clock=clock),
            llama,
            clock,
        )


def asked_coins(llama: FakeDefiLlama) -> list[set[str]]:
    """The coins of each request: ``/prices/current/a,b,c``."""
    return [set(e.path.rsplit("/", 1)[1].split(",")) for e in llama.log]


def test_assets_priced_early_are_not_asked_for_again(engine: Engine) -> None:
    async def run() -> None:
        # A price is reused for a second only: without the early answer, every asset would be
        # asked for again after the read.
        async with pricing(engine, 1) as (svc, llama, clock):
            early = await svc.quote([bal(ETH, 10**18), bal(USDC_ID, 10**6, 6)], "USD")
            clock.now += 5
            later = await svc.quote(
                [bal(ETH, 2 * 10**18), bal(USDC_ID, 10**6, 6), bal(DAI_ID, 10**18)], "USD", early
            )
            assert asked_coins(llama) == [
                {"coingecko:ethereum", f"ethereum:{USDC.lower()}"},
                {f"ethereum:{DAI.lower()}"},  # only what is new since
            ]
            by = {q.asset_id: q for q in later.quotes}
            assert set(by) == {str(ETH), str(USDC_ID), str(DAI_ID)}
            assert by[str(ETH)].price == Decimal(3000) and by[str(DAI_ID)].price == Decimal(1)
            assert later.requests == {"defillama": 2}  # both requests are this refresh's

            # Nothing new: the early answer is the whole answer, no request at all.
            again = await svc.quote([bal(USDC_ID, 10**6, 6)], "USD", early)
            assert len(llama.log) == 2
            assert [(q.asset_id, q.price) for q in again.quotes] == [(str(USDC_ID), Decimal(1))]

    asyncio.run(run())


def test_an_asset_asked_for_another_way_is_asked_for_again(engine: Engine) -> None:
    """A price id given to a token between the early request and the read (the person mapped
    it) or another currency: the early answer does not stand for it."""

    async def run() -> None:
        async with pricing(engine, 1, {**PRICES, "coingecko:usd-coin": 1}) as (svc, llama, clock):
            early = await svc.quote([bal(USDC_ID, 10**6, 6)], "USD")
            clock.now += 5
            mapped = bal(USDC_ID, 10**6, 6, price_id="coingecko:usd-coin")
            later = await svc.quote([mapped], "USD", early)
            assert asked_coins(llama) == [{f"ethereum:{USDC.lower()}"}, {"coingecko:usd-coin"}]
            assert [q.price for q in later.quotes] == [Decimal(1)]
            # An answer in another currency does not stand for this one.
            clock.now += 5
            await svc.quote([bal(USDC_ID, 10**6, 6)], "USD", replace(early, currency="EUR"))
            assert asked_coins(llama)[2:] == [{f"ethereum:{USDC.lower()}"}]

    asyncio.run(run())


def test_sources_down_early_are_not_asked_again_after_the_read(engine: Engine) -> None:
    """Every price source failing while the chains answer: the pricing after the read does
    not ask again (no second round of timeouts or refusals); the last prices are used, marked
    stale, and the trouble is reported once."""

    async def run() -> None:
        async with pricing(engine, 60) as (svc, llama, clock):
            await svc.quote([bal(ETH, 10**18)], "USD")  # an earlier refresh's price
            clock.now += 900
            llama.script = ["500"] * 20
            early = await svc.quote([bal(ETH, 10**18)], "USD")
            asked = len(llama.log)
            assert asked > 1 and early.errors
            clock.now += 2
            later = await svc.quote([bal(ETH, 3 * 10**18)], "USD", early)
            assert len(llama.log) == asked  # not asked again
            (quote,) = later.quotes
            assert quote.price == Decimal(3000) and quote.stale
            assert quote.age_seconds == 900
            assert later.errors == early.errors

    asyncio.run(run())
