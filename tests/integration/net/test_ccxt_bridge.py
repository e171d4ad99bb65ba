"""Exchange balances (real ccxt, a local fake exchange) through the one way out: recorded
request for request, refused under own-nodes-only before any connection."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from app import net
from app.domain.exchanges import Credentials, ExchangeError
from app.exchanges.ccxt_client import ExchangeClient
from app.net.policy import NetPolicy, host_of
from tests.support.fake_exchange import ExchangeWorld, running

pytestmark = pytest.mark.integration
KEY = Credentials("key-x", "secret-x")


@pytest.fixture
def routed() -> Iterator[net.Egress]:
    """ExchangeClient routes its ccxt object (app.net.ccxt_bridge.route) itself."""
    egress = net.Egress(recorder=net.Recorder(None, lambda: []))
    previous = net.install(egress)
    yield egress
    net.install(previous)


def balances(url: str) -> Any:
    async def go() -> Any:
        client = ExchangeClient("binance", KEY, api_url=url, timeout=5)
        try:
            return await client.balances()
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_exchange_requests_go_through_the_layer(routed: net.Egress) -> None:
    world = ExchangeWorld(spot={"BTC": ("0.5", "0.12345678")}, funding={"USDT": "25.5"})
    with running(world) as url:
        got = balances(url)
    amounts = {(b.code, b.part): b.amount for b in got}
    assert amounts[("BTC", "spot")] == Decimal("0.62345678")
    assert amounts[("USDT", "funding")] == Decimal("25.5")
    assert routed.recorder is not None
    contacts = routed.recorder.flush()
    assert {c.host for c in contacts} == {host_of(url)} and {c.purpose for c in contacts} == {
        "exchange"
    }
    assert len(contacts) == len(world.requests) > 0


def test_own_nodes_only_refuses_the_exchange(routed: net.Egress) -> None:
    world = ExchangeWorld(spot={"BTC": ("1", "0")})
    with running(world) as url:
        routed.policy = NetPolicy(own_nodes_only=True)
        with pytest.raises(ExchangeError):
            balances(url)
    assert world.requests == []
    assert routed.recorder is not None
    assert all(c.refused for c in routed.recorder.flush())
